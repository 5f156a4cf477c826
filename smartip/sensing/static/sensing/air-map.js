/* SMARTiP air map: progressive enhancement. The table below the map lists the same sensors for everyone. */
(function () {
  "use strict";
  function text(value) { var span = document.createElement("span"); span.textContent = value; return span; }
  function init(el) {
    if (typeof L === "undefined") return;
    el.hidden = false;
    var c = (el.dataset.center || "0,0").split(",").map(Number);
    var map = L.map(el, { scrollWheelZoom: false }).setView(c, 12);
    L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    fetch(el.dataset.feed, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        data.features.forEach(function (f) {
          var p = f.properties, ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
          var marker = L.circleMarker(ll, { radius: 9, color: "#000", weight: 1, fillColor: p.colour, fillOpacity: 0.9 });
          var box = document.createElement("div");
          var link = document.createElement("a");
          link.href = p.url;
          link.textContent = p.name;
          box.appendChild(link);
          box.appendChild(document.createElement("br"));
          box.appendChild(text(p.band ? p.band + " · " + p.band_name : p.band_name));
          marker.bindPopup(box);
          marker.bindTooltip(p.name + ": " + p.band_name);
          marker.addTo(map);
        });
      });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-air-map]"), init);
  });
})();
