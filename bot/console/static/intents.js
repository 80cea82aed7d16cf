// Intents page: while a retraining runs, poll its JSON status and move the progress bar; reload when it ends.
// (No inline scripts: CSP script-src 'self'. Without JS, a <noscript> meta refresh does the same.)
(function () {
  "use strict";
  var box = document.getElementById("retrain");
  if (!box || box.getAttribute("data-state") !== "running") { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("retrain-progress");
  var label = document.getElementById("retrain-label");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        if (s.state !== "running") { window.location.reload(); return; }
        if (bar) { bar.value = s.percent; bar.textContent = s.percent + " %"; }
        if (label) { label.textContent = s.phase + (s.step ? ": " + s.step : "") + " — " + s.percent + " %"; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 700);
})();
