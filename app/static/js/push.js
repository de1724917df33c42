// "This phone gets alerts": subscribes this browser to web push and tells the server.
(function () {
  "use strict";
  var panel = document.querySelector("[data-push-panel]");
  if (!panel) return;
  var toggle = panel.querySelector("[data-push-switch]");
  var status = panel.querySelector("[data-push-status]");
  var blocked = panel.querySelector("[data-push-blocked]");
  var unsupported = panel.querySelector("[data-push-unsupported]");

  function csrfToken() {
    return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  }
  function say(text) { status.textContent = text; }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.ok) return response;
      // The server's reason (an endpoint it will not send to, or one registered to someone else).
      return response.json().catch(function () { return {}; }).then(function (answer) {
        var errors = answer.errors || {};
        var error = new Error(errors.endpoint || "server answered " + response.status);
        error.fromServer = Boolean(errors.endpoint);
        throw error;
      });
    });
  }
  function keyBytes(base64url) {
    var raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    unsupported.hidden = false;
    say("Alerts can't be received in this browser.");
    return;
  }

  navigator.serviceWorker.ready.then(function (registration) {
    function refresh() {
      return registration.pushManager.getSubscription().then(function (subscription) {
        toggle.checked = !!subscription;
        toggle.disabled = false;
        blocked.hidden = Notification.permission !== "denied";
        say(subscription ? "This phone gets alerts." : "This phone does not get alerts.");
      });
    }

    function subscribe() {
      return Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") throw new Error("blocked");
        return fetch("/push/vapid-public-key", { credentials: "same-origin" });
      }).then(function (response) { return response.text(); })
        .then(function (key) {
          return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key.trim()) });
        })
        .then(function (subscription) {
          return post("/push/subscriptions", subscription.toJSON()).catch(function (error) {
            // Not registered on the server: don't leave the switch saying this phone gets alerts.
            return subscription.unsubscribe().then(function () { throw error; }, function () { throw error; });
          });
        });
    }

    function unsubscribe() {
      return registration.pushManager.getSubscription().then(function (subscription) {
        if (!subscription) return null;
        var endpoint = subscription.endpoint;
        return subscription.unsubscribe().then(function () { return post("/push/subscriptions/remove", { endpoint: endpoint }); });
      });
    }

    toggle.addEventListener("change", function () {
      toggle.disabled = true;
      say(toggle.checked ? "Switching alerts on…" : "Switching alerts off…");
      (toggle.checked ? subscribe() : unsubscribe()).then(refresh).catch(function (error) {
        refresh().then(function () {
          if (error.message === "blocked") blocked.hidden = false;
          say("That didn't work: " + (error.message === "blocked" ? "notifications are blocked." :
            error.fromServer ? error.message : "try again when you have signal."));
        });
      });
    });
    refresh();
  });
})();
