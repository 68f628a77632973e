// On the login page nobody is signed in on this browser: drop the offline inspection pages the service
// worker kept for whoever was (their names start "ms-inspect-"), and tell the worker, so the next
// person on this phone never opens them. Drafts not yet sent stay in their owner's own database
// (inspect.js), which nobody else's page opens.
(function () {
  "use strict";
  if (!window.caches) { return; }
  caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("ms-inspect-") === 0; })
      .map(function (k) { return caches.delete(k); }));
  }).catch(function () {});
  if (navigator.serviceWorker && navigator.serviceWorker.getRegistrations) {
    navigator.serviceWorker.getRegistrations().then(function (regs) {
      regs.forEach(function (r) { if (r.active) { r.active.postMessage({type: "logout"}); } });
    }).catch(function () {});
  }
})();
