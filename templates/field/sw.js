// GVR Case Manager service worker (served by interventions/views/field.py at the site root).
// It keeps three pages of an outreach worker's own caseload for use without a connection (the
// home page, the caseload and the session form) and the static files they need. Nothing else:
// participant pages, manager, metrics and admin pages always come from the network. The page
// script (static/js/offline.js) registers this worker only for outreach workers and deletes its
// caches at logout. Sessions logged offline are queued by that script, not here.
"use strict";

const VERSION = "__VERSION__";
const CACHE_PREFIX = "gvr-offline-";
const CACHE = CACHE_PREFIX + VERSION;
const PAGES = {{ pages|safe }};
const STATIC_FILES = {{ static_files|safe }};
{% load i18n %}{% get_current_language as language %}
// The offline page in the language of the worker whose browser fetched this script (the
// script changes, and so is fetched again, when they switch language).
const OFFLINE_LANGUAGE = "{{ language|escapejs }}";
const OFFLINE_TITLE = "{% filter escapejs %}{% translate "No connection" %} · GVR Case Manager{% endfilter %}";
const OFFLINE_TEXT = {
  heading: "{% filter escapejs %}{% translate "No connection" %}{% endfilter %}",
  explanation: "{% filter escapejs %}{% translate "This page is not kept on your phone. Your home page, your caseload and the session form work without a connection; sessions you log are sent when the connection returns." %}{% endfilter %}",
  log: "{% filter escapejs %}{% translate "Log a session" %}{% endfilter %}",
  home: "{% filter escapejs %}{% translate "Home" %}{% endfilter %}",
};
const STYLESHEETS = {{ stylesheets|safe }};
const LINKS = {{ links|safe }};
{% verbatim %}
self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(STATIC_FILES)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

function isKeptPage(url) {
  // Exact paths only: a search or another page of the caseload is not kept.
  return url.origin === self.location.origin && url.search === "" && PAGES.includes(url.pathname);
}

// A kept copy is marked so the page knows it is not live (static/js/offline.js hides old
// messages and gives the session form a fresh key).
async function markedCopy(response) {
  const text = await response.text();
  const headers = new Headers({ "Content-Type": "text/html; charset=utf-8" });
  return new Response(text.replace("<body ", "<body data-offline-copy "), { headers });
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    // A redirect (to the login page, or a manager's dashboard) is never kept.
    if (response.ok && !response.redirected && response.type === "basic") {
      await cache.put(request.url, await markedCopy(response.clone()));
    }
    return response;
  } catch (error) {
    const kept = await cache.match(request.url, { ignoreVary: true });
    return kept || offlinePage();
  }
}

function offlinePage() {
  const styles = STYLESHEETS.map((href) => `<link rel="stylesheet" href="${href}">`).join("");
  const body = `<!doctype html><html lang="${OFFLINE_LANGUAGE}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${OFFLINE_TITLE}</title>
${styles}</head><body><main class="container py-3"><h1 class="h3">${OFFLINE_TEXT.heading}</h1>
<p>${OFFLINE_TEXT.explanation}</p>
<p><a class="btn btn-primary btn-lg" href="${LINKS.log}">${OFFLINE_TEXT.log}</a>
<a class="btn btn-outline-secondary btn-lg" href="${LINKS.home}">${OFFLINE_TEXT.home}</a></p></main></body></html>`;
  return new Response(body, {
    status: 503,
    headers: { "Content-Type": "text/html; charset=utf-8" },
  });
}

// The page asks, once the worker is signed in, for the kept pages it does not have yet, so the
// phone is ready before the worker loses the connection.
async function keepMissingPages() {
  const cache = await caches.open(CACHE);
  for (const page of PAGES) {
    const url = new URL(page, self.location.origin).href;
    if (await cache.match(url, { ignoreVary: true })) continue;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.ok && !response.redirected) await cache.put(url, await markedCopy(response));
    } catch (error) {
      return;
    }
  }
}

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "keep-pages") event.waitUntil(keepMissingPages());
});

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request.url);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request.url, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (STATIC_FILES.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate") {
    if (isKeptPage(url)) {
      event.respondWith(networkFirst(request));
    } else {
      event.respondWith(fetch(request).catch(() => offlinePage()));
    }
  }
});
{% endverbatim %}
