/* SMARTiP mobility maps: progressive enhancement only. Every figure drawn here is also in a table on the
   page; without script the tables are the page. The map picker for privacy zones is reports/map.js. */
(function () {
  "use strict";

  var MODE_COLOURS = { walk: "#1b7837", bicycle: "#2166ac", "bus/tram": "#b2182b", bus: "#b2182b", car: "#5e3c99", train: "#e08214" };
  var CLASS_COLOURS = ["#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];

  function data(el) {
    var node = document.getElementById(el.dataset.geojson);
    return node ? JSON.parse(node.textContent) : null;
  }

  function baseMap(el) {
    el.hidden = false;
    var map = L.map(el, { scrollWheelZoom: false, tap: true });
    L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    return map;
  }

  function fit(map, layer, el) {
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [12, 12] });
    } else {
      var c = (el.dataset.center || "0,0").split(",").map(Number);
      map.setView(c, 12);
    }
  }

  function text(value) {
    return String(value === null || value === undefined ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function traceMap(el) {
    var geojson = data(el);
    if (!geojson) return;
    var map = baseMap(el);
    var layer = L.geoJSON(geojson, {
      style: function (f) {
        if (f.properties.kind === "trace") return { color: "#777", weight: 3, opacity: 0.6 };
        return { color: MODE_COLOURS[f.properties.mode] || "#333", weight: 5, opacity: 0.9 };
      }
    }).addTo(map);
    fit(map, layer, el);
  }

  function style(view, p) {
    if (view === "segments" || view === "speeds") return { color: CLASS_COLOURS[p.cls] || "#bd0026", weight: 5, opacity: 0.9 };
    if (view === "hotspots") return { color: "#bd0026", weight: 6, opacity: 0.9 };
    return { color: "#2166ac", weight: Math.min(12, 2 + Math.sqrt(p.count || 1)), opacity: 0.6 };
  }

  function popup(view, p) {
    var rows = [];
    Object.keys(p).forEach(function (k) {
      if (k !== "cls" && k !== "mode_label") rows.push(text(k) + ": " + text(p[k]));
    });
    return rows.join("<br>");
  }

  function aggregatesMap(el) {
    var geojson = data(el);
    if (!geojson) return;
    var view = el.dataset.view;
    var map = baseMap(el);
    var layer = L.geoJSON(geojson, {
      filter: function (f) { return f.geometry !== null; },
      style: function (f) { return style(view, f.properties); },
      onEachFeature: function (f, l) { l.bindPopup(popup(view, f.properties)); }
    }).addTo(map);
    fit(map, layer, el);
  }

  function init(root) {
    if (typeof L === "undefined") return;
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-map=trace]"), traceMap);
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-map=aggregates]"), aggregatesMap);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) { init(e.detail.target); });
})();
