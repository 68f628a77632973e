// The citizen map pin. Without JavaScript the map stays hidden and the address field is enough.
// Tiles come only from MINSHENG_MAP_TILE_URL (an intranet tile server); without one the map is a
// plain grid with the jurisdiction's area drawn on it. Nothing is fetched from the internet.
(function () {
  "use strict";
  var wrap = document.querySelector(".location-map-wrap");
  if (!wrap || typeof L === "undefined") { return; }
  var form = wrap.closest("form");
  var lat = form.querySelector("[name=latitude]");
  var lng = form.querySelector("[name=longitude]");
  var status = document.getElementById("location-status");
  var area = wrap.dataset.area.split(",").map(Number);  // south, west, north, east
  var centre = wrap.dataset.center.split(",").map(Number);
  var bounds = L.latLngBounds([area[0], area[1]], [area[2], area[3]]);
  wrap.hidden = false;

  var map = L.map("location-map", {maxBounds: bounds.pad(0.5), zoomControl: true})
    .setView(centre, Number(wrap.dataset.zoom) || 12);
  map.attributionControl.setPrefix(false);  // only the tile server's own attribution, if any
  if (wrap.dataset.tiles) {
    L.tileLayer(wrap.dataset.tiles, {maxZoom: 19, attribution: wrap.dataset.attribution || ""}).addTo(map);
  } else {
    L.rectangle(bounds, {color: "#0f2a5c", weight: 2, fill: false, interactive: false}).addTo(map);
  }
  var marker = null;

  function say(text) { status.textContent = text; }

  function place(latlng, pan) {
    if (!bounds.contains(latlng)) { say(wrap.dataset.outsideText); return; }
    var la = latlng.lat.toFixed(6), ln = latlng.lng.toFixed(6);
    lat.value = la; lng.value = ln;
    if (marker) { marker.setLatLng(latlng); } else {
      marker = L.marker(latlng, {draggable: true, keyboard: true}).addTo(map);
      marker.on("dragend", function () { place(marker.getLatLng(), false); });
    }
    if (pan) { map.setView(latlng, Math.max(map.getZoom(), 16)); }
    say(wrap.dataset.pickedText.replace("{lat}", la).replace("{lng}", ln));
    form.dispatchEvent(new Event("input"));  // keep the draft (feedback.js) in step
  }

  if (lat.value && lng.value) { place(L.latLng(Number(lat.value), Number(lng.value)), true); }
  map.on("click", function (e) { place(e.latlng, false); });
  document.getElementById("pin-map-centre").addEventListener("click", function () { place(map.getCenter(), false); });
  document.getElementById("clear-location").addEventListener("click", function () {
    lat.value = ""; lng.value = "";
    if (marker) { map.removeLayer(marker); marker = null; }
    say("");
    form.dispatchEvent(new Event("input"));
  });
  var mine = document.getElementById("use-my-location");
  if (!("geolocation" in navigator)) { mine.hidden = true; return; }
  mine.addEventListener("click", function () {
    say(wrap.dataset.locatingText);
    navigator.geolocation.getCurrentPosition(function (pos) {
      place(L.latLng(pos.coords.latitude, pos.coords.longitude), true);
    }, function () { say(wrap.dataset.locatedFailedText); }, {enableHighAccuracy: true, timeout: 15000});
  });
})();
