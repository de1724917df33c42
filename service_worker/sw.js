/* Fieldline service worker.
 *
 * Precaches the app shell (versioned by the server from the static files' contents), serves pages
 * network-first with a short timeout and falls back to a cached copy or the offline page, and
 * serves static files stale-while-revalidate. Pages with personal data are kept only when the
 * server marks them `Fieldline-Offline: keep` (the few a worker needs at the door: Today, the
 * running visit, names and flags of my caseload, Log contact, Crisis, the outbox), in their own
 * cache that sign-out deletes. It never caches other pages, non-GET requests or htmx fragments.
 * It sends the outbox (outbox.js) on Background Sync and whenever it starts.
 */
"use strict";

const VERSION = "__FIELDLINE_VERSION__";
const SHELL_CACHE = "fieldline-shell-" + VERSION;
const PAGES_CACHE = "fieldline-pages";
const PRECACHE = __FIELDLINE_PRECACHE__;
const OFFLINE_PAGES = __FIELDLINE_OFFLINE_PAGES__;
const OFFLINE_URL = "/offline";
const SAVED_URL = "/offline/saved";
const NETWORK_TIMEOUT_MS = 4000;
const REFRESH_EVERY_MS = 5 * 60 * 1000;

importScripts(__FIELDLINE_OUTBOX_SCRIPT__);
const Outbox = self.FieldlineOutbox;

self.addEventListener("install", (event) => {
  // No skipWaiting here: an update waits until the worker taps "Reload" (offline.js), so a page
  // never changes under their thumb. The outbox lives in IndexedDB and survives updates.
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(PRECACHE)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("fieldline-shell-") && name !== SHELL_CACHE)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "skip-waiting") self.skipWaiting();
  if (data.type === "refresh-pages") event.waitUntil(refreshPages(data.extra || []));
});

function keepOffline(response) {
  return Boolean(response && response.ok && response.type === "basic"
    && response.headers.get("Fieldline-Offline") === "keep");
}

function shellCacheable(response) {
  if (!response || !response.ok || response.type !== "basic" || keepOffline(response)) return false;
  const control = response.headers.get("Cache-Control") || "";
  return !/no-store|private/i.test(control);
}

function pageKey(url) {
  return new URL(url, self.location.origin).pathname;
}

async function remember(url, response) {
  if (keepOffline(response)) {
    const cache = await caches.open(PAGES_CACHE);
    await cache.put(pageKey(url), response.clone());
  }
}

let lastRefresh = 0;
async function refreshPages(extra) {
  if (Date.now() - lastRefresh < REFRESH_EVERY_MS && !extra.length) return;
  lastRefresh = Date.now();
  const urls = OFFLINE_PAGES.concat(extra.filter((url) => /^\/visits\/\d+$/.test(url)));
  await Promise.all(urls.map(async (url) => {
    try {
      // Marked as a copy: the server then leaves the page's messages and the cookie alone.
      const response = await fetch(url, {
        credentials: "same-origin", redirect: "manual", headers: { "Fieldline-Copy": "1" },
      });
      await remember(url, response);
    } catch (error) {
      // No signal: keep what we have.
    }
  }));
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error) => { clearTimeout(timer); reject(error); }
    );
  });
}

async function offlineCopy(request) {
  const path = pageKey(request.url);
  const pages = await caches.open(PAGES_CACHE);
  const kept = (await pages.match(path)) || (path === "/caseload" ? await pages.match("/caseload/offline") : null);
  return kept || (await caches.match(OFFLINE_URL)) || Response.error();
}

// The server says this phone's account was deactivated or signed out by an admin: delete what
// the phone kept (the outbox too: the server can no longer accept it from this account).
async function wipeIfTold(response) {
  if (response.headers.get("Fieldline-Wipe") !== "1") return;
  const names = await caches.keys();
  await Promise.all([Outbox.wipe(), ...names.map((name) => caches.delete(name))]);
}

async function networkFirstPage(request) {
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    await wipeIfTold(response);
    if (keepOffline(response) && !new URL(request.url).search) {
      await remember(request.url, response);
    } else if (shellCacheable(response)) {
      const cache = await caches.open(SHELL_CACHE);
      cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    return offlineCopy(request);
  }
}

