// The supervisor's dashboard: draws every <div data-chart="NAME"> from the options the server
// put in <script type="application/json" id="dashboard-charts"> (no inline script: the CSP
// allows none). A data item with a `link` opens the claims it counts when clicked.
(function () {
  function start() {
    var source = document.getElementById("dashboard-charts");
    if (!source || typeof echarts === "undefined") return;
    var options = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var option = options[el.dataset.chart];
      if (!option) return;
      var chart = echarts.init(el, null, {renderer: "svg"});
      chart.setOption(option);
      chart.on("click", function (params) {
        if (params.data && params.data.link) window.location.href = params.data.link;
      });
      charts.push(chart);
    });
    document.body.dataset.chartsReady = String(charts.length);
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
