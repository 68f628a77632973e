// Service worker of the citizen portal: keeps the form and its styles available offline.
const CACHE = "ms-feedback-v1";
const PAGES = ["/feedback/", "/feedback/lookup/", "{{ css }}", "{{ app_css }}", "{{ js }}"];
self.addEventListener("install", (e) => e.waitUntil(caches.open(CACHE).then((c) => c.addAll(PAGES))));
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (e) => {
  if (e.request.method !== "GET") { return; }
  e.respondWith(fetch(e.request).then((r) => {
    const copy = r.clone();
    if (r.ok && new URL(e.request.url).origin === location.origin) { caches.open(CACHE).then((c) => c.put(e.request, copy)); }
    return r;
  }).catch(() => caches.match(e.request)));
});
