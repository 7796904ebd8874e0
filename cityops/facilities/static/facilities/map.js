// Facility maps without tiles: markers over the county outlines served by the platform itself.
(function () {
  "use strict";
  var el = document.getElementById("facility-map");
  if (!el || typeof L === "undefined") { return; }
  var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
  var map = L.map(el, { attributionControl: false }).setView([lat, lon], el.dataset.single ? 16 : 13);
  var colours = { ok: "#1d7a3e", due: "#d08a00", late: "#b42318", never: "#b42318" };
  if (el.dataset.single) {
    L.circleMarker([lat, lon], { radius: 9, color: "#0b5cad", weight: 3, fillOpacity: 0.6 }).addTo(map);
  }
  var data = document.getElementById("facility-points");
  if (data) {
    var points = JSON.parse(data.textContent);
    var bounds = [];
    points.forEach(function (p) {
      var m = L.circleMarker([p.lat, p.lon], {
        radius: p.kind === "station" ? 8 : 6, color: colours[p.status] || "#0b5cad", weight: 2, fillOpacity: 0.7
      }).addTo(map);
      var a = document.createElement("a");
      a.href = p.url; a.textContent = p.name;
      m.bindPopup(a);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length) { map.fitBounds(bounds, { padding: [20, 20] }); }
  }
  if (el.dataset.outline && window.fetch) {
    fetch(el.dataset.outline, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (d) { L.geoJSON(d, { style: { color: "#0b5cad", weight: 1, fillOpacity: 0.03 }, interactive: false }).addTo(map); }
      })
      .catch(function () {});
  }
})();
