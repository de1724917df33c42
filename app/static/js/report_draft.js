// A report's draft saves itself: a few seconds after the worker stops typing it is sent to the
// server; with no signal it is kept in the offline outbox (outbox.js) instead, one item per
// report (the newest replaces the one before), and sent when the signal comes back.
(function () {
  "use strict";

  var form = document.querySelector("form[data-report-draft]");
  var Outbox = window.FieldlineOutbox;
  if (!form) return;
  var status = form.querySelector("[data-draft-status]");
  var stamp = form.querySelector("[data-client-ms]");
  var url = new URL(form.action, location.href).pathname;
  var EVERY_MS = 3000;
  var dirty = false;
  var busy = false;
  var queued = false;

  function say(text) { status.textContent = text; }
  function newKey() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }
  function fields() {
    var list = [];
    new FormData(form).forEach(function (value, name) { list.push([name, value]); });
    return list;
  }
  function time() {
    return new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function waitingHere(items) {
    return items.filter(function (item) { return item.url === url && item.state !== "attention"; });
  }

  // No signal: keep it on the phone, in place of any earlier unsent copy of this draft.
  function keep(list) {
    if (!Outbox) { say("Not saved: no signal. Keep this page open and it will try again."); return Promise.resolve(); }
    var key = newKey();
    var item = { key: key, userId: document.body.getAttribute("data-user"), url: url, formUrl: location.pathname,
                 label: "Report draft", summary: "", madeAt: new Date().toISOString(), createdAt: Date.now(),
                 fields: list, state: "waiting", sentAt: Date.now() };
    return Outbox.put(item).then(function () { return Outbox.all(); }).then(function (items) {
      return Promise.all(waitingHere(items).filter(function (old) { return old.key !== key; })
        .map(function (old) { return Outbox.remove(old.key); }));
    }).then(function () {
      queued = true;
      say("Saved on this phone at " + time() + " — will send when you have signal.");
      if (navigator.serviceWorker) {
        navigator.serviceWorker.ready.then(function (registration) {
          if (registration.sync) return registration.sync.register("fieldline-outbox");
        }).catch(function () { /* the online event flushes too */ });
      }
    });
  }

  function save() {
    if (busy || !dirty) return Promise.resolve();
    busy = true;
    dirty = false;
    stamp.value = String(Date.now());
    var list = fields();
    var token = form.querySelector("[name=csrf_token]").value;
    var send = navigator.onLine === false ? Promise.reject(new Error("offline")) :
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                           headers: { Accept: "application/json", "Idempotency-Key": newKey(), "X-CSRFToken": token } });
    return send.then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!data) {  // not an answer from the report (a server error): try again at the next tick
          dirty = true;
          say("Not saved yet: Fieldline did not answer properly. Trying again…");
          return null;
        }
        if (response.ok) {
          say("Draft saved at " + data.saved + ".");
          // What this phone kept earlier is older than what the server now has.
          return Outbox ? Outbox.all().then(function (items) {
            return Promise.all(waitingHere(items).map(function (old) { return Outbox.remove(old.key); }));
          }) : null;
        }
        var errors = data.errors ? Object.keys(data.errors).map(function (k) { return data.errors[k]; }) : [data.error];
        say("Not saved: " + errors.join(" "));
        return null;
      });
    }, function () { return keep(list); }).then(function () { busy = false; }, function () { busy = false; });
  }

  form.addEventListener("input", function () { dirty = true; });
  setInterval(save, EVERY_MS);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") save(); });
  form.addEventListener("submit", function () { dirty = false; });

  // When the outbox has sent what this page kept, say so.
  window.addEventListener("fieldline:outbox", function () {
    if (!queued || !Outbox) return;
    Outbox.all().then(function (items) {
      if (!waitingHere(items).length) { queued = false; say("Draft saved at " + time() + " (sent from this phone)."); }
    });
  });

  // Back on the page with changes still waiting on this phone: show them, not the older server copy.
  if (Outbox) {
    Outbox.all().then(function (items) {
      var mine = waitingHere(items).filter(function (item) {
        return String(item.userId) === document.body.getAttribute("data-user");
      });
      if (!mine.length) return;
      var latest = mine[mine.length - 1];
      latest.fields.forEach(function (pair) {
        var control = form.querySelector("textarea[name='" + pair[0] + "']");
        if (control) control.value = pair[1];
      });
      queued = true;
      say("Your changes saved on this phone are shown: they will send when you have signal.");
    });
  }
})();
