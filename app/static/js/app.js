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

  // Signing out clears what this phone holds for Fieldline (the server also sends
  // Clear-Site-Data; this covers browsers that ignore it).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-logout]")) return;
    if (window.caches && caches.keys) {
      caches.keys().then(function (names) {
        names.forEach(function (name) { caches.delete(name); });
      });
    }
    try { window.localStorage.clear(); window.sessionStorage.clear(); } catch (e) { /* private mode */ }
  });
})();
