// The public report form: a draggable pin over the county outlines (no tile server needed), the GPS
// button, and the typed-coordinate path kept in step with the pin. Every change of the position tells
// the page ("position-changed"), so htmx asks for nearby open cases of the same type.
(function () {
  "use strict";
  var el = document.getElementById("report-map");
  var latInput = document.getElementById("id_lat");
  var lonInput = document.getElementById("id_lon");
  var pinStatus = document.getElementById("pin-status");
  var button = document.getElementById("gps");
  var gpsStatus = document.getElementById("gps-status");
  var map = null, marker = null;

  function announce() {
    document.body.dispatchEvent(new CustomEvent("position-changed", { bubbles: true }));
  }

  function showStatus() {
    if (!pinStatus) { return; }
    if (latInput.value && lonInput.value) {
      pinStatus.textContent = pinStatus.dataset.set + " " + latInput.value + ", " + lonInput.value;
    } else {
      pinStatus.textContent = pinStatus.dataset.none;
    }
  }

  function placePin(lat, lon, pan) {
    if (!map) { return; }
    if (!marker) {
      marker = L.marker([lat, lon], {
        draggable: true,
        keyboard: false,
        icon: L.divIcon({ className: "pin", html: '<span data-testid="pin"></span>', iconSize: [28, 28], iconAnchor: [14, 28] })
      }).addTo(map);
      marker.on("dragend", function () {
        var p = marker.getLatLng();
        setFields(p.lat, p.lng, false);
      });
    } else {
      marker.setLatLng([lat, lon]);
    }
    if (pan) { map.setView([lat, lon], Math.max(map.getZoom(), 15)); }
  }

  function setFields(lat, lon, pan) {
    latInput.value = lat.toFixed(6);
    lonInput.value = lon.toFixed(6);
    placePin(lat, lon, pan);
    showStatus();
    announce();
  }

  if (el && typeof L !== "undefined") {
    var lat0 = parseFloat(el.dataset.lat), lon0 = parseFloat(el.dataset.lon);
    map = L.map(el, { attributionControl: false, zoomControl: true }).setView([lat0, lon0], 13);
    map.on("click", function (e) { setFields(e.latlng.lat, e.latlng.lng, false); });
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
    var lat = parseFloat(latInput.value), lon = parseFloat(lonInput.value);
    if (!isNaN(lat) && !isNaN(lon)) { placePin(lat, lon, true); }
  }
  showStatus();

  // Typed coordinates move the pin too.
  [latInput, lonInput].forEach(function (input) {
    input.addEventListener("change", function () {
      var lat = parseFloat(latInput.value), lon = parseFloat(lonInput.value);
      if (!isNaN(lat) && !isNaN(lon)) { placePin(lat, lon, true); }
      showStatus();
      announce();
    });
  });

  if (button) {
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { gpsStatus.textContent = button.dataset.failed; return; }
      gpsStatus.textContent = button.dataset.locating;
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          setFields(pos.coords.latitude, pos.coords.longitude, true);
          gpsStatus.textContent = button.dataset.ok + " ±" + Math.round(pos.coords.accuracy) + " m";
        },
        function () { gpsStatus.textContent = button.dataset.failed; },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  // Staying anonymous empties and disables the phone field, so it cannot be sent by mistake.
  var anon = document.getElementById("id_anonymous");
  var phone = document.getElementById("id_phone");
  if (anon && phone) {
    var sync = function () { phone.disabled = anon.checked; if (anon.checked) { phone.value = ""; } };
    anon.addEventListener("change", sync);
    sync();
  }

  // A search typed before htmx had bound the field (a slow phone, the page still loading) asked for
  // nothing: ask once htmx is ready (its own DOMContentLoaded handler was registered first).
  document.addEventListener("DOMContentLoaded", function () {
    var search = document.getElementById("type-search");
    if (search && search.value && window.htmx) { window.htmx.trigger(search, "search"); }
  });
})();
