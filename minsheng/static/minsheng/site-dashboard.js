// Live site and village water dashboards: ECharts line charts and a Leaflet map of the devices, both
// drawn from the JSON the page's live part carries (#dashboard-data). htmx swaps that part every
// few seconds; the charts and the map are then updated in place. The tables stay the accessible
// source: without scripts the page shows everything but the drawings.
// Nothing is loaded from the internet: the tile URL is a setting, and without one the map draws
// only the devices and the box around them, on a plain background.
(function () {
  "use strict";
  var charts = {}, map = null, layer = null;

  function data() {
    var el = document.getElementById("dashboard-data");
    return el ? JSON.parse(el.textContent) : {charts: [], points: []};
  }

  function drawCharts(items) {
    var box = document.getElementById("charts");
    if (!box || !window.echarts) { return; }
    if (!items.length) { box.textContent = box.dataset.empty; return; }
    items.forEach(function (c) {
      var chart = charts[c.id];
      if (!chart) {
        var title = document.createElement("h3");
        title.textContent = c.title + " (" + c.unit + ")";
        var el = document.createElement("div");
        el.id = c.id;
        el.className = "chart";
        el.setAttribute("role", "img");
        el.setAttribute("aria-label", c.title);
        box.appendChild(title);
        box.appendChild(el);
        chart = charts[c.id] = window.echarts.init(el);
      }
      chart.setOption({
        animation: false,
        tooltip: {trigger: "axis"},
        legend: {top: 0, type: "scroll"},
        grid: {left: 50, right: 20, top: 40, bottom: 40},
        xAxis: {type: "time"},
        yAxis: {type: "value", name: c.unit, scale: true},
        series: c.series.map(function (s) {
          return {name: s.name, type: "line", showSymbol: false, data: s.data};
        })
      }, {replaceMerge: ["series"]});
    });
  }

  function drawMap(points) {
    var el = document.getElementById("device-map");
    if (!el || !window.L) { return; }
    if (!map) {
      map = window.L.map(el, {attributionControl: !!el.dataset.tiles, zoomSnap: 0.25});
      if (el.dataset.tiles) {
        window.L.tileLayer(el.dataset.tiles, {attribution: el.dataset.attribution || "", maxZoom: 19}).addTo(map);
      }
      layer = window.L.layerGroup().addTo(map);
    }
    layer.clearLayers();
    if (!points.length) { map.setView([30, 120], 8); return; }
    var bounds = window.L.latLngBounds(points.map(function (p) { return [p.lat, p.lng]; }));
    var c = bounds.getCenter(), dLat = Math.max(bounds.getNorth() - bounds.getSouth(), 0.002) * 0.6,
        dLng = Math.max(bounds.getEast() - bounds.getWest(), 0.002) * 0.6;
    var box = window.L.latLngBounds([c.lat - dLat, c.lng - dLng], [c.lat + dLat, c.lng + dLng]);
    if (!el.dataset.tiles) {  // no tiles: a plain boundary around the devices
      window.L.rectangle(box, {color: "#64748b", weight: 1, dashArray: "4 4", fill: false}).addTo(layer);
    }
    points.forEach(function (p) {
      // Devices at the same spot are spread on a small circle so each stays visible.
      var same = points.filter(function (q) { return q.lat === p.lat && q.lng === p.lng; });
      var k = same.indexOf(p), r = same.length > 1 ? 0.0004 : 0;
      var at = [p.lat + r * Math.sin(2 * Math.PI * k / same.length), p.lng + r * Math.cos(2 * Math.PI * k / same.length)];
      window.L.circleMarker(at, {radius: 9, weight: 2, color: "#fff", className: "device-marker",
                                 fillColor: p.offline ? "#b71c1c" : "#1b5e20", fillOpacity: 0.9})
        .bindTooltip(p.name + " · " + p.kind + " · " + (p.offline ? el.dataset.offline : el.dataset.online))
        .addTo(layer);
    });
    map.fitBounds(box);
  }

  function draw() {
    var d = data();
    drawCharts(d.charts || []);
    drawMap(d.points || []);
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);  // the live part was replaced
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
})();
