// Fieldline's outbox: forms marked data-offline are written to IndexedDB before they are sent,
// and sent again (same Idempotency-Key, so the server applies each once) until the server has
// answered. Loaded by pages and by the service worker (importScripts), which flushes it on
// Background Sync and whenever it starts.
(function (scope) {
  "use strict";

  var DB_NAME = "fieldline-outbox";
  var STORE = "items";
  var LOCK = "fieldline-outbox-flush";
  var CHANNEL = "fieldline-outbox";
  // A form the browser is sending itself is left alone this long before a flush may resend it.
  var NATIVE_GRACE_MS = 30000;
  var KEEP_DAYS = 7;
  var channel = "BroadcastChannel" in scope ? new BroadcastChannel(CHANNEL) : null;
  var state = { sending: false, paused: null };

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var store = request.result.createObjectStore(STORE, { keyPath: "key" });
        store.createIndex("created", "createdAt");
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  // Another flusher (the service worker, another tab) says how its flush went.
  if (channel) {
    channel.addEventListener("message", function (event) {
      var data = event.data || {};
      if (data.type === "changed" && "paused" in data && !state.sending) state.paused = data.paused;
    });
  }

  function announce() {
    if (channel) channel.postMessage({ type: "changed", sending: state.sending, paused: state.paused });
    if (scope.document) scope.dispatchEvent(new CustomEvent("fieldline:outbox"));
  }

  // Whether there is an outbox at all: reading must not create one (after sign-out there is none,
  // and a page or service worker looking at it should not leave an empty database behind).
  function exists() {
    if (!indexedDB.databases) return Promise.resolve(true);
    return indexedDB.databases().then(function (list) {
      return list.some(function (db) { return db.name === DB_NAME; });
    }, function () { return true; });
  }

  function all() {
    return exists().then(function (present) {
      if (!present) return [];
      return run("readonly", function (store) { return store.index("created").getAll(); });
    });
  }
  function put(item) {
    return run("readwrite", function (store) { store.put(item); }).then(function () { announce(); });
  }
  function remove(key) {
    return run("readwrite", function (store) { store.delete(key); }).then(function () { announce(); });
  }
  function update(key, changes) {
    return run("readwrite", function (store) {
      var request = store.get(key);
      request.onsuccess = function () {
        if (request.result) store.put(Object.assign(request.result, changes));
      };
    }).then(function () { announce(); });
  }
  function wipe() {
    return new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
    });
  }

  // ---- sending ----

  function token() {
    return fetch("/session/csrf-token", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        // Deactivated or signed out by an admin: nothing here can be sent any more (see sw.js).
        if (response.headers.get("Fieldline-Wipe") === "1") return wipe().then(function () { return { signedOut: true }; });
        if (response.status === 401 || response.status === 403) return { signedOut: true };
        if (!response.ok) throw new Error("server " + response.status);
        return response.json();
      });
  }

  function body(item, csrf) {
    var form = new FormData();
    item.fields.forEach(function (pair) {
      var name = pair[0], value = pair[1];
      if (name === "csrf_token") return;
      if (value && typeof value === "object" && value.blob) form.append(name, value.blob, value.name);
      else form.append(name, value);
    });
    form.append("csrf_token", csrf);
    return form;
  }

  // What the server said is wrong, from a JSON answer or from the error messages of a form page.
  function problems(response) {
    var type = response.headers.get("Content-Type") || "";
    return response.text().then(function (text) {
      if (type.indexOf("json") >= 0) {
        try {
          var data = JSON.parse(text);
          if (data.errors) return Object.keys(data.errors).map(function (k) { return data.errors[k]; });
          if (data.error) return [data.error];
        } catch (e) { /* fall through */ }
      }
      if (scope.DOMParser) {
        var page = new DOMParser().parseFromString(text, "text/html");
        // The messages next to the fields say what to fix; the summary at the top only that something is wrong.
        var nodes = page.querySelectorAll("main .error");
        if (!nodes.length) nodes = page.querySelectorAll("main .notice--error p");
        var found = Array.prototype.map.call(nodes, function (node) {
          return node.textContent.replace(/^\s*Error:\s*/, "").trim();
        }).filter(Boolean);
        if (found.length) return found;
      } else {
        // No DOMParser in a service worker: the same messages, read from the markup.
        var entities = { "&#39;": "'", "&quot;": '"', "&amp;": "&", "&lt;": "<", "&gt;": ">" };
        var matches = (text.match(/<p class="error"[^>]*>[\s\S]*?<\/p>/g) || []).map(function (m) {
          return m.replace(/<[^>]+>/g, "").replace(/&#39;|&quot;|&amp;|&lt;|&gt;/g, function (e) { return entities[e]; })
            .replace(/^\s*Error:\s*/, "").trim();
        }).filter(Boolean);
        if (matches.length) return matches;
      }
      return ["Fieldline could not accept this. Check it and send it again, or discard it."];
    });
  }

  function sendOne(item, session) {
    var headers = { "Idempotency-Key": item.key, "X-CSRFToken": session.token, Accept: "application/json" };
    return fetch(item.url, { method: "POST", body: body(item, session.token), headers: headers,
                             credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        var status = response.status;
        if (response.type === "opaqueredirect" || (status >= 200 && status < 400)) {
          return remove(item.key).then(function () { return "sent"; });
        }
        if (status === 401) return "signed-out";
        if (status === 409 || status === 429 || status >= 500) return "later";
        if (status === 400 && !session.retried) return "new-token";
        if (status === 404) {
          return update(item.key, { state: "attention", problems: [
            "This can no longer be sent: the record it was for has ended or is not yours to change."] })
            .then(function () { return "attention"; });
        }
        return problems(response).then(function (list) {
          return update(item.key, { state: "attention", problems: list }).then(function () { return "attention"; });
        });
      }, function () { return "offline"; });
  }

  function sendable(item, userId, now) {
    if (item.state === "attention" || String(item.userId) !== String(userId)) return false;
    return !(item.state === "native" && now - (item.sentAt || 0) < NATIVE_GRACE_MS);
  }

  // Send everything that can go, oldest first. Resolves with why it stopped; rejects when there is
  // no connection (so Background Sync tries again later).
  function flushLocked() {
    var session = { token: null, user: null, retried: false };
    state.sending = true;
    state.paused = null;
    announce();
    function next() {
      return all().then(function (items) {
        var now = Date.now();
        var due = items.filter(function (item) { return sendable(item, session.user, now); });
        if (!due.length) return "done";
        return sendOne(due[0], session).then(function (outcome) {
          if (outcome === "sent" || outcome === "attention") return next();
          if (outcome === "new-token") {
            session.retried = true;
            return token().then(function (fresh) { session.token = fresh.token; return next(); });
          }
          return outcome;
        });
      });
    }
    return all()
      .then(function (items) {
        var cutoff = Date.now() - KEEP_DAYS * 86400000;
        var expired = items.filter(function (item) { return item.createdAt < cutoff && item.state !== "attention"; });
        return Promise.all(expired.map(function (item) {
          return update(item.key, { state: "attention", problems: ["Not sent for " + KEEP_DAYS + " days: check it and send it again, or discard it."] });
        })).then(function () { return items.length; });
      })
      .then(function (count) {
        if (!count) return "done";
        return token().then(function (fresh) {
          if (fresh.signedOut) return "signed-out";
          session.token = fresh.token;
          session.user = fresh.user;
          return next();
        }, function () { return "offline"; });
      })
      .then(function (outcome) {
        state.sending = false;
        state.paused = outcome === "signed-out" ? "signed-out" : outcome === "offline" ? "offline" : null;
        announce();
        if (outcome === "offline") throw new Error("offline");
        return outcome;
      }, function (error) {
        state.sending = false;
        announce();
        throw error;
      });
  }

  function flush() {
    if (scope.navigator && scope.navigator.locks) {
      // Whoever holds the lock sends everything, including what was added meanwhile.
      return scope.navigator.locks.request(LOCK, { ifAvailable: true }, function (lock) {
        return lock ? flushLocked() : "busy";
      });
    }
    return flushLocked();
  }

  function summary() {
    return all().then(function (items) {
      var attention = items.filter(function (i) { return i.state === "attention"; }).length;
      return { total: items.length, attention: attention, waiting: items.length - attention,
               sending: state.sending, paused: state.paused, items: items };
    });
  }

  // Whether something of this user's is waiting because its send failed (not another user's, not
  // one needing their attention, and not a form the browser is sending itself, however slowly:
  // a photo upload on a weak signal is left to finish).
  function hasWaiting(userId) {
    return all().then(function (items) {
      return items.some(function (item) {
        return item.state === "waiting" && String(item.userId) === String(userId);
      });
    });
  }

  scope.FieldlineOutbox = { all: all, put: put, remove: remove, update: update, wipe: wipe, flush: flush,
                            summary: summary, hasWaiting: hasWaiting, channel: channel, NATIVE_GRACE_MS: NATIVE_GRACE_MS };
})(self);
