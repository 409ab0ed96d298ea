// Site-wide behaviour without inline event handlers (the Content-Security-Policy allows no
// inline script but a nonce'd one): a <select data-autosubmit> submits its form on change.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.submit();
});

// A background job's progress box (<… data-job-progress data-url="…" data-finished="0">): poll
// its JSON ({percent, finished, and the fields named by [data-field] children}) while the job
// runs, and reload the page once it has finished. Used by the renewal simulation (测算) and the
// roll-forward of enrollments.
(function () {
  function poll(box) {
    fetch(box.getAttribute("data-url"), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((r) => r.json())
      .then((p) => {
        const bar = box.querySelector("progress");
        if (bar) bar.value = p.percent;
        box.querySelectorAll("[data-field]").forEach((el) => {
          const key = el.getAttribute("data-field");
          if (key in p) el.textContent = p[key];
        });
        if (p.finished) window.location.reload();
        else setTimeout(() => poll(box), 1000);
      })
      .catch(() => setTimeout(() => poll(box), 5000));
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-job-progress][data-finished='0']").forEach((box) => setTimeout(() => poll(box), 1000));
  });
})();
