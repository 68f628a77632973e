// Citizen portal enhancements. Everything works without this script; with it:
// - the form keeps a draft in this phone's storage (never the verification code or the photo);
// - a request submitted while offline is queued and sent as soon as the phone is back online;
// - the service worker keeps the pages available offline so the form can be filled in anyway.
(function () {
  "use strict";
  var DRAFT = "ms-feedback-draft", QUEUE = "ms-feedback-queue", SKIP = ["csrfmiddlewaretoken", "code", "photo", "action"];
  var form = document.querySelector("form.citizen-form");
  var status = document.getElementById("offline-status");

  function say(text) { if (status) { status.textContent = text; } }

  function fields(f) {
    var out = {};
    new FormData(f).forEach(function (v, k) { if (typeof v === "string" && SKIP.indexOf(k) < 0) { out[k] = v; } });
    return out;
  }

  if ("serviceWorker" in navigator && document.body.dataset.sw) {
    navigator.serviceWorker.register(document.body.dataset.sw, {scope: "/feedback/"}).catch(function () {});
  }

  if (document.body.dataset.submitted) { localStorage.removeItem(DRAFT); }

  if (form) {
    var saved = JSON.parse(localStorage.getItem(DRAFT) || "null");
    if (saved && !form.dataset.bound) {
      Object.keys(saved).forEach(function (k) {
        var els = form.querySelectorAll("[name='" + k + "']");
        els.forEach(function (el) {
          if (el.type === "radio") { el.checked = el.value === saved[k]; }
          else if (!el.value) { el.value = saved[k]; }
        });
      });
    }
    form.addEventListener("input", function () { localStorage.setItem(DRAFT, JSON.stringify(fields(form))); });
    form.addEventListener("submit", function (e) {
      if (navigator.onLine) { return; }
      e.preventDefault();
      var queue = JSON.parse(localStorage.getItem(QUEUE) || "[]");
      var entry = fields(form);
      entry.csrfmiddlewaretoken = form.querySelector("[name=csrfmiddlewaretoken]").value;
      entry.action = "submit";
      // (form.action would be the button named "action": read the attribute.)
      queue.push({url: form.getAttribute("action") || location.href, data: entry});
      localStorage.setItem(QUEUE, JSON.stringify(queue));
      say(form.dataset.queuedText);
    });
  }

  function flush() {
    var queue = JSON.parse(localStorage.getItem(QUEUE) || "[]");
    if (!queue.length || !navigator.onLine) { return; }
    localStorage.setItem(QUEUE, "[]");
    // One after another: each answer is a redirect to the receipt page, which shows the receipt the
    // server has just remembered for this browser (sent side by side, two would show the same one).
    queue.reduce(function (previous, item) {
      return previous.then(function () { return send(item); });
    }, Promise.resolve());
  }

  function send(item) {
    var body = new URLSearchParams(item.data);
    return fetch(item.url, {method: "POST", body: body, credentials: "same-origin"}).then(function (r) {
      return r.text().then(function (html) {
        var m = html.match(/data-receipt="([A-Z0-9]+)"/);
        if (r.ok && m) { localStorage.removeItem(DRAFT); say((form && form.dataset.sentText || "") + " " + m[1]); }
        else { say(form && form.dataset.failedText || ""); }
      });
    }).catch(function () {
      // Not sent (or no answer): queued again, with the same submission key, so a request the server
      // did receive is not registered twice.
      var again = JSON.parse(localStorage.getItem(QUEUE) || "[]");
      again.push(item);
      localStorage.setItem(QUEUE, JSON.stringify(again));
    });
  }
  window.addEventListener("online", flush);
  flush();
})();
