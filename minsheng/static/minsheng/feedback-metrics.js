// Draws the metrics table as a chart (ECharts, vendored). The table stays the accessible source.
(function () {
  "use strict";
  var el = document.getElementById("metrics-chart"), data = document.getElementById("metrics-data");
  if (!el || !data || !window.echarts) { return; }
  var rows = JSON.parse(data.textContent), labels = JSON.parse(el.dataset.labels);
  var chart = window.echarts.init(el);
  function col(k) { return rows.map(function (r) { return r[k] === null ? null : Number(r[k]); }); }
  chart.setOption({
    tooltip: {trigger: "axis"}, legend: {top: 0},
    grid: {left: 50, right: 60, top: 40, bottom: 60},
    xAxis: {type: "category", data: rows.map(function (r) { return r.label; }), axisLabel: {rotate: 30}},
    yAxis: [{type: "value", name: "%", max: 100}, {type: "value", name: labels.hours}],
    series: [
      {name: labels.response, type: "bar", data: col("response_rate")},
      {name: labels.on_time, type: "bar", data: col("on_time_rate")},
      {name: labels.satisfaction, type: "bar", data: col("satisfaction_rate")},
      {name: labels.closure, type: "line", yAxisIndex: 1, data: col("median_closure_hours")}
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
