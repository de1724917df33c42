// The Crisis button: hold for two seconds to send an alarm (a pocket or a stray tap cannot). A
// short tap does nothing; the keyboard (Enter) opens the Crisis page to confirm there. With no data
// signal the alarm stays in the outbox and the phone's SMS app is offered, addressed to the duty
// phone with the location in the message.
(function () {
  "use strict";

  var HOLD_MS = 2000;
  var SEND_TIMEOUT_MS = 4000;
  var LOCATION_TIMEOUT_MS = 3000;
  var holding = null;

  function locate() {
    return new Promise(function (resolve) {
      if (!("geolocation" in navigator)) return resolve(null);
      var done = false;
      var finish = function (value) { if (!done) { done = true; resolve(value); } };
      // No fix must never delay the alarm: whatever we have after a few seconds goes.
      setTimeout(function () { finish(null); }, LOCATION_TIMEOUT_MS);
      navigator.geolocation.getCurrentPosition(function (p) { finish(p.coords); }, function () { finish(null); },
        { enableHighAccuracy: true, timeout: LOCATION_TIMEOUT_MS, maximumAge: 60000 });
    });
  }

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function panel(title, text) {
    var box = document.querySelector("[data-crisis-panel]");
    box.hidden = false;
    box.querySelector("[data-crisis-title]").textContent = title;
    box.querySelector("[data-crisis-text]").textContent = text;
    return box;
  }

  function smsLink(button, coords) {
    var phone = button.getAttribute("data-duty-phone");
    if (!phone) return null;
    var text = "FIELDLINE CRISIS: " + button.getAttribute("data-worker") + " needs help now.";
    if (coords) {
      var lat = coords.latitude.toFixed(5), lon = coords.longitude.toFixed(5);
      text += " Location: " + lat + ", " + lon + " https://www.openstreetmap.org/?mlat=" + lat + "&mlon=" + lon;
    } else {
      text += " Location not known.";
    }
    if (button.getAttribute("data-visit")) text += " Visiting: " + button.getAttribute("data-visit") + ".";
    text += " Call them back; if no answer, call 999.";
    return "sms:" + phone + "?body=" + encodeURIComponent(text);
  }

  function noSignal(button, coords) {
    var box = panel("No data signal",
      "Your alarm is saved on this phone and will be sent as soon as there is data. Text the duty phone now: a text gets through where data does not.");
    var link = box.querySelector("[data-crisis-sms]");
    var sms = smsLink(button, coords);
    if (sms) {
      link.href = sms;
      link.hidden = false;
      link.focus();
      try { window.location.href = sms; } catch (e) { /* the link is there to tap */ }
    } else {
      box.querySelector("[data-crisis-text]").textContent =
        "Your alarm is saved on this phone and will be sent as soon as there is data. Your team has no duty phone: call 999 if you are in danger.";
    }
  }

  function send(button) {
    var Outbox = window.FieldlineOutbox;
    var key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    var madeAt = new Date().toISOString();
    panel("Sending your alarm…", "Hold on: your team is being alerted.");
    return locate().then(function (coords) {
      var fields = [["made_at", madeAt]];
      if (coords) {
        fields.push(["latitude", String(coords.latitude)], ["longitude", String(coords.longitude)],
                    ["accuracy", String(Math.round(coords.accuracy))]);
      }
      var item = { key: key, userId: document.body.getAttribute("data-user"), url: "/crisis/alarm",
                   formUrl: "/crisis", label: "Crisis alarm", summary: "", madeAt: madeAt, createdAt: Date.now(),
                   fields: fields, state: "native", sentAt: Date.now() };
      var saved = Outbox ? Outbox.put(item).catch(function () { return null; }) : Promise.resolve();
      return saved.then(function () {
        var form = new FormData();
        fields.forEach(function (pair) { form.append(pair[0], pair[1]); });
        form.append("csrf_token", csrf());
        var controller = window.AbortController ? new AbortController() : null;
        var timer = setTimeout(function () { if (controller) controller.abort(); }, SEND_TIMEOUT_MS);
        return fetch("/crisis/alarm", {
          method: "POST", body: form, credentials: "same-origin", signal: controller ? controller.signal : undefined,
          headers: { "Idempotency-Key": key, "X-CSRFToken": csrf(), Accept: "application/json" },
        }).then(function (response) {
          clearTimeout(timer);
          if (!response.ok) throw new Error("server " + response.status);
          return response.json();
        }).then(function (answer) {
          return (Outbox ? Outbox.remove(key) : Promise.resolve()).then(function () {
            window.location.assign(answer.next || "/");
          });
        }).catch(function () {
          clearTimeout(timer);
          // Kept in the outbox: sent (once, by its key) when data returns.
          if (Outbox) Outbox.update(key, { state: "waiting" });
          if (navigator.serviceWorker) {
            navigator.serviceWorker.ready.then(function (r) { if (r.sync) r.sync.register("fieldline-outbox"); })
              .catch(function () { return null; });
          }
          noSignal(button, coords);
        });
      });
    });
  }

  function cancel() {
    if (!holding) return;
    clearTimeout(holding.timer);
    holding.button.classList.remove("crisis--holding");
    holding = null;
  }

  document.addEventListener("pointerdown", function (event) {
    var button = event.target.closest("[data-crisis-hold]");
    if (!button || event.button > 0) return;
    event.preventDefault();
    cancel();
    button.classList.add("crisis--holding");
    holding = { button: button, fired: false, timer: setTimeout(function () {
      holding.fired = true;
      button.classList.remove("crisis--holding");
      button.classList.add("crisis--sent");
      if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
      send(button);
    }, HOLD_MS) };
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (holding && !holding.fired && (type !== "pointerleave" || event.target === holding.button)) cancel();
    }, true);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-crisis-hold]");
    if (!button) return;
    // A tap (pointer click) never sends or navigates; Enter on the keyboard (detail 0) opens the
    // Crisis page, where the alarm is confirmed with one more press.
    if (event.detail > 0) {
      event.preventDefault();
      if (!button.classList.contains("crisis--sent")) {
        var hint = document.getElementById("messages");
        if (hint && !hint.querySelector("[data-crisis-hint]")) {
          var p = document.createElement("div");
          p.className = "notice";
          p.setAttribute("data-crisis-hint", "");
          p.setAttribute("role", "status");
          p.textContent = "Hold Crisis for 2 seconds to send an alarm.";
          hint.appendChild(p);
        }
      }
    }
  });
  document.addEventListener("contextmenu", function (event) {
    if (event.target.closest("[data-crisis-hold]")) event.preventDefault(); // long-press menus
  });
})();

