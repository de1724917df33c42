// Visit timers: the live countdown, the phone's location on safety forms, and when a tap was made.
(function () {
  "use strict";

  function describe(deadline) {
    var seconds = Math.round((deadline - Date.now()) / 1000);
    var minutes = Math.round(Math.abs(seconds) / 60);
    if (seconds >= 0) return seconds < 60 ? "(in under a minute)" : "(in " + minutes + " min)";
    return seconds > -60 ? "(just now)" : "(" + minutes + " min ago)";
  }
  function tick() {
    document.querySelectorAll("[data-deadline]").forEach(function (element) {
      var deadline = Date.parse(element.getAttribute("data-deadline"));
      if (!isNaN(deadline)) element.textContent = describe(deadline);
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);

  // The server's deadline is the truth; this only stamps when the worker actually tapped.
  document.addEventListener("submit", function (event) {
    // Not again when the outbox resends the same form: the stamp is part of what it saved.
    if (event.target.getAttribute("data-outbox-sending") === "native") return;
    event.target.querySelectorAll("[data-made-at]").forEach(function (input) {
      input.value = new Date().toISOString();
    });
  }, true);

  // Start visit: typing an other length chooses Other; choosing a chip again clears what was typed.
  document.addEventListener("input", function (event) {
    if (event.target.name !== "custom_minutes" || !event.target.value) return;
    var other = event.target.form.querySelector("input[name=minutes][value=custom]");
    if (other) other.checked = true;
  });
  document.addEventListener("change", function (event) {
    if (event.target.name !== "minutes" || event.target.value === "custom") return;
    var typed = event.target.form.querySelector("[name=custom_minutes]");
    if (typed) typed.value = "";
  });

  // Location: asked for once on forms that want it, never blocking the form.
  function fillLocation(form) {
    if (!("geolocation" in navigator)) return;
    var status = form.querySelector("[data-geo-status]");
    navigator.geolocation.getCurrentPosition(function (position) {
      form.querySelector("[name=latitude]").value = position.coords.latitude;
      form.querySelector("[name=longitude]").value = position.coords.longitude;
      form.querySelector("[name=accuracy]").value = Math.round(position.coords.accuracy);
      var metres = String(Math.round(position.coords.accuracy));
      // Each form says what its own send will carry (a visit start, a Crisis alarm).
      if (status) status.textContent = (status.getAttribute("data-geo-found") ||
        "Your location will be saved with the visit (about {m} m).").replace("{m}", metres);
    }, function () {
      if (status) status.textContent = status.getAttribute("data-geo-missing") ||
        "Location not available: the visit will start without it.";
    }, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-geo]").forEach(fillLocation);
  });

  // "Use my location" on Log contact: only when asked.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fill-location]");
    if (!button || !("geolocation" in navigator)) return;
    var form = button.form;
    var status = form.querySelector("[data-location-status]");
    status.textContent = "Finding you…";
    navigator.geolocation.getCurrentPosition(function (position) {
      form.querySelector("[name=latitude]").value = position.coords.latitude;
      form.querySelector("[name=longitude]").value = position.coords.longitude;
      var where = form.querySelector("[name=location_text]");
      if (where && !where.value) where.value = position.coords.latitude.toFixed(5) + ", " + position.coords.longitude.toFixed(5);
      status.textContent = "Location added.";
    }, function () { status.textContent = "Location not available."; }, { timeout: 8000, maximumAge: 60000 });
  });
})();
