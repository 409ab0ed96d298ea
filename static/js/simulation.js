// Renewal simulation page (测算): draw the comparison charts from their json_script options (the
// run's progress box is polled by app.js). No inline script: the
// Content-Security-Policy allows none without a nonce.
(function () {
  "use strict";

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
    document.querySelectorAll(".simchart[data-options]").forEach(draw);
  });
})();
