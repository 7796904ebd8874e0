// The public finder: "use my position" reloads the list from the phone's position; the map shows the
// toilets listed (no tiles needed: markers and the user's position only).
(function () {
  "use strict";
  var form = document.getElementById("finder-form");
  var button = document.getElementById("gps");
  var status = document.getElementById("gps-status");
  if (form && button) {
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { status.textContent = button.dataset.failed; return; }
      status.textContent = button.dataset.locating;
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          document.getElementById("id_lat").value = pos.coords.latitude.toFixed(6);
          document.getElementById("id_lon").value = pos.coords.longitude.toFixed(6);
          form.submit();
        },
        function () { status.textContent = button.dataset.failed; },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }
  var el = document.getElementById("finder-map");
  var data = document.getElementById("finder-points");
  if (!el || !data || typeof L === "undefined") { return; }
  var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
  var map = L.map(el, { attributionControl: false }).setView([lat, lon], 15);
  L.circleMarker([lat, lon], { radius: 7, color: "#0b5cad", weight: 3, fillColor: "#fff", fillOpacity: 1 }).addTo(map);
  var bounds = [[lat, lon]];
  JSON.parse(data.textContent).forEach(function (t, i) {
    var m = L.circleMarker([t.lat, t.lon], {
      radius: 8, color: t.open_now ? "#1d7a3e" : "#5b6776", weight: 2, fillOpacity: 0.75
    }).addTo(map);
    m.bindTooltip(String(i + 1) + ". " + t.name);
    if (i < 5) { bounds.push([t.lat, t.lon]); }
  });
  map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
})();
