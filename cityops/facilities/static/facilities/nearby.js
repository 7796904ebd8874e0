// The inspector's nearby list: take the phone's position (on a button, or at once on the first visit)
// and reload the list nearest first. Without a position the list shows the facilities due first.
(function () {
  "use strict";
  var form = document.getElementById("nearby-form");
  var button = document.getElementById("gps");
  var status = document.getElementById("gps-status");
  if (!form || !button) { return; }
  function locate() {
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
  }
  button.addEventListener("click", locate);
  // Without a position in the address, ask at once; a position found reloads with it (no loop).
  if (form.dataset.auto === "1") { locate(); }
})();
