/* SMARTiP reports: progressive enhancement only. Every page works without this file:
   maps enhance the latitude/longitude inputs, htmx enhances plain forms. Leaflet is served by us. */
(function () {
  "use strict";

  function all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  function parseCoord(value) {
    var n = parseFloat(String(value || "").replace(",", "."));
    return isFinite(n) ? n : null;
  }

  function baseMap(el, lat, lon, zoom) {
    var map = L.map(el, { scrollWheelZoom: false, tap: true }).setView([lat, lon], zoom);
    L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    return map;
  }

  function centre(el) {
    var parts = (el.dataset.center || "0,0").split(",").map(Number);
    return [parts[0], parts[1]];
  }

  /* Report form: a pin that writes into the lat/lon inputs (and reads them when typed). */
  function picker(el) {
    var latIn = document.getElementById(el.dataset.latInput);
    var lonIn = document.getElementById(el.dataset.lonInput);
    var status = document.querySelector("[data-role=pin-status]");
    var marker = null;

    function typed() {
      var lat = parseCoord(latIn.value), lon = parseCoord(lonIn.value);
      return lat === null || lon === null ? null : [lat, lon];
    }

    var start = typed();
    var map = baseMap(el, (start || centre(el))[0], (start || centre(el))[1], start ? 17 : 13);

    function say(text) {
      if (status) status.textContent = text;
    }

    function place(latlng, fromInputs) {
      var ll = L.latLng(latlng);
      if (!marker) {
        marker = L.marker(ll, { draggable: true, keyboard: true, title: el.dataset.msgPin, alt: el.dataset.msgPin });
        marker.addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng(), false); });
      } else {
        marker.setLatLng(ll);
      }
      if (!fromInputs) {
        latIn.value = ll.lat.toFixed(6);
        lonIn.value = ll.lng.toFixed(6);
        latIn.dispatchEvent(new Event("change", { bubbles: true }));
      }
      say((el.dataset.msgPinned || "") + " " + ll.lat.toFixed(5) + ", " + ll.lng.toFixed(5));
    }

    if (start) place(start, true);
    map.on("click", function (e) { place(e.latlng, false); });
    [latIn, lonIn].forEach(function (input) {
      input.addEventListener("change", function (e) {
        var p = typed();
        if (e.isTrusted && p) {
          place(p, true);
          map.setView(p, Math.max(map.getZoom(), 16));
        }
      });
    });
    all("[data-action=pin-centre]").forEach(function (b) {
      b.addEventListener("click", function () { place(map.getCenter(), false); });
    });
    all("[data-action=locate]").forEach(function (b) {
      if (!navigator.geolocation) { b.hidden = true; return; }
      b.addEventListener("click", function () {
        say(el.dataset.msgLocating || "");
        navigator.geolocation.getCurrentPosition(function (pos) {
          var p = [pos.coords.latitude, pos.coords.longitude];
          map.setView(p, 17);
          place(p, false);
        }, function () { say(el.dataset.msgLocateFailed || ""); }, { enableHighAccuracy: true, timeout: 15000 });
      });
    });
  }

  var COLOURS = { open: "#b45309", acknowledged: "#1d4ed8", in_progress: "#1d4ed8", fixed: "#15803d", closed: "#4b5563" };

  /* List page: the filtered reports from the GeoJSON feed named in the results partial. */
  function reportsMap(el) {
    var source = document.querySelector(el.dataset.feedSource);
    var map = baseMap(el, centre(el)[0], centre(el)[1], 12);
    var layer = L.layerGroup().addTo(map);

    function load() {
      var feed = source && source.querySelector("[data-feed-url]");
      if (!feed) return;
      fetch(feed.dataset.feedUrl, { headers: { Accept: "application/geo+json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          layer.clearLayers();
          var points = [];
          (data.features || []).forEach(function (f) {
            var lat = f.geometry.coordinates[1], lon = f.geometry.coordinates[0], p = f.properties;
            var link = document.createElement("a");
            link.href = p.url;
            link.textContent = "#" + p.id + " " + p.category; /* text, never HTML */
            L.circleMarker([lat, lon], { radius: 8, weight: 2, color: COLOURS[p.status] || "#333", fillOpacity: 0.6 })
              .bindPopup(link).addTo(layer);
            points.push([lat, lon]);
          });
          if (points.length) map.fitBounds(points, { maxZoom: 16, padding: [24, 24] });
        })
        .catch(function () { /* the list below still shows every report */ });
    }

    load();
    document.body.addEventListener("htmx:afterSwap", function (e) {
      if (e.detail.target === source) load();
    });
  }

  function pointMap(el) {
    var p = [parseCoord(el.dataset.lat), parseCoord(el.dataset.lon)];
    var map = baseMap(el, p[0], p[1], 17);
    L.marker(p, { keyboard: false }).addTo(map);
  }

  /* Only the chosen category's questions are shown (and sent); without JS all are shown. */
  function categoryQuestions() {
    var select = document.getElementById("id_category");
    var sets = all("fieldset.attributes[data-category]");
    if (!select || !sets.length) return;
    function sync() {
      sets.forEach(function (fs) {
        var on = fs.dataset.category === select.value;
        fs.hidden = !on;
        fs.disabled = !on;
      });
    }
    select.addEventListener("change", sync);
    sync();
  }

  function setUpHtmx() {
    if (!window.htmx) return;
    /* form errors come back as 400/409 with the re-rendered form: show them */
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "40[09]", swap: true, error: false },
      { code: "...", swap: false, error: true }
    ];
    document.body.addEventListener("htmx:afterSwap", function (e) {
      var target = e.detail.target.querySelector("[data-focus]");
      if (target) target.focus();
    });
  }

  function start() {
    /* a form that came back with problems: take the keyboard and screen reader to the summary */
    var summary = document.querySelector(".error-summary[data-focus]");
    if (summary) summary.focus();
    setUpHtmx();
    categoryQuestions();
    all(".no-js-step").forEach(function (el) { el.hidden = true; });
    if (!window.L) return; /* no Leaflet: the coordinate inputs and lists still work */
    all(".js-only").forEach(function (el) { el.hidden = false; });
    all("[data-map=picker]").forEach(picker);
    all("[data-map=reports]").forEach(reportsMap);
    all("[data-map=point]").forEach(pointMap);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
