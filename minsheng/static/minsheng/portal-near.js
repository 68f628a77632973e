// "Projects near me": with JavaScript and a location, fill the form's point and send it. Without
// either, the division choice does the same job.
(function () {
  "use strict";
  var button = document.getElementById("near-my-location");
  if (!button || !("geolocation" in navigator)) { return; }
  var form = button.closest("form"), status = document.getElementById("near-status");
  button.closest(".near-by-location").hidden = false;
  form.querySelector("[name=division]").addEventListener("change", function () {
    form.querySelector("[name=lat]").value = "";
    form.querySelector("[name=lng]").value = "";
  });
  button.addEventListener("click", function () {
    status.textContent = button.dataset.locatingText;
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector("[name=lat]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("[name=lng]").value = pos.coords.longitude.toFixed(6);
      form.querySelector("[name=division]").value = "";
      form.submit();
    }, function () { status.textContent = button.dataset.failedText; }, {timeout: 15000});
  });
})();
