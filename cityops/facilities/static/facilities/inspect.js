// The checklist: show the photo and note of an item only when it fails; record the phone's position.
(function () {
  "use strict";
  var form = document.querySelector("form.checklist");
  if (!form) { return; }
  form.classList.add("js");
  form.querySelectorAll("fieldset.item").forEach(function (fs) {
    fs.addEventListener("change", function (e) {
      if (e.target.type === "radio") { fs.classList.toggle("failed", e.target.value === "fail" && e.target.checked); }
    });
  });
  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("id_lat").value = pos.coords.latitude.toFixed(6);
      document.getElementById("id_lon").value = pos.coords.longitude.toFixed(6);
    }, function () {}, { timeout: 10000, maximumAge: 60000 });
  }
})();
