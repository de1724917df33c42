/* Fieldline service worker.
 *
 * Precaches the app shell (versioned by the server from the static files' contents), serves pages
 * network-first with a short timeout and falls back to a cached copy or the offline page, and
 * serves static files stale-while-revalidate. It never caches non-GET requests, htmx fragments, or
 * responses marked no-store (every page with personal data is).
 */
"use strict";

const VERSION = "__FIELDLINE_VERSION__";
const SHELL_CACHE = "fieldline-shell-" + VERSION;
const PRECACHE = __FIELDLINE_PRECACHE__;
const OFFLINE_URL = "/offline";
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting())
  );
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

function cacheable(response) {
  if (!response || !response.ok || response.type !== "basic") return false;
  const control = response.headers.get("Cache-Control") || "";
  return !/no-store/i.test(control);
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

async function networkFirstPage(request) {
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (cacheable(response)) {
      const cache = await caches.open(SHELL_CACHE);
      cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(request);
    return cached || (await caches.match(OFFLINE_URL)) || Response.error();
  }
}

async function staleWhileRevalidate(event) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(event.request);
  const refresh = fetch(event.request).then((response) => {
    if (cacheable(response)) cache.put(event.request, response.clone());
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
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.headers.get("HX-Request")) return; // fragments always come from the network
  if (request.mode === "navigate") {
    event.respondWith(networkFirstPage(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(staleWhileRevalidate(event));
  }
});

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
