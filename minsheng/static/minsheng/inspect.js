// Site inspections from a phone, with or without network.
// - The page itself is kept by a service worker (scope /console/inspect/), so it opens offline.
// - A saved inspection is a draft in IndexedDB: the answers, and each photo as a Blob with the time
//   and place the browser gave when it was taken. Nothing is lost when the phone has no signal.
// - Drafts are sent when the phone is back online: POST /api/v1/inspections with a UUID made here
//   (a retried send stores nothing twice), then each photo to /api/v1/inspections/{id}/photos with
//   its own UUID. A draft the server refuses (bad input, no permission) stays here with the reason.
(function () {
  "use strict";
  var app = document.getElementById("inspect-app");
  if (!app || !window.indexedDB) { return; }
  var T = app.dataset;
  // One drafts database per user (the page names the user's offline key): another user of the same
  // phone never sees, nor sends under his own name, drafts that are not his.
  var DB_NAME = "ms-inspections-" + (T.userKey || "anonymous"), STORE = "drafts";
  var form = document.getElementById("inspect-form");
  var checklists = JSON.parse(document.getElementById("checklists").textContent);
  var here = null, pending = [], syncing = false;

  function $(id) { return document.getElementById(id); }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- IndexedDB -----------------------------------------------------------------------------
  var opened = null;
  function db() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () { req.result.createObjectStore(STORE, {keyPath: "key"}); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return opened;
  }
  function run(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode), req = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(req ? req.result : undefined); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function put(draft) { return run("readwrite", function (s) { return s.put(draft); }); }
  function all() { return run("readonly", function (s) { return s.getAll(); }); }
  function remove(key) { return run("readwrite", function (s) { return s.delete(key); }); }

  // --- status lines --------------------------------------------------------------------------
  function showNet() {
    var el = $("net-status");
    el.textContent = navigator.onLine ? T.textOnline : T.textOffline;
    el.className = "net-status " + (navigator.onLine ? "is-online" : "is-offline");
  }

  function stateText(d) {
    if (d.state === "synced") { return T.textSynced; }
    if (d.state === "failed") { return T.textFailed + ": " + d.error; }
    return T.textQueued;
  }

  function render() {
    return all().then(function (drafts) {
      drafts.sort(function (a, b) { return a.savedAt < b.savedAt ? 1 : -1; });
      var list = $("queue");
      list.textContent = "";
      drafts.forEach(function (d) {
        var li = document.createElement("li");
        li.className = "queue-item state-" + d.state;
        li.dataset.key = d.key;
        var when = new Date(d.body.inspected_at);
        li.appendChild(document.createTextNode(d.projectName + " · " + when.toLocaleString() + " · " +
          d.photos.length + " " + T.textPhotos + " · "));
        var s = document.createElement("strong");
        s.className = "queue-state";
        s.textContent = stateText(d);
        li.appendChild(s);
        if (d.state === "failed") {
          var del = document.createElement("button");
          del.type = "button";
          del.className = "btn btn-sm";
          del.textContent = "×";
          del.setAttribute("aria-label", T.textFailed);
          del.addEventListener("click", function () { remove(d.key).then(render); });
          li.appendChild(del);
        }
        list.appendChild(li);
      });
      $("queue-empty").hidden = drafts.some(function (d) { return d.state !== "synced"; });
    });
  }

  // --- the form ------------------------------------------------------------------------------
  function locate() {
    var el = $("gps-status");
    if (!el) { return; }
    if (!navigator.geolocation) { el.textContent = T.textGpsNone; return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      here = {lat: pos.coords.latitude.toFixed(6), lng: pos.coords.longitude.toFixed(6)};
      el.textContent = T.textGpsOk + " " + here.lat + ", " + here.lng;
    }, function () { el.textContent = T.textGpsNone; }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  }

  function localNow() {
    var d = new Date();
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
    return d.toISOString().slice(0, 16);
  }

  function drawChecklist() {
    var box = $("i-checklist"), select = $("i-project");
    var option = select.options[select.selectedIndex];
    box.querySelectorAll(".check-item").forEach(function (n) { n.remove(); });
    box.querySelector(".form-hint").hidden = !!(option && option.value);
    if (!option || !option.value) { return; }
    (checklists[option.dataset.domain] || checklists[""]).forEach(function (item, i) {
      var row = document.createElement("div");
      row.className = "check-item";
      row.setAttribute("role", "radiogroup");
      row.setAttribute("aria-labelledby", "ci-" + i);
      row.dataset.key = item.key;
      var label = document.createElement("span");
      label.id = "ci-" + i;
      label.className = "check-label";
      label.textContent = item.label;
      row.appendChild(label);
      [["ok", T.textOk], ["defect", T.textDefectLabel], ["na", T.textNa]].forEach(function (pair) {
        var id = "c-" + i + "-" + pair[0];
        var input = document.createElement("input");
        input.type = "radio"; input.name = "c-" + i; input.value = pair[0]; input.id = id;
        input.className = "btn-check";
        var l = document.createElement("label");
        l.htmlFor = id; l.className = "btn check-" + pair[0]; l.textContent = pair[1];
        row.appendChild(input); row.appendChild(l);
      });
      box.appendChild(row);
    });
  }

  function problem(text) {
    var el = $("form-problem");
    el.textContent = text;
    el.hidden = !text;
    if (text) { el.setAttribute("tabindex", "-1"); el.focus(); }
  }

  function save(event) {
    event.preventDefault();
    var select = $("i-project");
    if (!select.value) { problem(T.textPick); return; }
    var checklist = {}, missing = false, defect = false;
    form.querySelectorAll(".check-item").forEach(function (row) {
      var chosen = row.querySelector("input:checked");
      if (!chosen) { missing = true; return; }
      checklist[row.dataset.key] = chosen.value;
      if (chosen.value === "defect") { defect = true; }
    });
    if (missing || !Object.keys(checklist).length) { problem(T.textAnswer); return; }
    var passed = $("i-passed").checked;
    if (passed && defect) { problem(T.textDefect); return; }
    problem("");
    var at = $("i-time").value ? new Date($("i-time").value) : new Date();
    var draft = {
      key: uuid(),
      state: "queued",
      error: "",
      savedAt: new Date().toISOString(),
      projectName: select.options[select.selectedIndex].textContent,
      body: {
        project: Number(select.value), inspected_at: at.toISOString(), checklist: checklist, passed: passed,
        notes: $("i-notes").value, village_representative: $("i-rep").value,
        latitude: here ? here.lat : null, longitude: here ? here.lng : null
      },
      photos: pending
    };
    draft.body.idempotency_key = draft.key;
    pending = [];
    put(draft).then(function () {
      form.reset();
      $("i-time").value = localNow();
      drawChecklist();
      $("photo-count").textContent = "";
      $("net-status").textContent = T.textSaved + " " + (navigator.onLine ? T.textOnline : T.textOffline);
      return render();
    }).then(sync);
  }

  function addPhotos() {
    var input = $("i-photos");
    Array.prototype.forEach.call(input.files, function (file) {
      pending.push({key: uuid(), blob: file, name: file.name || "photo.jpg",
                    taken_at: new Date(file.lastModified || Date.now()).toISOString(),
                    lat: here ? here.lat : "", lng: here ? here.lng : "", done: false});
    });
    $("photo-count").textContent = pending.length + " " + T.textPhotos;
  }

  // --- sending -------------------------------------------------------------------------------
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : T.csrf;
  }

  function Refused(message) { this.message = message; }
  function LoggedOut() {}

  function explain(response) {
    return response.json().then(function (body) {
      var e = body.error || {}, parts = [e.message || response.status];
      Object.keys(e.fields || {}).forEach(function (k) { parts.push(e.fields[k].join(" ")); });
      return parts.join(" ");
    }, function () { return String(response.status); });
  }

  function check(response) {
    if (response.status === 401) { throw new LoggedOut(); }
    if (response.status >= 400 && response.status < 500) {
      return explain(response).then(function (text) { throw new Refused(text); });
    }
    if (!response.ok) { throw new Error("retry later"); }  // 5xx: keep the draft and try again
    return response.json();
  }

  function send(draft) {
    var first = draft.serverId ? Promise.resolve() : fetch(T.api, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()},
      body: JSON.stringify(draft.body)
    }).then(check).then(function (saved) { draft.serverId = saved.id; return put(draft); });
    return draft.photos.reduce(function (chain, photo) {
      return chain.then(function () {
        if (photo.done) { return; }
        var data = new FormData();
        data.append("file", photo.blob, photo.name);
        data.append("taken_at", photo.taken_at);
        data.append("latitude", photo.lat || (draft.body.latitude || ""));
        data.append("longitude", photo.lng || (draft.body.longitude || ""));
        data.append("idempotency_key", photo.key);
        return fetch(T.api + "/" + draft.serverId + "/photos", {
          method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrf()}, body: data
        }).then(check).then(function () { photo.done = true; photo.blob = null; return put(draft); });
      });
    }, first).then(function () {
      draft.state = "synced";
      return put(draft);
    });
  }

  function sync() {
    if (syncing || !navigator.onLine) { return Promise.resolve(); }
    syncing = true;
    return all().then(function (drafts) {
      return drafts.filter(function (d) { return d.state === "queued"; }).reduce(function (chain, d) {
        return chain.then(function () {
          return send(d).catch(function (err) {
            if (err instanceof Refused) { d.state = "failed"; d.error = err.message; return put(d); }
            if (err instanceof LoggedOut) { $("net-status").textContent = T.textLogin; }
            throw err;  // offline again, or the server is down: stop and try later
          });
        });
      }, Promise.resolve());
    }).catch(function () {}).then(function () { syncing = false; return render(); });
  }

  // --- wiring --------------------------------------------------------------------------------
  if ("serviceWorker" in navigator && T.sw) {
    // Checked on every load: the worker is per user, so another user's login brings a new one.
    navigator.serviceWorker.register(T.sw, {scope: T.scope})
      .then(function (reg) { return reg.update(); }).catch(function () {});
  }
  if (form) {
    $("i-time").value = localNow();
    $("i-project").addEventListener("change", drawChecklist);
    $("i-photos").addEventListener("change", addPhotos);
    $("gps-button").addEventListener("click", locate);
    form.addEventListener("submit", save);
    drawChecklist();
    locate();
  }
  $("sync-button").addEventListener("click", sync);
  window.addEventListener("online", function () { showNet(); sync(); });
  window.addEventListener("offline", showNet);
  setInterval(sync, 30000);
  showNet();
  render().then(sync);
})();
