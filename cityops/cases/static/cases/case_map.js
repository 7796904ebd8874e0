// The case page's map: a marker at the case's position over the county outlines.
// No tile server is needed; the outlines come from the platform itself and may fail silently.
(function () {
  "use strict";
  var el = document.getElementById("case-map");
  if (!el || typeof L === "undefined") { return; }
  var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
  if (isNaN(lat) || isNaN(lon)) { return; }
  var map = L.map(el, { attributionControl: false }).setView([lat, lon], 14);
  L.circleMarker([lat, lon], { radius: 9, color: "#b42318", weight: 3, fillOpacity: 0.6 }).addTo(map);
  if (el.dataset.outline && window.fetch) {
    fetch(el.dataset.outline, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data) {
          L.geoJSON(data, { style: { color: "#0b5cad", weight: 1, fillOpacity: 0.04 }, interactive: false }).addTo(map);
        }
      })
      .catch(function () {});
  }
})();