// With no signal. The page the service worker shows in place of one it could not fetch is kept for
// anyone, so it holds no personal data: here it takes this worker's visit bar and Crisis details
// from the copy of Today the phone kept, so I'm safe and Crisis work from it too. And a Log contact
// link for one person (?person=N) chooses them on the kept Log contact page.
(function () {
  "use strict";

  function keptToday() {
    if (!window.caches || !window.DOMParser) return Promise.resolve(null);
    return caches.open("fieldline-pages").then(function (cache) { return cache.match("/"); })
      .then(function (response) { return response ? response.text() : null; })
      .then(function (html) { return html ? new DOMParser().parseFromString(html, "text/html") : null; });
  }

  function adopt(kept) {
    if (!kept || kept.body.getAttribute("data-signed-in") !== "yes") return;
    ["data-signed-in", "data-user", "hx-headers"].forEach(function (name) {
      var value = kept.body.getAttribute(name);
      if (value !== null) document.body.setAttribute(name, value);
    });
    var bar = kept.querySelector("[data-visit-bar]");
    var slot = document.querySelector("[data-kept-visit-bar]");
    if (bar && slot) slot.replaceWith(document.importNode(bar, true));
    var from = kept.querySelector("[data-crisis-hold]");
    var crisis = document.querySelector("[data-crisis-hold]");
    if (from && crisis) {
      ["data-worker", "data-duty-phone", "data-visit"].forEach(function (name) {
        if (from.hasAttribute(name)) crisis.setAttribute(name, from.getAttribute(name));
      });
    }
    window.dispatchEvent(new Event("fieldline:outbox")); // the header's "waiting to send" count
  }

  function choosePerson() {
    var person = new URLSearchParams(location.search).get("person");
    if (!person || !/^\d+$/.test(person) || document.querySelector("input[name=person_id]:checked")) return;
    var radio = document.querySelector("input[name=person_id][value='" + person + "']");
    if (radio) radio.checked = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.hasAttribute("data-no-signal")) keptToday().then(adopt).catch(function () { return null; });
    choosePerson();
  });
})();
