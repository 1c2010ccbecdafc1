// The service worker (served at /sw.js, after a first line that defines CRM_SHELL: the build and
// the app shell's URLs).
//
// - The app shell (CSS, JS, icon, the offline page) is kept per build.
// - Pages marked by the server (X-CRM-Offline: keep) are kept per login, as last opened: network
//   first, the kept copy when the network fails, the offline page when there is none.
// - A form post that fails on the network and carries a form key goes into the device's outbox
//   (outbox.js) and the browser is sent to the 待同步 page; the outbox sends it when it can.
/* global CRM_SHELL, CrmOutbox */
"use strict";

importScripts(CRM_SHELL.urls.find(function (u) { return u.indexOf("outbox.js") !== -1; }));

const SHELL = "crm-shell-" + CRM_SHELL.version;
const PAGES = "crm-pages-u"; // + user id
const MAX_PAGES = 80;
const OFFLINE_URL = CRM_SHELL.urls.find(function (u) { return /\/offline$/.test(u); });
const SHELL_PATHS = new Set(CRM_SHELL.urls);

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return cache.addAll(CRM_SHELL.urls.map(function (u) { return new Request(u, { cache: "reload" }); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.startsWith("crm-shell-") && n !== SHELL; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function currentUser() {
  return CrmOutbox.getMeta("user").catch(function () { return null; });
}

// Only one login's pages are kept: a change of login (or a logout) drops every other's.
function setUser(user) {
  return CrmOutbox.setMeta("user", user || null).then(function () {
    return caches.keys();
  }).then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.startsWith(PAGES) && (!user || n !== PAGES + user);
    }).map(function (n) { return caches.delete(n); }));
  });
}

// A page is kept only when the server marked it and rendered it for the login now on this device.
function keep(user, request, response) {
  if (!user || response.status !== 200 || response.redirected || response.headers.get("X-CRM-Offline") !== "keep" ||
      response.headers.get("X-CRM-User") !== String(user)) return Promise.resolve();
  return caches.open(PAGES + user).then(function (cache) {
    return cache.put(request, response).then(function () { return cache.keys(); }).then(function (keys) {
      // Oldest first (insertion order): the kept pages stay a bounded set.
      return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_PAGES)).map(function (k) { return cache.delete(k); }));
    });
  });
}

function offlinePage() {
  return caches.match(OFFLINE_URL, { cacheName: SHELL }).then(function (r) {
    return r || new Response("<!doctype html><meta charset=utf-8><title>离线</title><p>现在没有网络，联网后再试。</p>",
      { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  });
}

function page(event) {
  const request = event.request;
  return currentUser().then(function (user) {
    return fetch(request).then(function (response) {
      // A page rendered for another login than the one on record is not kept (that page will
      // report its login, which drops the others' pages).
      event.waitUntil(keep(user, request, response.clone()));
      return response;
    }, function () {
      if (!user) return offlinePage();
      return caches.open(PAGES + user).then(function (cache) {
        return cache.match(request).then(function (hit) {
          if (hit) return hit;
          const url = new URL(request.url);
          if (url.pathname === "/sync/outbox") return cache.match("/sync/outbox", { ignoreSearch: true });
          return null;
        });
      }).then(function (hit) { return hit || offlinePage(); });
    });
  });
}

// A form post whose send fails on the network: kept in the outbox when it carries a form key
// (a creating form), else the offline page (the form is still on the previous page, Back).
function post(event) {
  const request = event.request;
  const copy = request.clone();
  return fetch(request).catch(function () {
    return Promise.all([copy.formData().catch(function () { return null; }), currentUser()]).then(function (got) {
      const form = got[0];
      const key = form && form.get("form_key");
      const label = form && form.get("_outbox");
      const user = (form && form.get("_user")) || got[1]; // whose form it was
      if (!form || !key || !label || !user) return offlinePage();
      const fields = [];
      form.forEach(function (value, name) {
        if (typeof value !== "string" && !value.size) return; // an empty file input
        fields.push([name, value]);
      });
      return CrmOutbox.add({ user: String(user), url: request.url, key: String(key), label: String(label),
                             fields: fields, at: Date.now(), state: "waiting", reason: "" })
        .then(function () {
          if (self.registration.sync) return self.registration.sync.register("crm-outbox").catch(function () {});
        })
        .then(function () { return Response.redirect("/sync/outbox?queued=" + encodeURIComponent(key), 303); },
          function () {
            return new Response("<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
              "<title>没有保存</title><p style='font:18px sans-serif;margin:2rem'>现在没有网络，这次提交没有发送，" +
              "也没能保存在这台设备上（存储空间可能已满）。请返回上一页，表单中的内容还在；联网后再保存。</p>",
              { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
          });
    });
  });
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && request.mode === "navigate") {
    event.respondWith(post(event));
    return;
  }
  if (request.method !== "GET") return;
  if (SHELL_PATHS.has(url.pathname) && url.pathname !== OFFLINE_URL) {
    event.respondWith(caches.match(request, { cacheName: SHELL }).then(function (hit) {
      return hit || fetch(request);
    }));
    return;
  }
  if (request.mode === "navigate") event.respondWith(page(event));
});

self.addEventListener("message", function (event) {
  const data = event.data || {};
  if (data.type === "user") {
    event.waitUntil(setUser(data.user ? String(data.user) : null));
  } else if (data.type === "warm" && Array.isArray(data.urls)) {
    // Pages a cadre will want in the field (the firms on the task list): kept while online.
    event.waitUntil(currentUser().then(function (user) {
      if (!user) return;
      return caches.open(PAGES + user).then(function (cache) {
        return data.urls.slice(0, 40).reduce(function (chain, u) {
          return chain.then(function () {
            return cache.match(u).then(function (hit) {
              if (hit && !data.refresh) return;
              return fetch(u, { credentials: "same-origin", headers: { "X-CRM-Warm": "1" } }).then(function (r) {
                return keep(user, u, r);
              }).catch(function () {});
            });
          });
        }, Promise.resolve());
      });
    }));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag === "crm-outbox") {
    event.waitUntil(currentUser().then(function (user) { return CrmOutbox.send(user); }));
  }
});
