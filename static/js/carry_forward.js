// A renewal's roll-forward of last year's enrollments (a Celery job): poll its progress while it
// runs and reload when it has finished. No inline script (Content-Security-Policy).
(function () {
  "use strict";

  function poll(box) {
    fetch(box.getAttribute("data-url"), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (p) {
        var bar = box.querySelector("progress");
        if (bar) bar.value = p.percent;
        box.querySelectorAll("[data-field]").forEach(function (el) {
          var key = el.getAttribute("data-field");
          if (key in p) el.textContent = p[key];
        });
        if (p.finished) window.location.reload();
        else setTimeout(function () { poll(box); }, 1500);
      })
      .catch(function () { setTimeout(function () { poll(box); }, 5000); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("carry-forward-progress");
    if (box && box.getAttribute("data-finished") === "0") setTimeout(function () { poll(box); }, 1000);
  });
})();
