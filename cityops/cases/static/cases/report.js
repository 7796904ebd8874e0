// The report form: fill latitude and longitude from the phone's GPS; typing them by hand still works.
(function () {
  "use strict";
  var button = document.getElementById("gps");
  var status = document.getElementById("gps-status");
  if (!button) { return; }
  button.addEventListener("click", function () {
    if (!navigator.geolocation) { status.textContent = button.dataset.failed; return; }
    status.textContent = button.dataset.locating;
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        document.getElementById("id_lat").value = pos.coords.latitude.toFixed(6);
        document.getElementById("id_lon").value = pos.coords.longitude.toFixed(6);
        status.textContent = button.dataset.ok + " ±" + Math.round(pos.coords.accuracy) + " m";
      },
      function () { status.textContent = button.dataset.failed; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });
})();
