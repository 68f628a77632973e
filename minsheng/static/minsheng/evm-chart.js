// Draws the PV/EV/AC S-curve (ECharts, vendored) from the snapshots in the chart element's data-rows (a data
// attribute, not a JSON <script>: htmx drops script elements from swapped content). The table stays the
// accessible source. Runs on page load and again when htmx swaps the panel into the project page.
(function () {
  "use strict";
  function draw(root) {
    var el = root.querySelector("#evm-chart");
    if (!el || !el.dataset.rows || !window.echarts || el.dataset.drawn) { return; }
    el.dataset.drawn = "1";
    var rows = JSON.parse(el.dataset.rows), labels = JSON.parse(el.dataset.labels);
    function col(k) { return rows.map(function (r) { return Number(r[k]) / 10000; }); }
    var chart = window.echarts.init(el);
    chart.setOption({
      tooltip: {trigger: "axis"}, legend: {top: 0},
      grid: {left: 60, right: 20, top: 40, bottom: 40},
      xAxis: {type: "category", data: rows.map(function (r) { return r.d; })},
      yAxis: {type: "value", name: labels.unit},
      series: [
        {name: labels.pv, type: "line", data: col("pv"), lineStyle: {type: "dashed"}},
        {name: labels.ev, type: "line", data: col("ev")},
        {name: labels.ac, type: "line", data: col("ac")}
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (e) { draw(e.target || document); });
})();
