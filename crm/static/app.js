// Small progressive enhancements. No inline script anywhere (CSP: script-src 'self').
(function () {
  "use strict";

  // ---- submit: confirmation, location at save time, one send per tap --------------------------
  document.addEventListener("submit", function (event) {
    const form = event.target;
    const submitter = event.submitter;
    const message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.submitted === "1") { // a double tap sends a form once
      event.preventDefault();
      return;
    }
    let bytes = 0;
    let count = 0;
    form.querySelectorAll("input[type=file]").forEach(function (inp) {
      Array.from(inp.files || []).forEach(function (f) { bytes += f.size; count += 1; });
    });
    if (count > 10 || bytes > 60 * 1024 * 1024) { // the server takes 64 MB a request
      event.preventDefault();
      window.alert("照片太多或太大：一次最多 10 张、合计不超过 60 MB。请减少照片后再保存，已填写的内容不会丢失。");
      return;
    }
    const geo = form.querySelector("[data-geo-switch]");
    const lat = form.querySelector("input[name=latitude]");
    if (geo && geo.checked && lat && !lat.value && navigator.geolocation) {
      event.preventDefault();
      form.dataset.submitted = "1";
      const send = function () { beforeSend(form); HTMLFormElement.prototype.submit.call(form); };
      navigator.geolocation.getCurrentPosition(function (pos) {
        lat.value = pos.coords.latitude.toFixed(6);
        form.querySelector("input[name=longitude]").value = pos.coords.longitude.toFixed(6);
        form.querySelector("input[name=accuracy_m]").value = Math.round(pos.coords.accuracy);
        send();
      }, send, { timeout: 8000, maximumAge: 60000 });
      return;
    }
    beforeSend(form);
    form.dataset.submitted = "1";
    setTimeout(function () { form.dataset.submitted = ""; }, 4000);
  });

  // A need ticked off again (templates/needs/_raise.html): its note, hidden, is kept on the page
  // but not sent; ticked again, it is sent.
  document.addEventListener("submit", function (event) {
    event.target.querySelectorAll("[data-need-row]").forEach(function (row) {
      const box = row.querySelector("input[type=checkbox]");
      row.querySelectorAll("[data-need-note]").forEach(function (note) { note.disabled = !!box && !box.checked; });
    });
  }, true);
  document.addEventListener("change", function (event) {
    const row = event.target.closest && event.target.closest("[data-need-row]");
    if (row && event.target.type === "checkbox") {
      row.querySelectorAll("[data-need-note]").forEach(function (note) { note.disabled = false; });
    }
  });

  // Selects marked data-autosubmit submit their (GET) form when changed: list filters.
  document.addEventListener("change", function (event) {
    const el = event.target;
    if (el.matches("[data-autosubmit]") && el.form) el.form.requestSubmit();
  });

  // A wide table opens scrolled to the column it is about (the 双沟通 grid: the last complete month).
  document.querySelectorAll("[data-scroll-to]").forEach(function (box) {
    const target = box.querySelector(box.getAttribute("data-scroll-to"));
    if (!target || box.scrollWidth <= box.clientWidth) return;
    const sticky = box.querySelector("th.unit-col");
    const left = target.offsetLeft - (sticky ? sticky.offsetWidth : 0) - target.offsetWidth * 2;
    box.scrollLeft = Math.max(0, left);
    const hint = box.previousElementSibling;
    if (hint && hint.matches("[data-scroll-hint]")) hint.classList.remove("d-none");
  });

  document.addEventListener("click", function (event) {
    if (event.target.matches("[data-print]")) window.print();
    // Quick picks for a date field (跟进任务: 今天, 周五, 下周五 …).
    const pick = event.target.closest("[data-set-date]");
    if (pick) {
      const input = document.getElementById(pick.getAttribute("data-set-date"));
      if (input) { input.value = pick.getAttribute("data-date"); input.dispatchEvent(new Event("change", { bubbles: true })); }
    }
  });

  // ---- bulk selection: checkboxes (inside a form or tied to it by form=) and a count -----------
  function bulkUpdate(form) {
    const name = form.getAttribute("data-bulk");
    const boxes = Array.from(form.elements).filter(function (el) { return el.name === name && el.type === "checkbox"; });
    const n = boxes.filter(function (el) { return el.checked; }).length;
    const unit = form.getAttribute("data-bulk-unit") || "条";
    form.querySelectorAll("[data-bulk-count]").forEach(function (el) { el.textContent = n || !el.hasAttribute("data-empty") ? "已选 " + n + " " + unit : el.getAttribute("data-empty"); });
    form.querySelectorAll("[data-bulk-submit]").forEach(function (el) { el.disabled = n === 0; });
    document.querySelectorAll("[data-check-all='" + name + "']").forEach(function (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    });
  }
  function bulkForms() { return document.querySelectorAll("form[data-bulk]"); }
  document.addEventListener("change", function (event) {
    const el = event.target;
    const allName = el.getAttribute && el.getAttribute("data-check-all");
    bulkForms().forEach(function (form) {
      const name = form.getAttribute("data-bulk");
      if (allName === name) {
        Array.from(form.elements).forEach(function (box) {
          if (box.name === name && box.type === "checkbox") box.checked = el.checked;
        });
      }
      if (allName === name || el.name === name) bulkUpdate(form);
    });
  });
  bulkForms().forEach(bulkUpdate);

  // ---- photos: show what was picked before it is sent ------------------------------------------
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (!input.matches("[data-photo-input]")) return;
    const box = input.closest("fieldset");
    const preview = box && box.querySelector("[data-photo-preview]");
    if (!preview) return;
    preview.replaceChildren();
    box.querySelectorAll("[data-photo-input]").forEach(function (inp) {
      Array.from(inp.files || []).forEach(function (file) {
        const fig = document.createElement("figure");
        fig.className = "mb-0";
        if (file.type.startsWith("image/")) {
          const img = document.createElement("img");
          img.src = URL.createObjectURL(file);
          img.alt = file.name;
          fig.appendChild(img);
        }
        const cap = document.createElement("figcaption");
        cap.className = "small " + (file.size > 10 * 1024 * 1024 ? "text-danger" : "text-muted");
        cap.textContent = file.size > 10 * 1024 * 1024 ? "超过 10 MB" : "待上传";
        fig.appendChild(cap);
        preview.appendChild(fig);
      });
    });
  });

  // ---- enterprise picker: search, add as chips (hidden inputs), remove ------------------------
  function changed(el) {
    const form = el.closest("form");
    if (form) form.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function addChip(picker, id, label) {
    const picked = picker.querySelector("[data-picked]");
    const name = picker.dataset.name;
    if (picked.querySelector('input[value="' + String(id).replace(/"/g, "") + '"]')) return;
    const chip = document.createElement("span");
    chip.className = "badge text-bg-light border picked-chip";
    chip.textContent = label;
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = name;
    hidden.value = id;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close ms-2";
    close.setAttribute("aria-label", "移除 " + label);
    close.setAttribute("data-unpick", "");
    chip.append(hidden, close);
    picked.appendChild(chip);
  }

  document.querySelectorAll("[data-enterprise-picker]").forEach(function (picker) {
    const input = picker.querySelector("[data-picker-input]");
    const results = picker.querySelector("[data-picker-results]");
    let timer = null;
    let seq = 0;
    input.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
    input.addEventListener("input", function (e) {
      e.stopPropagation(); // the search box is not part of the draft
      clearTimeout(timer);
      const q = input.value.trim();
      if (!q) { results.replaceChildren(); return; }
      timer = setTimeout(function () {
        const mine = ++seq;
        fetch(picker.dataset.lookup + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (rows) {
            if (mine !== seq) return;
            results.replaceChildren();
            if (!rows.length) {
              const none = document.createElement("div");
              none.className = "list-group-item text-muted";
              none.textContent = "没有找到，换个关键词试试";
              results.appendChild(none);
            }
            rows.forEach(function (row) {
              const b = document.createElement("button");
              b.type = "button";
              b.className = "list-group-item list-group-item-action";
              b.textContent = row.name + "（" + row.unit + " · " + row.stage + "）";
              b.addEventListener("click", function () {
                addChip(picker, row.id, row.name);
                input.value = "";
                results.replaceChildren();
                changed(picker);
                input.focus();
              });
              results.appendChild(b);
            });
          });
      }, 250);
    });
    picker.addEventListener("click", function (e) {
      if (e.target.matches("[data-unpick]")) {
        e.target.closest(".picked-chip").remove();
        changed(picker);
      }
    });
  });

  // ---- 可能重复的档案: files with a similar name, listed when the name field is left ------------
  // The server checks again on save; without a network nothing is shown (the save still checks).
  function similarItem(item) {
    const li = document.createElement("li");
    if (item.in_scope) {
      const a = document.createElement("a");
      a.href = item.url;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = item.name;
      li.appendChild(a);
    } else {
      li.appendChild(document.createTextNode(item.name));
    }
    const where = document.createElement("span");
    where.className = "text-body-secondary";
    where.textContent = "（" + [item.unit].concat(item.in_scope && item.credit_code ? [item.credit_code] : [],
      item.in_scope && item.archived ? ["已归档"] : []).join("，") + "）";
    li.append(" ", where);
    if (item.in_scope && item.same_name) {
      const badge = document.createElement("span");
      badge.className = "badge text-bg-warning";
      badge.textContent = "名称相同";
      li.append(" ", badge);
    } else if (!item.in_scope) {
      const note = document.createElement("span");
      note.className = "small text-body-secondary";
      note.textContent = "不在您的管辖范围";
      li.append(" ", note);
    }
    return li;
  }

  document.querySelectorAll("[data-similar-names]").forEach(function (box) {
    const form = box.closest("form");
    const input = form && form.elements.name;
    if (!input || !box.dataset.url) return;
    let checked = (box.dataset.checked || "").trim();
    let seq = 0;
    input.addEventListener("blur", function () {
      const name = input.value.trim();
      if (name === checked) return;
      const mine = ++seq;
      if (!name) { checked = name; box.replaceChildren(); return; }
      const url = box.dataset.url + "?name=" + encodeURIComponent(name) +
        (box.dataset.exclude ? "&exclude=" + encodeURIComponent(box.dataset.exclude) : "");
      timed(fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }))
        .then(function (r) { return r.ok && !r.redirected ? r.json() : Promise.reject(); })
        .then(function (got) {
          if (mine !== seq) return; // a later name was asked for
          checked = name;
          box.replaceChildren();
          if (!got.items || !got.items.length) return;
          const alert = document.createElement("div");
          alert.className = "alert alert-warning mb-3";
          alert.id = "similar-found";
          const head = document.createElement("h3");
          head.className = "h6 mb-2";
          head.textContent = "可能重复的档案";
          const list = document.createElement("ul");
          list.className = "mb-2 ps-3";
          got.items.forEach(function (item) { list.appendChild(similarItem(item)); });
          const hint = document.createElement("p");
          hint.className = "mb-0 small";
          hint.textContent = "请先核对，确认不是同一家企业后再保存。";
          alert.append(head, list, hint);
          box.appendChild(alert);
        })
        .catch(function () { /* no network or no answer: the save checks */ });
    });
  });

  // ---- whose device this is now: the login, the service worker ------------------------------
  const Outbox = window.CrmOutbox;
  const userMeta = document.querySelector("meta[name=crm-user]");
  // "" = nobody is logged in (the login page); null = not said (the offline page: the last login).
  const USER = userMeta ? userMeta.content : null;
  let pageUser = null;
  function userNow() {
    if (USER !== null) return Promise.resolve(USER);
    // The offline page names nobody: online, the server says who is logged in (nobody: nothing
    // is shown); offline, the last login this device was told of.
    if (!pageUser) {
      pageUser = (navigator.onLine ? timed(fetch("/sync/state", { credentials: "same-origin", headers: { Accept: "application/json" } }))
        .then(function (r) { return r.ok && !r.redirected ? r.json().then(function (st) { return String(st.user); }) : ""; })
        : Promise.reject()).catch(function () {
        return Outbox.getMeta("user").then(function (u) { return u ? String(u) : ""; }).catch(function () { return ""; });
      });
    }
    return pageUser;
  }

  // A request that gives up after a few seconds on a bad network (an answer never comes).
  function timed(promise, ms) {
    return Promise.race([promise, new Promise(function (resolve, reject) {
      setTimeout(function () { reject(new Error("timeout")); }, ms || 6000);
    })]);
  }
  const swMeta = document.querySelector("meta[name=crm-sw]");
  if (swMeta && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(swMeta.content).catch(function () { /* no service worker: online only */ });
  }
  function tellWorker(message) {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (reg) {
      const worker = navigator.serviceWorker.controller || reg.active;
      if (worker) worker.postMessage(message);
    });
  }
  document.querySelectorAll("input[name=_user]").forEach(function (el) { el.value = USER || ""; });
  if (USER !== null) {
    Outbox.setMeta("user", USER || null).catch(function () {});
    tellWorker({ type: "user", user: USER || null });
  }
  if (USER) {
    // Pages wanted in the field: home, 待同步, and the files and forms of the firms on my tasks.
    const warm = ["/", "/sync/outbox"];
    document.querySelectorAll("a[data-offline-warm]").forEach(function (a) { warm.push(a.getAttribute("href")); });
    tellWorker({ type: "warm", urls: warm });
  }

  // ---- 待同步: the count on every page, the list, sending ---------------------------------------
  const STATES = { waiting: "等待发送", login: "需要重新登录后发送", refused: "服务器拒收" };
  const params = new URLSearchParams(window.location.search);
  const queuedKey = window.location.pathname.indexOf("/sync/outbox") === 0 || document.querySelector("meta[name=crm-offline-page]")
    ? params.get("queued") : null;
  let lastLanded = [];

  function render(items) {
    document.querySelectorAll("[data-outbox-count]").forEach(function (el) { el.textContent = items.length; });
    document.querySelectorAll("[data-outbox-badge]").forEach(function (el) { el.classList.toggle("d-none", !items.length); });
    const list = document.querySelector("[data-outbox-list]");
    if (!list) return;
    const tpl = document.querySelector("template[data-outbox-item]");
    list.replaceChildren();
    items.forEach(function (item) {
      const li = tpl.content.firstElementChild.cloneNode(true);
      li.dataset.outboxId = item.id;
      li.querySelector("[data-field=label]").textContent = item.label;
      const photos = Outbox.photos(item);
      li.querySelector("[data-field=snippet]").textContent = Outbox.snippet(item) + (photos ? "（照片 " + photos + " 张）" : "");
      li.querySelector("[data-field=at]").textContent = new Date(item.at).toLocaleString("zh-CN", { hour12: false });
      li.querySelector("[data-field=state]").textContent = STATES[item.state] || STATES.waiting;
      li.querySelector("[data-field=reason]").textContent = item.state === "waiting" ? "" : (item.reason || "");
      const open = li.querySelector("[data-action=open]");
      if (item.state === "refused") { // a waiting item is sent as it is: editing it could send it twice
        open.href = item.url.split("#")[0] + "#outbox=" + item.id;
      } else {
        open.remove();
      }
      li.querySelector("[data-action=discard]").addEventListener("click", function () {
        if (!window.confirm("丢弃这条记录？它还没有保存到服务器，丢弃后无法恢复。")) return;
        Outbox.remove(item.id).then(refresh);
      });
      list.appendChild(li);
    });
    const empty = document.querySelector("[data-outbox-empty]");
    if (empty) empty.classList.toggle("d-none", items.length > 0);
    const queued = document.querySelector("[data-outbox-queued]");
    if (queued) queued.classList.toggle("d-none", !(queuedKey && items.some(function (i) { return i.key === queuedKey; })));
    const landed = document.querySelector("[data-outbox-landed]");
    if (landed && lastLanded.length) {
      landed.replaceChildren(document.createTextNode("已发送到服务器：" + lastLanded.length + " 条。"));
      lastLanded.forEach(function (l) {
        if (!l.url) return;
        const a = document.createElement("a");
        a.href = l.url;
        a.className = "ms-2";
        a.textContent = "查看" + l.label;
        landed.appendChild(a);
      });
      landed.classList.remove("d-none");
    }
  }

  // This page's send, or (for the 待同步 page a send just queued) whoever sent that item.
  function refresh() {
    return userNow().then(function (u) {
      return Promise.all([Outbox.list(u), Outbox.landed(u)]);
    }).then(function (got) {
      got[1].forEach(function (l) {
        landedHere(l);
        if (l.key === queuedKey && !lastLanded.some(function (x) { return x.key === l.key; })) lastLanded.push(l);
      });
      render(got[0]);
    }).catch(function () {});
  }

  // An item the server has now: its draft on this device is done.
  function landedHere(l) {
    if (savedMap()[l.key]) return;
    rememberSaved(l.key, l.url);
    dropDraftsOf(l.key);
  }

  let sending = null;
  function sendNow() {
    if (sending) return sending;
    const status = document.querySelector("[data-outbox-status]");
    sending = userNow().then(function (u) { return u ? Outbox.send(u) : null; }).then(function (outcome) {
      if (outcome) {
        lastLanded = lastLanded.concat(outcome.landed);
        outcome.landed.forEach(landedHere);
        if (status) status.textContent = outcome.stopped || (outcome.landed.length || outcome.refused ? "已尝试发送全部记录" : "");
      }
    }).catch(function () {}).then(function () { sending = null; return refresh(); });
    return sending;
  }

  try {
    new BroadcastChannel("crm-outbox").onmessage = function () { refresh(); };
  } catch (e) { /* old browser */ }
  window.addEventListener("online", sendNow);
  document.querySelectorAll("[data-outbox-send]").forEach(function (b) { b.addEventListener("click", sendNow); });
  document.querySelectorAll("[data-history-back]").forEach(function (b) { b.addEventListener("click", function () { history.back(); }); });
  document.querySelectorAll("[data-print]").forEach(function (b) { b.addEventListener("click", function () { window.print(); }); });
  refresh().then(function () { if (navigator.onLine) sendNow(); });
  // Something is kept on this device now: ask the browser not to evict it under storage pressure.
  if (queuedKey && navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () {});
  setInterval(function () { if (navigator.onLine) sendNow(); }, 20000);

  // ---- drafts and form keys ---------------------------------------------------------------
  // A form keeps what was typed on this device (per login) until the server has saved it. A
  // creating form's key means one submission of one content: a key that may have been sent is
  // replaced as soon as the content changes; a page that comes back from history keeps the key
  // it had, and says so when that key was saved.
  const PREFIX = "crm-draft:" + (USER || "") + ":";
  const NOT_IN_DRAFT = ["latitude", "longitude", "accuracy_m"]; // a location is taken at save time

  function store() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  const ls = store();

  function savedMap() {
    if (!ls || !USER) return {};
    try { return JSON.parse(ls.getItem("crm-saved:" + USER) || "{}"); } catch (e) { return {}; }
  }
  function rememberSaved(key, url) {
    if (!ls || !USER || !key) return;
    const map = savedMap();
    map[key] = { url: url || "", at: Date.now() };
    const keys = Object.keys(map).sort(function (a, b) { return map[b].at - map[a].at; });
    keys.slice(50).forEach(function (k) { delete map[k]; });
    try { ls.setItem("crm-saved:" + USER, JSON.stringify(map)); } catch (e) { /* storage full */ }
  }

  function dropDraftsOf(key) {
    if (!ls) return;
    for (let i = ls.length - 1; i >= 0; i--) {
      const k = ls.key(i);
      if (!k || !k.startsWith("crm-draft:")) continue;
      try {
        if (JSON.parse(ls.getItem(k)).form_key === key) ls.removeItem(k);
      } catch (e) { ls.removeItem(k); }
    }
  }

  // The page after a successful save names the form key it saved: that draft is done.
  document.querySelectorAll("meta[name=crm-saved-form]").forEach(function (meta) {
    rememberSaved(meta.content, window.location.pathname + window.location.search + window.location.hash);
    dropDraftsOf(meta.content);
  });

  // Where a key went: {saved: url}, {queued: id}, null (not saved), or "unknown" (no network).
  function whereIs(key) {
    const local = savedMap()[key];
    if (local) return Promise.resolve({ saved: local.url });
    return userNow().then(function (u) {
      return Promise.all([Outbox.list(u), Outbox.landed(u)]);
    }).catch(function () { return [[], []]; }).then(function (got) {
      const q = got[0].find(function (i) { return i.key === key; });
      if (q) return { queued: q.id };
      const l = got[1].find(function (i) { return i.key === key; });
      if (l) return { saved: l.url };
      if (!navigator.onLine) return "unknown";
      return timed(fetch("/sync/state?key=" + encodeURIComponent(key), { credentials: "same-origin", headers: { Accept: "application/json" } }))
        .then(function (r) { return r.ok && !r.redirected ? r.json() : Promise.reject(); })
        .then(function (state) {
          if (state.saved[key]) { rememberSaved(key, state.saved[key]); return { saved: state.saved[key] }; }
          return null;
        }, function () { return "unknown"; });
    });
  }

  function newKey() {
    const bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function collect(form) {
    const data = {};
    Array.from(form.elements).forEach(function (el) {
      if (!el.name || el.name === "csrf_token" || el.name === "_outbox" || NOT_IN_DRAFT.indexOf(el.name) !== -1 ||
          el.type === "file" || el.type === "submit" ||
          el.type === "button" || el.closest("[data-picked]") || el.matches("[data-picker-input]")) return;
      if (el.type === "checkbox" || el.type === "radio") {
        data[el.name] = data[el.name] || [];
        if (el.checked) data[el.name].push(el.value);
      } else {
        data[el.name] = el.value;
      }
    });
    form.querySelectorAll("[data-enterprise-picker]").forEach(function (picker) {
      data["__picker:" + picker.dataset.name] = Array.from(picker.querySelectorAll(".picked-chip")).map(function (chip) {
        return { id: chip.querySelector("input").value, label: chip.firstChild.textContent };
      });
    });
    return data;
  }

  function apply(form, data) {
    Array.from(form.elements).forEach(function (el) {
      if (!el.name || !(el.name in data) || el.name === "csrf_token" || el.name === "_outbox" || el.type === "file" ||
          el.closest("[data-picked]")) return;
      const value = data[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = Array.isArray(value) && value.indexOf(el.value) !== -1;
      } else if (typeof value === "string") {
        el.value = value;
      } else if (Array.isArray(value) && value.length) {
        el.value = value[0];
      }
    });
    form.querySelectorAll("[data-enterprise-picker]").forEach(function (picker) {
      const chips = data["__picker:" + picker.dataset.name];
      if (!Array.isArray(chips)) return;
      picker.querySelector("[data-picked]").replaceChildren();
      chips.forEach(function (c) { addChip(picker, c.id, c.label); });
    });
  }

  function keyOf(form) { return form.querySelector("input[name=form_key]"); }
  function isKeyed(form) { return !!(form.querySelector("input[name=_outbox]") && keyOf(form)); }

  function remember(form) {
    if (!isKeyed(form)) return;
    const state = Object.assign({}, history.state || {}, { formKey: keyOf(form).value, sent: form.dataset.sent === "1" });
    try { history.replaceState(state, ""); } catch (e) { /* history unavailable */ }
  }

  function lock(form, where) {
    if (form.dataset.locked === "1") return;
    form.dataset.locked = "1";
    const box = document.createElement("div");
    box.className = "alert alert-success d-flex flex-wrap align-items-center gap-2";
    box.setAttribute("role", "status");
    box.id = "form-saved-notice";
    const text = document.createElement("span");
    text.className = "me-auto";
    const link = document.createElement("a");
    link.className = "btn btn-outline-success";
    if (where.queued) {
      text.textContent = "这份表单已保存在这台设备上，等待发送到服务器（待同步），不会重复保存。";
      link.href = "/sync/outbox";
      link.textContent = "查看待同步";
    } else {
      text.textContent = "已保存：这份表单已经保存过，不能再次提交。";
      link.href = where.saved || "/";
      link.textContent = "查看已保存的记录";
    }
    const again = document.createElement("a");
    again.className = "btn btn-outline-secondary";
    again.href = window.location.pathname + window.location.search;
    again.textContent = "再记录一条";
    box.append(text, link, again);
    form.before(box);
    form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) { b.disabled = true; });
  }

  function checkSent(form) {
    if (form.dataset.sent !== "1") return Promise.resolve();
    return whereIs(keyOf(form).value).then(function (where) {
      if (where && where !== "unknown") lock(form, where);
    });
  }

  const navEntry = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  const fromHistory = !!(navEntry && navEntry.type === "back_forward");

  function draftKey(form) { return PREFIX + form.dataset.draft; }

  function readDraft(form) {
    if (!ls || !form.dataset.draft) return null;
    try { return JSON.parse(ls.getItem(draftKey(form)) || "null"); } catch (e) { return null; }
  }

  function writeDraft(form, extra) {
    if (!ls || !form.dataset.draft) return;
    const data = collect(form);
    try {
      ls.setItem(draftKey(form), JSON.stringify(Object.assign({ form_key: data.form_key || "", at: Date.now(), data: data,
                                                                 sent: form.dataset.sent === "1" }, extra || {})));
    } catch (e) { /* storage full or disabled: the form still works */ }
  }

  function showDraftNotice() {
    const notice = document.querySelector("[data-draft-notice]");
    if (notice) notice.classList.remove("d-none");
  }

  // A form opened from 待同步 to be corrected: its fields and photos, a fresh key.
  function openFromOutbox(form, id) {
    return Outbox.get(id).then(function (item) {
      if (!item) return false;
      const data = {};
      const files = {};
      item.fields.forEach(function (pair) {
        const name = pair[0];
        const value = pair[1];
        if (typeof value !== "string") { (files[name] = files[name] || []).push(value); return; }
        const el = form.elements[name];
        const multi = el && (el.length !== undefined && el.tagName !== "SELECT") || (el && (el.type === "checkbox" || el.type === "radio"));
        if (multi) (data[name] = data[name] || []).push(value);
        else data[name] = value;
      });
      form.querySelectorAll("[data-enterprise-picker]").forEach(function (picker) {
        const ids = item.fields.filter(function (p) { return p[0] === picker.dataset.name; }).map(function (p) { return p[1]; });
        data["__picker:" + picker.dataset.name] = ids.map(function (v) { return { id: v, label: "已选企业（编号 " + v + "）" }; });
        picker.querySelectorAll("[data-picked] input").forEach(function (inp) { if (inp.name === picker.dataset.name) inp.disabled = true; });
      });
      apply(form, data);
      Object.keys(files).forEach(function (name) {
        const input = form.querySelector("input[type=file][name='" + name + "']:not([capture])") ||
          form.querySelector("input[type=file][name='" + name + "']");
        if (!input || !window.DataTransfer) return;
        const dt = new DataTransfer();
        files[name].forEach(function (f) { dt.items.add(f instanceof File ? f : new File([f], "photo.jpg", { type: f.type })); });
        input.files = dt.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
      keyOf(form).value = newKey();
      form.dataset.sent = "";
      form.dataset.fromOutbox = String(item.id);
      try { history.replaceState(history.state, "", window.location.pathname + window.location.search); } catch (e) { /* */ }
      const box = document.createElement("div");
      box.className = "alert alert-warning";
      box.setAttribute("role", "status");
      box.id = "outbox-open-notice";
      box.textContent = "这是待同步中的一条记录" + (item.reason ? "（" + item.reason + "）" : "") +
        "。修改后点“保存”发送；原来的那条会从待同步中移除。";
      form.before(box);
      return true;
    });
  }

  document.querySelectorAll("form[data-draft], form").forEach(function (form) {
    if (form.dataset.crmReady) return;
    form.dataset.crmReady = "1";
    const keyed = isKeyed(form);
    if (!keyed && !form.dataset.draft) return;
    const fresh = form.hasAttribute("data-draft-fresh");
    const keyInput = keyOf(form);
    const outboxId = (window.location.hash.match(/^#outbox=(\d+)$/) || [])[1];
    const initial = JSON.stringify(collect(form));
    const st = history.state || {};

    let ready;
    if (keyed && fromHistory && st.formKey) {
      // Back or Forward to a form: it is the form it was, with its key.
      keyInput.value = st.formKey;
      form.dataset.sent = st.sent ? "1" : "";
      ready = checkSent(form);
    } else if (keyed && outboxId) {
      ready = openFromOutbox(form, outboxId);
    } else if (fresh) {
      const saved = readDraft(form);
      const differs = saved && saved.data && JSON.stringify(saved.data) !== initial;
      if (keyed) keyInput.value = newKey(); // a kept copy of the page must never hand out its key twice
      if (differs && keyed) {
        // The server says which of my keys it holds (the outbox, which it keeps): such a draft is
        // done, even when the answer to its send never arrived.
        ready = whereIs(saved.form_key).then(function (where) {
          if (form.dataset.touched === "1") return; // typed or sent meanwhile: that wins
          if (where && where !== "unknown") {
            ls.removeItem(draftKey(form));
            return;
          }
          apply(form, saved.data);
          form.dataset.sent = where === "unknown" && saved.sent ? "1" : "";
          showDraftNotice();
        });
      } else if (differs) {
        apply(form, saved.data);
        form.dataset.sent = "";
        showDraftNotice();
      }
    } else {
      form.dataset.sent = ""; // the server's answer to this key: not saved (messages on the form)
    }
    Promise.resolve(ready).then(function () { remember(form); });

    // The content changed after a send whose fate is unknown: a new key, so it can never be taken
    // for that send.
    const rotate = function (event) {
      if (event.target.matches && event.target.matches("[data-picker-input]")) return; // a search, not content
      form.dataset.touched = "1";
      if (!keyed || form.dataset.sent !== "1" || form.dataset.locked === "1") return;
      keyInput.value = newKey();
      form.dataset.sent = "";
      remember(form);
    };
    form.addEventListener("input", rotate, true);
    form.addEventListener("change", rotate, true);

    let timer = null;
    const save = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { writeDraft(form); }, 300);
    };
    if (form.dataset.draft) {
      form.addEventListener("input", save);
      form.addEventListener("change", save);
    }
    form.addEventListener("submit", function (event) {
      if (form.dataset.locked === "1") { event.preventDefault(); event.stopImmediatePropagation(); }
    });
    form.crmBeforeSend = function () {
      clearTimeout(timer);
      form.dataset.touched = "1";
      if (!keyed) return;
      form.dataset.sent = "1";
      remember(form);
      writeDraft(form, { sent: true });
      if (form.dataset.fromOutbox) {
        // The refused item this corrects leaves 待同步 once the correction is saved or queued
        // (seen on a later page: this one may be gone before a write finishes).
        try {
          sessionStorage.setItem("crm-outbox-replaced", JSON.stringify({ id: form.dataset.fromOutbox, key: keyOf(form).value }));
        } catch (e) { /* private mode */ }
      }
    };
    const discard = document.querySelector("[data-draft-discard]");
    if (discard && form.dataset.draft) {
      discard.addEventListener("click", function () {
        ls.removeItem(draftKey(form));
        window.location.reload();
      });
    }
  });

  // Back to a page kept whole by the browser (back-forward cache): a sent form says where it went.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form").forEach(function (form) {
      if (isKeyed(form)) {
        form.dataset.submitted = "";
        checkSent(form);
      }
    });
    refresh();
  });

  // Called by the page-wide submit handler when a form is really being sent.
  function beforeSend(form) {
    if (typeof form.crmBeforeSend === "function") form.crmBeforeSend();
  }

  // The refused item a correction replaced leaves 待同步 once the correction is saved or queued.
  // The note of it is dropped only when that is settled: a page left before the item is gone
  // hands it on to the next page, which asks the server whether the correction landed.
  try {
    const replaced = JSON.parse(sessionStorage.getItem("crm-outbox-replaced") || "null");
    if (replaced) {
      const forget = function () { sessionStorage.removeItem("crm-outbox-replaced"); };
      const drop = function () { return Outbox.remove(replaced.id).then(forget).then(refresh); };
      const savedHere = Array.from(document.querySelectorAll("meta[name=crm-saved-form]")).some(function (m) {
        return m.content === replaced.key;
      });
      const again = Array.from(document.querySelectorAll("input[name=form_key]")).some(function (i) {
        return i.value === replaced.key;
      }); // the server sent the correction back with messages: still open
      userNow().then(function (u) { return Outbox.list(u); }).then(function (items) {
        if (!items.some(function (i) { return i.id === Number(replaced.id); })) return forget();
        if (savedHere || items.some(function (i) { return i.key === replaced.key; })) return drop();
        if (again || !navigator.onLine) return null;
        return timed(fetch("/sync/state?key=" + encodeURIComponent(replaced.key), {
          credentials: "same-origin", headers: { Accept: "application/json" },
        })).then(function (r) { return r.ok && !r.redirected ? r.json() : null; }).then(function (st) {
          if (st && st.saved && st.saved[replaced.key]) return drop();
          if (st) forget(); // not saved: given up, the item stays
          return null;
        });
      }).catch(function () {});
    }
  } catch (e) { /* private mode */ }

  // ---- logging out: what waits on this device is this login's -------------------------------
  document.querySelectorAll("form[data-logout]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.confirmed === "1") return;
      event.preventDefault();
      if (!navigator.onLine) {
        window.alert("现在没有网络，无法退出登录。联网后再退出；待同步的记录会先发送。");
        return;
      }
      Outbox.list(USER).catch(function () { return []; }).then(function (items) {
        if (items.length && !window.confirm("这台设备上还有 " + items.length + " 条记录没有发送到服务器（待同步）。" +
            "退出登录会把它们从这台设备上删除，无法恢复。\n\n确定退出吗？选“取消”留在本页，联网后会自动发送。")) return;
        return Outbox.removeUser(USER).catch(function () {}).then(function () {
          if (ls) {
            for (let i = ls.length - 1; i >= 0; i--) {
              const k = ls.key(i);
              if (k && (k.startsWith(PREFIX) || k === "crm-saved:" + USER)) ls.removeItem(k);
            }
          }
          tellWorker({ type: "user", user: null });
          form.dataset.confirmed = "1";
          HTMLFormElement.prototype.submit.call(form);
        });
      });
    });
  });

  // ---- print: under the heading, the filters the list was printed with ----------------------
  // print.css leaves the filter form off the paper; this line (shown only in print) says what it
  // held: each chosen option, typed text and date, and the tab shown (待跟进建议's rule).
  function labelOf(el) {
    const label = el.id ? document.querySelector("label[for='" + CSS.escape(el.id) + "']") : null;
    return (label ? label.textContent : el.getAttribute("aria-label") || "").trim();
  }
  function filterText(el) {
    if (el.disabled || ["hidden", "submit", "button", "reset", "file"].indexOf(el.type) >= 0) return "";
    if (el.tagName === "SELECT") {
      const option = el.options[el.selectedIndex];
      const text = option ? option.textContent.trim() : "";
      if (!text || (!el.value && text.indexOf("全部") >= 0)) return "";
      const label = labelOf(el);
      return !label || text.indexOf(label) === 0 ? text : label + "：" + text;
    }
    if (el.type === "radio" || el.type === "checkbox") {
      if (!el.checked) return "";
      const text = el.labels && el.labels[0] ? el.labels[0].textContent.trim() : el.value;
      const group = el.closest("[role=group]");
      return group && group.getAttribute("aria-label") ? group.getAttribute("aria-label") + "：" + text : text;
    }
    const value = (el.value || "").trim();
    return value ? (labelOf(el) || el.placeholder || "筛选") + "：" + value : "";
  }
  (function printedFilters() {
    const main = document.querySelector("main");
    const heading = main && main.querySelector("h1");
    if (!heading || heading.closest(".d-print-none")) return; // (a page with a print heading of its own)
    const parts = [];
    main.querySelectorAll(".nav-pills .nav-link.active").forEach(function (tab) {
      if (tab.closest(".d-print-none")) return;
      const first = Array.from(tab.childNodes).find(function (n) { return n.nodeType === 3 && n.textContent.trim(); });
      if (first) parts.push(first.textContent.trim());
    });
    main.querySelectorAll("form").forEach(function (form) {
      if ((form.getAttribute("method") || "get").toLowerCase() !== "get" || form.hasAttribute("data-bulk")) return;
      form.querySelectorAll("select, input").forEach(function (el) {
        const text = filterText(el);
        if (text) parts.push(text);
      });
      form.querySelectorAll("a[title='去掉这个条件']").forEach(function (a) {
        parts.push(a.textContent.replace("×", "").trim());
      });
    });
    if (!parts.length) return;
    const line = document.createElement("p");
    line.className = "print-filters d-none d-print-block";
    line.textContent = "筛选：" + parts.join("；");
    (heading.closest(".d-flex") || heading).insertAdjacentElement("afterend", line);
  })();

  // ---- sign-ups as they come: the QR page's count, the meeting page's list ----------------------
  document.querySelectorAll("[data-signups-live]").forEach(function (el) {
    const url = el.getAttribute("data-signups-live");
    function refreshList(section) {
      fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(section.id);
          if (fresh) {
            section.innerHTML = fresh.innerHTML;
            section.setAttribute("data-signups-last", fresh.getAttribute("data-signups-last") || "0");
          }
        }).catch(function () {});
    }
    function poll() {
      if (document.hidden) return;
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          const total = el.querySelector("[data-signups-total]");
          if (total) total.textContent = String(data.total);
          if (!el.hasAttribute("data-signups-last")) return;
          if (data.last <= Number(el.getAttribute("data-signups-last") || 0)) return;
          const busy = el.querySelector("input[type=checkbox]:checked") || el.contains(document.activeElement);
          if (busy) {
            const news = el.querySelector("[data-signups-news]");
            if (news) {
              news.textContent = "有新的扫码登记，处理完当前所选后刷新页面即可看到。";
              news.classList.remove("d-none");
            }
          } else {
            refreshList(el);
          }
        }).catch(function () {});
    }
    window.setInterval(poll, 5000);
  });
})();
