// The public map: recent public cases as coloured dots over the county outlines (no tile server).
// The table below the map lists the same cases for keyboard and screen-reader users.
(function () {
  "use strict";
  var el = document.getElementById("public-map");
  if (!el || typeof L === "undefined" || !window.fetch) { return; }
  var colours = { received: "#a35b00", handling: "#0b5cad", closed: "#1d7a3e" };
  var map = L.map(el, { attributionControl: false }).setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], 12);
  function load(url, then) {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { then(data); } })
      .catch(function () {});
  }
  load(el.dataset.outline, function (data) {
    L.geoJSON(data, { style: { color: "#0b5cad", weight: 1, fillOpacity: 0.04 }, interactive: false }).addTo(map);
  });
  load(el.dataset.cases, function (data) {
    var layer = L.geoJSON(data, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 7, color: "#fff", weight: 1, fillColor: colours[f.properties.state] || "#5b6776", fillOpacity: 0.9 });
      },
      onEachFeature: function (f, marker) {
        var p = f.properties, box = document.createElement("div");
        var a = document.createElement("a");
        a.href = p.url; a.textContent = p.number;
        box.appendChild(a);
        box.appendChild(document.createElement("br"));
        box.appendChild(document.createTextNode(p.type + " · " + p.state_label + " · " + p.reported));
        marker.bindPopup(box);
      }
    }).addTo(map);
    el.dataset.count = String(data.features.length);
    if (data.features.length === 1) {
      var c = data.features[0].geometry.coordinates;
      map.setView([c[1], c[0]], 14);
    } else if (data.features.length > 1) {
      map.fitBounds(layer.getBounds(), { maxZoom: 15, padding: [20, 20] });
    }
  });
})();
