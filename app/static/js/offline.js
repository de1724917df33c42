// The page side of the outbox (outbox.js): offline-capable forms, the sync indicator, the
// "Waiting to send" page, fixing a refused item, wiping at sign-out, and the update prompt.
(function () {
  "use strict";

  var Outbox = window.FieldlineOutbox;
  var body = document.body;
  if (!Outbox || !("indexedDB" in window)) return;

  function signedIn() { return body && body.getAttribute("data-signed-in") === "yes"; }
  function user() { return body.getAttribute("data-user"); }
  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  // At the top of the page, or beside a form's own Save (where the worker is looking) when given.
  function message(text, tone, beside) {
    var box = beside || document.getElementById("messages");
    if (!box) return;
    var notice = document.createElement("div");
    notice.className = "notice notice--" + (tone || "warn");
    notice.setAttribute("role", "status");
    var p = document.createElement("p");
    p.textContent = text;
    notice.appendChild(p);
    if (beside) {
      beside.querySelectorAll(":scope > .notice").forEach(function (old) { old.remove(); });
      beside.insertBefore(notice, beside.firstChild);
    } else {
      box.appendChild(notice);
    }
  }

  function requestSync() {
    if (!navigator.serviceWorker) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) return registration.sync.register("fieldline-outbox");
    }).catch(function () { /* the online event and the next page load still flush */ });
  }

  // ---- the indicator in the header ----

  function refreshStatus() {
    var link = document.querySelector("[data-outbox-status]");
    return Outbox.summary().then(function (s) {
      if (link) {
        var text, tone;
        if (s.attention) { text = plural(s.attention, "needs", "need") + " your attention"; tone = "attention"; }
        else if (s.sending && s.waiting) { text = "Sending…"; tone = "sending"; }
        else if (s.paused === "signed-out" && s.waiting) { text = "Sign in to send " + s.waiting; tone = "attention"; }
        else if (s.waiting) { text = s.waiting + " waiting to send"; tone = "waiting"; }
        else { text = "All sent"; tone = "idle"; }
        if (s.attention === 1) text = "1 needs your attention";
        link.textContent = text;
        link.className = "sync sync--" + tone;
      }
      renderList(s);
      return s;
    });
  }

  // ---- offline-capable forms ----

  function fields(form, submitter) {
    var data = new FormData(form, submitter || undefined);
    var list = [];
    data.forEach(function (value, name) {
      if (value instanceof File) {
        if (value.size) list.push([name, { blob: value, name: value.name, type: value.type }]);
      } else {
        list.push([name, value]);
      }
    });
    return list;
  }

  function describe(form) {
    var chosen = form.querySelector("[name=person_id]:checked");
    var label = chosen && chosen.closest("label");
    var street = form.querySelector("[name=street_description]");
    var name = label && label.querySelector("strong");
    if (name) return name.textContent.trim();
    return street && street.value ? "New street contact" : "";
  }

  function keyInput(form) {
    var input = form.querySelector("input[name=idempotency_key]");
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "idempotency_key";
      form.appendChild(input);
    }
    return input;
  }

  // One form, one item, one key: a second tap while the first is being kept or sent is ignored
  // (the browser would otherwise send the form twice, or the outbox keep it twice).
  var SPENT_MS = 2000;

  function newKey() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }

  function resubmit(form, submitter) {
    form.setAttribute("data-outbox-sending", "native");
    form.fieldlineResubmitting = true;
    form.requestSubmit(submitter || undefined);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-offline]") || !signedIn()) return;
    if (form.fieldlineResubmitting) { form.fieldlineResubmitting = false; return; } // our own send, below
    event.preventDefault();
    if (form.hasAttribute("data-outbox-busy") || form.getAttribute("data-outbox-sending") === "native") return;
    form.setAttribute("data-outbox-busy", "");
    var submitter = event.submitter;
    var key = newKey();
    keyInput(form).value = key;
    var offline = navigator.onLine === false;
    var item = {
      key: key, userId: user(), url: new URL(form.action, location.href).pathname,
      formUrl: location.pathname, label: form.getAttribute("data-offline") || "Form", summary: describe(form),
      madeAt: new Date().toISOString(), createdAt: Date.now(), fields: fields(form, submitter),
      state: offline ? "waiting" : "native", sentAt: Date.now(),
    };
    var replaces = form.getAttribute("data-outbox-replaces");
    Outbox.put(item)
      .then(function () { return replaces ? Outbox.remove(replaces) : null; })
      .then(function () {
        if (offline) {
          savedOffline(form);
          requestSync();
          // A tap that lands just after the save is the same tap, not a second record.
          setTimeout(function () { form.removeAttribute("data-outbox-busy"); }, SPENT_MS);
          return;
        }
        resubmit(form, submitter);
      }, function () {
        // No storage (private mode, quota): just send it the ordinary way.
        resubmit(form, submitter);
      });
  });

  // Every other form: a second tap while the answer is on its way is ignored, and the form carries
  // an Idempotency-Key, so a send repeated anyway (a retry after a while) gets the first answer.
  var RETRY_AFTER_MS = 10000;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches || form.matches("form[data-offline], form[data-logout]")) return;
    if (!signedIn() || (form.getAttribute("method") || "").toLowerCase() !== "post") return;
    if (Date.now() - Number(form.getAttribute("data-sent-at") || 0) < RETRY_AFTER_MS) {
      event.preventDefault();
      return;
    }
    var input = keyInput(form);
    if (!input.value) input.value = newKey();
    form.setAttribute("data-sent-at", String(Date.now()));
  });

  // Back to a page kept by the browser: its form may be sent again, and then replaces its earlier
  // item if that is still waiting (so it cannot go twice).
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-sent-at]").forEach(function (form) {
      form.removeAttribute("data-sent-at");
      keyInput(form).value = "";
    });
    document.querySelectorAll("form[data-offline]").forEach(function (form) {
      form.removeAttribute("data-outbox-busy");
      form.removeAttribute("data-outbox-sending");
      var key = keyInput(form).value;
      if (key) form.setAttribute("data-outbox-replaces", key);
    });
  });

  function savedOffline(form) {
    var isVisit = /\/visits\//.test(form.action);
    message(isVisit
      ? "Saved on this phone — will send when you have signal. The server has not heard this yet: your deadline has not moved."
      : "Saved on this phone — will send when you have signal.", "warn", form.querySelector(".form-actions"));
    form.removeAttribute("data-outbox-replaces");
    if (!isVisit) form.reset();
    keyInput(form).value = "";
    form.querySelectorAll("[data-made-at]").forEach(function (input) { input.value = ""; });
    refreshStatus();
  }

  // ---- the "Waiting to send" page ----

  function renderList(s) {
    var list = document.querySelector("[data-outbox-list]");
    if (!list) return;
    var summaryLine = document.querySelector("[data-outbox-summary]");
    if (summaryLine) {
      summaryLine.textContent = s.total ? plural(s.waiting, "item", "items") + " waiting, " + s.attention + " needing your attention."
        : "Nothing waiting: everything you saved has been sent.";
    }
    list.textContent = "";
    s.items.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "list__item outbox__item outbox__item--" + item.state;
      var title = document.createElement("p");
      var strong = document.createElement("strong");
      strong.textContent = item.label + (item.summary ? ": " + item.summary : "");
      title.appendChild(strong);
      // As the rest of the app writes times ("Tue 1 Dec, 14:05"), whatever the phone's language.
      var made = new Date(item.madeAt).toLocaleString("en-GB", { weekday: "short", day: "numeric", month: "short",
        hour: "2-digit", minute: "2-digit" });
      title.appendChild(document.createTextNode(" · made " + made));
      li.appendChild(title);
      var why = document.createElement("p");
      why.className = "tag tag--" + (item.state === "attention" ? "danger" : "warn");
      why.textContent = item.state === "attention" ? "Needs your attention" :
        String(item.userId) !== String(user()) ? "Waiting for the person who made it to sign in" : "Waiting for signal";
      li.appendChild(why);
      (item.problems || []).forEach(function (problem) {
        var p = document.createElement("p");
        p.className = "error";
        p.textContent = problem;
        li.appendChild(p);
      });
      var actions = document.createElement("p");
      actions.className = "actions";
      if (item.state === "attention" && /^\/contacts\/new$/.test(item.formUrl)) {
        var fix = document.createElement("a");
        fix.className = "button button--primary";
        fix.href = item.formUrl + "#outbox=" + encodeURIComponent(item.key);
        fix.textContent = "Fix";
        actions.appendChild(fix);
      }
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button button--secondary";
      discard.textContent = "Discard";
      discard.addEventListener("click", function () {
        if (window.confirm("Discard this " + item.label.toLowerCase() + "? It will not be sent.")) Outbox.remove(item.key);
      });
      actions.appendChild(discard);
      li.appendChild(actions);
      list.appendChild(li);
    });
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-outbox-send]")) return;
    // "Send now" includes what was refused before: the worker may have fixed the cause.
    Outbox.all().then(function (items) {
      return Promise.all(items.filter(function (i) { return i.state === "native"; })
        .map(function (i) { return Outbox.update(i.key, { state: "waiting" }); }));
    }).then(flush);
  });

  // ---- fixing a refused item: the form it came from, filled in again ----

  function fillForm(form, item) {
    var files = {};
    item.fields.forEach(function (pair) {
      var name = pair[0], value = pair[1];
      if (name === "csrf_token" || name === "idempotency_key") return;
      if (value && typeof value === "object") { (files[name] = files[name] || []).push(value); return; }
      form.querySelectorAll("[name='" + name + "']").forEach(function (control) {
        if (control.type === "checkbox" || control.type === "radio") {
          if (control.value === value) control.checked = true;
        } else if (control.type !== "file") {
          control.value = value;
        }
      });
    });
    Object.keys(files).forEach(function (name) {
      var input = form.querySelector("input[type=file][name='" + name + "']");
      if (!input || !window.DataTransfer) return;
      var transfer = new DataTransfer();
      files[name].forEach(function (f) { transfer.items.add(new File([f.blob], f.name, { type: f.type })); });
      input.files = transfer.files;
    });
  }

  function openForFixing() {
    var match = location.hash.match(/^#outbox=(.+)$/);
    var form = document.querySelector("form[data-offline]");
    if (!match || !form) return;
    var key = decodeURIComponent(match[1]);
    Outbox.all().then(function (items) {
      var item = items.filter(function (i) { return i.key === key; })[0];
      if (!item) return;
      fillForm(form, item);
      form.setAttribute("data-outbox-replaces", key);
      (item.problems || ["Check this and send it again."]).forEach(function (problem) { message(problem, "error"); });
    });
  }

  // ---- sending, and when ----

  function flush() {
    if (!signedIn()) return Promise.resolve();
    return Outbox.flush().catch(function () { /* no signal: kept for later */ }).then(refreshStatus);
  }

  function dropAnswered() {
    var answered = (body.getAttribute("data-outbox-answered") || "").split(" ").filter(Boolean);
    return Promise.all(answered.map(function (key) { return Outbox.remove(key); }));
  }

  function defaultTimes() {
    var now = new Date();
    now.setSeconds(0, 0);
    var local = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    document.querySelectorAll("input[data-default-now]").forEach(function (input) { input.value = local; });
  }

  window.addEventListener("online", flush);
  // The online event is not always fired (a connection back without the browser noticing, or a
  // browser that misses it): while something of this user's whose send failed waits and the page
  // is in front, try again too: after 5 s, then less often (up to every 30 s) while it still waits, so
  // a queued Crisis alarm need not wait for Background Sync's next retry. Nothing due: no request
  // (which would also keep an idle session alive).
  var RETRY_FIRST_MS = 5000, RETRY_MOST_MS = 30000;
  var retryIn = RETRY_FIRST_MS;
  function retryLater() {
    setTimeout(function () {
      if (!signedIn() || document.visibilityState !== "visible") return retryLater();
      Outbox.hasWaiting(user()).then(function (due) {
        if (!due) {
          retryIn = RETRY_FIRST_MS;
          return null;
        }
        retryIn = Math.min(retryIn * 2, RETRY_MOST_MS);
        return flush();
      }).catch(function () { /* no outbox to read: nothing waits */ }).then(retryLater);
    }, retryIn);
  }
  retryLater();
  window.addEventListener("fieldline:outbox", refreshStatus);
  if (Outbox.channel) Outbox.channel.addEventListener("message", refreshStatus);
  document.addEventListener("DOMContentLoaded", function () {
    defaultTimes();
    // Deactivated or signed out everywhere by an admin (the sign-in page says so): wipe, no questions.
    if (document.querySelector("[data-wipe-phone]")) wipeEverything();
    if (!signedIn()) return; // the queue waits, untouched, for its owner to sign in again
    dropAnswered().then(refreshStatus).then(function () {
      openForFixing();
      if (navigator.onLine !== false) flush();
    });
    if (signedIn() && navigator.onLine !== false && navigator.serviceWorker) {
      navigator.serviceWorker.ready.then(function (registration) {
        var visit = document.querySelector(".visit-bar a[href^='/visits/']");
        if (registration.active) {
          registration.active.postMessage({ type: "refresh-pages", extra: visit ? [visit.getAttribute("href")] : [] });
        }
      });
    }
  });

  // ---- signing out wipes what the phone holds, after a warning if something is unsent ----

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-logout]") || form.getAttribute("data-wiped") === "yes") return;
    event.preventDefault();
    Outbox.summary().then(function (s) {
      var mine = s.items.length;
      if (mine && !window.confirm(plural(mine, "item on this phone has", "items on this phone have") +
          " not been sent. Signing out deletes " + (mine === 1 ? "it" : "them") + ". Sign out anyway?")) return null;
      return wipeEverything().then(function () {
        form.setAttribute("data-wiped", "yes");
        form.submit();
      });
    });
  });

  function wipeEverything() {
    var caches = window.caches ? window.caches.keys().then(function (names) {
      return Promise.all(names.map(function (name) { return window.caches.delete(name); }));
    }) : Promise.resolve();
    try { window.localStorage.clear(); window.sessionStorage.clear(); } catch (e) { /* private mode */ }
    // The server unregisters this device at sign-out; the browser's side goes too, so that the
    // next person to sign in here is not told "This phone gets alerts" when it does not.
    var push = navigator.serviceWorker ? navigator.serviceWorker.getRegistration().then(function (registration) {
      return registration && registration.pushManager ? registration.pushManager.getSubscription() : null;
    }).then(function (subscription) { return subscription && subscription.unsubscribe(); })
      .catch(function () { /* nothing to undo */ }) : Promise.resolve();
    return Promise.all([Outbox.wipe(), caches, push]);
  }

  // ---- a new version: say so, and reload only when the worker chooses ----

  if (navigator.serviceWorker) {
    navigator.serviceWorker.getRegistration().then(function (registration) {
      if (!registration) return;
      function offer(worker) {
        var banner = document.querySelector("[data-update-banner]");
        if (!banner || !worker) return;
        banner.hidden = false;
        banner.querySelector("[data-update-reload]").onclick = function () {
          worker.postMessage({ type: "skip-waiting" });
        };
      }
      if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
      registration.addEventListener("updatefound", function () {
        var incoming = registration.installing;
        if (!incoming) return;
        incoming.addEventListener("statechange", function () {
          if (incoming.state === "installed" && navigator.serviceWorker.controller) offer(incoming);
        });
      });
    });
    var reloading = false;
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      if (reloading || !document.querySelector("[data-update-banner]:not([hidden])")) return;
      reloading = true;
      location.reload();
    });
  }
})();