// A form the browser sends itself (outbox.js saved it first). With no signal, say it is kept.
async function sendForm(request) {
  let key = null;
  try {
    const data = await request.clone().formData();
    key = data.get("idempotency_key");
  } catch (error) {
    key = null;
  }
  try {
    const response = await fetch(request);
    await wipeIfTold(response);
    // The server could not save it (503 on a full disk): the outbox sends it again, no grace to wait out.
    if (key && response.status >= 500) await Outbox.update(key, { state: "waiting" }).catch(() => undefined);
    return response;
  } catch (error) {
    if (!key) {
      // Not an outbox form (signing in, for instance): nothing was kept, so do not say it was.
      return (await caches.match(OFFLINE_URL)) || Response.error();
    }
    await Outbox.update(key, { state: "waiting" });
    if (self.registration.sync) self.registration.sync.register("fieldline-outbox").catch(() => undefined);
    return (await caches.match(SAVED_URL)) || (await caches.match(OFFLINE_URL)) || Response.error();
  }
}

async function staleWhileRevalidate(event) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(event.request);
  const refresh = fetch(event.request).then((response) => {
    if (shellCacheable(response)) cache.put(event.request, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(refresh.catch(() => undefined));
    return cached;
  }
  return refresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && request.mode === "navigate") {
    event.respondWith(sendForm(request));
    return;
  }
  if (request.method !== "GET") return;
  if (request.headers.get("HX-Request")) return; // fragments always come from the network
  if (request.mode === "navigate") {
    event.respondWith(networkFirstPage(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(staleWhileRevalidate(event));
  }
});

/* ---- The outbox: Background Sync, and a flush whenever this worker starts ---- */

self.addEventListener("sync", (event) => {
  if (event.tag === "fieldline-outbox") event.waitUntil(Outbox.flush());
});

Outbox.flush().catch(() => undefined);

/* ---- Push: show what arrived, act on a tap, keep the subscription alive ---- */

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = {};
  }
  const title = message.title || "Fieldline";
  const actions = message.ack_url
    ? [{ action: "acknowledge", title: "Acknowledge" }, { action: "open", title: "Open" }]
    : [{ action: "open", title: "Open" }];
  const shown = self.registration.showNotification(title, {
    body: message.body || "Open Fieldline",
    tag: message.tag || undefined,
    renotify: Boolean(message.tag),
    requireInteraction: message.type === "safety",
    icon: "/static/icons/icon-192.png",
    data: { url: message.url || "/", ack_url: message.ack_url || null, type: message.type || null },
    actions,
  });
  event.waitUntil(shown);
});

async function csrfToken() {
  const response = await fetch("/session/csrf-token", { credentials: "same-origin" });
  if (!response.ok) throw new Error("signed out");
  return (await response.json()).token;
}

async function openOrFocus(url) {
  const target = new URL(url, self.location.origin).href;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) {
    if (new URL(client.url).origin === self.location.origin && "focus" in client) {
      await client.focus();
      if (client.url !== target && "navigate" in client) return client.navigate(target);
      return client;
    }
  }
  return self.clients.openWindow(target);
}

async function handleNotificationClick(notification, action) {
  const data = notification.data || {};
  notification.close();
  if (action === "acknowledge" && data.ack_url) {
    try {
      // The same endpoint the page's Acknowledge button posts to.
      const response = await fetch(data.ack_url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": await csrfToken(), Accept: "application/json" },
      });
      if (response.ok) return response;
    } catch (error) {
      // Signed out or no signal: open the page so the person can acknowledge there.
    }
  }
  return openOrFocus(data.url || "/");
}

self.addEventListener("notificationclick", (event) => {
  const work = handleNotificationClick(event.notification, event.action);
  try {
    event.waitUntil(work);
  } catch (error) {
    // A click dispatched by script (not the browser) cannot extend its lifetime; the work still runs.
  }
});

self.addEventListener("pushsubscriptionchange", (event) => {
  const renew = (async () => {
    const subscription = event.newSubscription || (await self.registration.pushManager.subscribe(
      event.oldSubscription ? event.oldSubscription.options : { userVisibleOnly: true }
    ));
    await fetch("/push/subscriptions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": await csrfToken() },
      body: JSON.stringify(subscription.toJSON()),
    });
  })();
  event.waitUntil(renew);
});
