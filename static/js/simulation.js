// Renewal simulation page (测算): poll the run's progress while it runs and reload when it has
// finished; draw the comparison charts from their json_script options. No inline script: the
// Content-Security-Policy allows none without a nonce.
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
        else setTimeout(function () { poll(box); }, 1000);
      })
      .catch(function () { setTimeout(function () { poll(box); }, 5000); });
  }

  function money(value) {
    return Number(value).toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-options"));
    if (!source || typeof echarts === "undefined") return;
    var options = JSON.parse(source.textContent);
    if (options.money) {
      options.tooltip.valueFormatter = money;
      options.yAxis.axisLabel = {formatter: function (v) { return (v / 10000).toLocaleString("zh-CN") + " 万"; }};
    }
    delete options.money;
    var chart = echarts.init(el, null, {renderer: "svg"});
    chart.setOption(options);
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("simulation-progress");
    if (box && box.getAttribute("data-finished") === "0") setTimeout(function () { poll(box); }, 1000);
    document.querySelectorAll(".simchart[data-options]").forEach(draw);
  });
})();
