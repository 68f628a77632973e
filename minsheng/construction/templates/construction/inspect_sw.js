// Service worker of the phone inspection page: keeps the page and its scripts and styles so it
// opens without network. Pages are fetched from the network first; the copy is used only offline.
// A redirect (to the login page, when the session has expired) never replaces the kept page.
// The cache belongs to the signed-in user (its name carries the user's offline key): a new user on the
// same phone gets a new worker, which deletes every other user's cache when it takes over; on logout
// the login page deletes them all and tells the worker so ({type: "logout"}).
const PREFIX = "ms-inspect-";
const CACHE = "{{ cache }}";
const dropAll = (except) => caches.keys().then((keys) => Promise.all(
  keys.filter((k) => k.startsWith(PREFIX) && k !== except).map((k) => caches.delete(k))));
const KEEP = ["{{ page }}", "{{ css }}", "{{ app_css }}", "{{ own_css }}", "{{ js }}", "{{ htmx }}", "{{ console_js }}"];
const keep = (c, url) => fetch(url, {credentials: "same-origin"}).then((r) => (r.ok && !r.redirected ? c.put(url, r) : null));
self.addEventListener("install", (e) => e.waitUntil(caches.open(CACHE)
  .then((c) => Promise.all(KEEP.map((url) => keep(c, url)))).then(() => self.skipWaiting())));
self.addEventListener("activate", (e) => e.waitUntil(dropAll(CACHE).then(() => self.clients.claim())));
self.addEventListener("message", (e) => {
  if (e.data && e.data.type === "logout") { e.waitUntil(dropAll(null)); }
});
self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) { return; }
  e.respondWith(fetch(e.request).then((r) => {
    if (r.ok && !r.redirected && r.type === "basic") {
      const copy = r.clone();
      caches.open(CACHE).then((c) => c.put(e.request, copy));
    }
    return r;
  }).catch(() => caches.match(e.request, {cacheName: CACHE, ignoreSearch: true, ignoreVary: true})));
});
