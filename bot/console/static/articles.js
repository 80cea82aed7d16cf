// Article editor: live preview and checks. The server renders the Markdown (raw HTML escaped) and runs
// the same checks as `helpdesk kb lint`; this only posts the form and shows the answer. No inline script (CSP).
(function () {
  "use strict";
  var form = document.getElementById("ar-form");
  if (!form) { return; }
  var preview = document.getElementById("ar-preview");
  var problems = document.getElementById("ar-problems");
  var timer = null;
  var seq = 0;

  function show(list) {
    while (problems.firstChild) { problems.removeChild(problems.firstChild); }
    if (!list.length) {
      var ok = document.createElement("li");
      ok.className = "ar-clean";
      ok.textContent = "No problems found.";
      problems.appendChild(ok);
      return;
    }
    list.forEach(function (p) {
      var li = document.createElement("li");
      li.className = "ar-" + p.kind;
      if (p.kind === "error") {
        var strong = document.createElement("strong");
        strong.textContent = "error";
        li.appendChild(strong);
        li.appendChild(document.createTextNode(" "));
      }
      li.appendChild(document.createTextNode(p.text));
      problems.appendChild(li);
    });
  }

  function refresh() {
    var mine = ++seq;
    var data = new URLSearchParams(new FormData(form));
    data.delete("action");
    var token = form.querySelector("input[name=csrf_token]").value;
    fetch(form.getAttribute("data-preview"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": token, "Accept": "application/json" }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (answer) {
      if (!answer || mine !== seq) { return; }
      preview.innerHTML = answer.html;  // rendered by the server with raw HTML disabled
      show(answer.problems || []);
      form.setAttribute("data-checked", String(mine));
    }).catch(function () { /* the Check button still works without this */ });
  }

  form.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 350);
  });
})();
