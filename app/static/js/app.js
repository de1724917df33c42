// Fieldline: the small amount of script the platform needs. No framework, no inline code.
(function () {
  "use strict";

  // The service worker keeps the app shell for poor signal (see service_worker/sw.js).
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
        // Not fatal: the app works online without it.
      });
    });
  }
  // A refused form: focus its error summary, so it is seen and heard first.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  });
  // Signing out wipes the phone's copy: see offline.js.
})();
