/* SMARTiP budgeting maps (Leaflet, served by us). Progressive enhancement: without JS the latitude/longitude
   inputs and the results table carry the same information. */
(function () {
  "use strict";

  function num(v) { var n = parseFloat(String(v || "").replace(",", ".")); return isFinite(n) ? n : null; }

  function baseMap(el, lat, lon, zoom) {
    var map = L.map(el, { scrollWheelZoom: false }).setView([lat, lon], zoom);
    L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    return map;
  }

  function picker(el) {
    var latIn = document.getElementById(el.dataset.latInput), lonIn = document.getElementById(el.dataset.lonInput);
    var status = document.querySelector("[data-role=pin-status]");
    var c = (el.dataset.center || "0,0").split(",").map(Number);
    var typed = function () { var a = num(latIn.value), b = num(lonIn.value); return a === null || b === null ? null : [a, b]; };
    var startAt = typed();
    var map = baseMap(el, (startAt || c)[0], (startAt || c)[1], startAt ? 16 : 12);
    var marker = null;
    function place(ll, fromInputs) {
      ll = L.latLng(ll);
      if (!marker) {
        marker = L.marker(ll, { draggable: true, keyboard: true, title: el.dataset.msgPin, alt: el.dataset.msgPin }).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng(), false); });
      } else marker.setLatLng(ll);
      if (!fromInputs) { latIn.value = ll.lat.toFixed(6); lonIn.value = ll.lng.toFixed(6); }
      if (status) status.textContent = (el.dataset.msgPinned || "") + " " + ll.lat.toFixed(5) + ", " + ll.lng.toFixed(5);
    }
    if (startAt) place(startAt, true);
    map.on("click", function (e) { place(e.latlng, false); });
    [latIn, lonIn].forEach(function (input) {
      input.addEventListener("change", function () { var p = typed(); if (p) { place(p, true); map.setView(p, 16); } });
    });
  }

  function projects(el) {
    var source = document.getElementById(el.dataset.points);
    var points = source ? JSON.parse(source.textContent) : [];
    if (!points.length) return;
    var map = baseMap(el, points[0].lat, points[0].lon, 13);
    var bounds = [];
    points.forEach(function (p) {
      var label = document.createElement("span");
      label.textContent = p.title + " — " + (p.funded ? el.dataset.msgFunded : el.dataset.msgNotFunded); /* text, never HTML */
      L.circleMarker([p.lat, p.lon], { radius: 9, weight: 2, color: p.funded ? "#1d7a33" : "#6b7280", fillOpacity: p.funded ? 0.7 : 0.3 })
        .bindPopup(label).addTo(map);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length > 1) map.fitBounds(bounds, { maxZoom: 16, padding: [24, 24] });
  }

  function start() {
    if (!window.L) return;
    Array.prototype.slice.call(document.querySelectorAll(".js-only")).forEach(function (el) { el.hidden = false; });
    Array.prototype.slice.call(document.querySelectorAll("[data-map=picker]")).forEach(picker);
    Array.prototype.slice.call(document.querySelectorAll("[data-map=projects]")).forEach(projects);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
