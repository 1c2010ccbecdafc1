// The device's outbox: forms that could not be sent, kept in IndexedDB (fields, photos as Blobs)
// until the server has them. Shared by the pages and the service worker (importScripts).
// Every item belongs to the login that saved it: only that user's pages list it, and it is sent
// only while the server says that same user is logged in.
(function (root) {
  "use strict";

  const DB_NAME = "crm-offline";
  const HEADER = "X-CRM-Outbox";
  let opening = null;

  function open() {
    if (opening) return opening;
    opening = new Promise(function (resolve, reject) {
      const req = root.indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        const db = req.result;
        const items = db.createObjectStore("outbox", { keyPath: "id", autoIncrement: true });
        items.createIndex("user", "user");
        items.createIndex("key", "key", { unique: true });
        db.createObjectStore("meta", { keyPath: "k" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { opening = null; reject(req.error); };
    });
    return opening;
  }

  function run(store, mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        const tx = db.transaction(store, mode);
        let result;
        Promise.resolve(fn(tx.objectStore(store), function (v) { result = v; })).catch(reject);
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function changed() {
    try { new BroadcastChannel("crm-outbox").postMessage({ type: "changed" }); } catch (e) { /* old browser */ }
  }

  const Outbox = {
    HEADER: HEADER,

    // An item: {user, url, key, label, fields: [[name, value or File]], at, state, reason}.
    // A second item with the key of one already kept replaces it (one send per key).
    add: function (item) {
      return run("outbox", "readwrite", function (store) {
        const byKey = store.index("key").getKey(item.key);
        byKey.onsuccess = function () {
          if (byKey.result !== undefined) item.id = byKey.result;
          store.put(item);
        };
      }).then(changed);
    },

    list: function (user) {
      if (!user) return Promise.resolve([]);
      return run("outbox", "readonly", function (store, done) {
        request(store.index("user").getAll(String(user))).then(function (rows) {
          done(rows.sort(function (a, b) { return a.at - b.at; }));
        });
      });
    },

    get: function (id) {
      return run("outbox", "readonly", function (store, done) {
        request(store.get(Number(id))).then(done);
      });
    },

    // Only an item still kept (one discarded meanwhile stays discarded).
    update: function (item) {
      return run("outbox", "readwrite", function (store) {
        const found = store.get(item.id);
        found.onsuccess = function () { if (found.result) store.put(item); };
      }).then(changed);
    },

    remove: function (id) {
      return run("outbox", "readwrite", function (store) { store.delete(Number(id)); }).then(changed);
    },

    removeUser: function (user) {
      return Outbox.list(user).then(function (rows) {
        return run("outbox", "readwrite", function (store) {
          rows.forEach(function (r) { store.delete(r.id); });
        });
      }).then(changed);
    },

    getMeta: function (k) {
      return run("meta", "readonly", function (store, done) {
        request(store.get(k)).then(function (row) { done(row ? row.v : null); });
      });
    },

    setMeta: function (k, v) {
      return run("meta", "readwrite", function (store) { store.put({ k: k, v: v }); });
    },

    // What was sent lately, whoever sent it (a page or the service worker): the pages tell the
    // user, and forget the drafts of those keys.
    landed: function (user) {
      return Outbox.getMeta("landed").then(function (rows) {
        return (rows || []).filter(function (r) { return r.user === String(user); });
      }).catch(function () { return []; });
    },

    // A short text of what an item holds, for the list.
    snippet: function (item) {
      const names = ["summary", "title", "name", "theme", "note", "place", "venue"];
      for (const n of names) {
        const f = item.fields.find(function (p) { return p[0] === n && typeof p[1] === "string" && p[1].trim(); });
        if (f) return f[1].trim().slice(0, 40);
      }
      return "";
    },

    photos: function (item) {
      return item.fields.filter(function (p) { return typeof p[1] !== "string" && p[1] && p[1].size; }).length;
    },

    // Send this user's waiting items, one at a time, under one lock for the whole device. Returns
    // {landed: [{key, url, label}], refused: n, stopped: reason or ""}.
    send: function (user) {
      const outcome = { landed: [], refused: 0, stopped: "" };
      if (!user) return Promise.resolve(outcome);
      const work = function () { return sendAll(String(user), outcome); };
      const locks = root.navigator && root.navigator.locks;
      return (locks ? locks.request("crm-outbox", work) : work()).then(function () {
        if (!outcome.landed.length) return outcome;
        return Outbox.getMeta("landed").then(function (rows) {
          const now = Date.now();
          const fresh = outcome.landed.map(function (l) { return Object.assign({ user: String(user), at: now }, l); });
          return Outbox.setMeta("landed", fresh.concat(rows || []).slice(0, 30));
        }).then(function () { changed(); return outcome; });
      });
    },
  };

  function sendAll(user, outcome) {
    return Outbox.list(user).then(function (items) {
      const waiting = items.filter(function (i) { return i.state !== "refused"; });
      if (!waiting.length) return;
      const query = waiting.map(function (i) { return "key=" + encodeURIComponent(i.key); }).join("&");
      return fetch("/sync/state?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (r.redirected || !r.ok || (r.headers.get("Content-Type") || "").indexOf("json") === -1) {
            throw { login: true };
          }
          return r.json();
        })
        .then(function (state) {
          if (String(state.user) !== user) throw { login: true }; // another login: never send for it
          let chain = Promise.resolve();
          waiting.forEach(function (item) {
            chain = chain.then(function () {
              if (outcome.stopped) return;
              if (state.saved[item.key]) { // it landed before, only its answer was lost
                outcome.landed.push({ key: item.key, url: state.saved[item.key], label: item.label });
                return Outbox.remove(item.id);
              }
              return sendOne(item, state.csrf_token, outcome);
            });
          });
          return chain;
        })
        .catch(function (err) {
          outcome.stopped = err && err.login ? "登录已过期，请重新登录后发送" : "网络不通，联网后自动发送";
          if (err && err.login) return markLogin(user);
        });
    });
  }

  function markLogin(user) {
    return Outbox.list(user).then(function (items) {
      return Promise.all(items.filter(function (i) { return i.state !== "refused"; }).map(function (i) {
        i.state = "login";
        i.reason = "登录已过期，请重新登录后发送";
        return Outbox.update(i);
      }));
    });
  }

  function sendOne(item, token, outcome) {
    const body = new FormData();
    item.fields.forEach(function (pair) {
      const name = pair[0];
      const value = name === "csrf_token" ? token : pair[1];
      if (typeof value === "string") body.append(name, value);
      else if (value) body.append(name, value, value.name || "photo.jpg");
    });
    if (!item.fields.some(function (p) { return p[0] === "csrf_token"; })) body.append("csrf_token", token);
    const headers = {};
    headers[HEADER] = "1";
    headers.Accept = "application/json";
    return fetch(item.url, { method: "POST", body: body, credentials: "same-origin", headers: headers, redirect: "manual" })
      .then(function (r) {
        if (r.status >= 500 || r.type === "opaqueredirect") {
          outcome.stopped = "服务器暂时无法处理，稍后自动重试";
          item.state = "waiting";
          item.reason = outcome.stopped;
          return Outbox.update(item);
        }
        return r.json().catch(function () { return { status: "refused", reason: "服务器的答复无法识别" }; })
          .then(function (answer) {
            if (r.ok && answer.status === "saved") {
              outcome.landed.push({ key: item.key, url: answer.url, label: item.label });
              return Outbox.remove(item.id);
            }
            if (answer.status === "csrf") { // the session changed under the send: later, a fresh token
              outcome.stopped = answer.reason;
              return;
            }
            if (answer.status === "login") {
              outcome.stopped = "登录已过期，请重新登录后发送";
              item.state = "login";
              item.reason = outcome.stopped;
              return Outbox.update(item);
            }
            outcome.refused += 1;
            item.state = "refused";
            item.reason = answer.reason || "服务器没有接收这条记录";
            return Outbox.update(item);
          });
      }, function () {
        outcome.stopped = "网络不通，联网后自动发送";
      });
  }

  root.CrmOutbox = Outbox;
})(self);
