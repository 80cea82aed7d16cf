// Helpdesk console: small progressive enhancements (no inline scripts; CSP script-src 'self').
// - <form data-confirm="Really?">: asks before submitting.
// - fetch() callers: read the CSRF token from <meta name="csrf-token"> or a form's csrf_token field
//   and send it as the X-CSRF-Token header.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  window.helpdeskConsole = {
    csrfToken: function () {
      var meta = document.querySelector("meta[name=csrf-token]");
      var field = document.querySelector("input[name=csrf_token]");
      return meta ? meta.getAttribute("content") : (field ? field.value : "");
    }
  };
})();
