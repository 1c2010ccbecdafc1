// Small progressive enhancements. No inline script anywhere (CSP: script-src 'self').
(function () {
  "use strict";

  // ---- submit: confirmation, location at save time, one send per tap --------------------------
  document.addEventListener("submit", function (event) {
    const form = event.target;
    const message = form.getAttribute("data-confirm");
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
      const send = function () { HTMLFormElement.prototype.submit.call(form); };
      navigator.geolocation.getCurrentPosition(function (pos) {
        lat.value = pos.coords.latitude.toFixed(6);
        form.querySelector("input[name=longitude]").value = pos.coords.longitude.toFixed(6);
        form.querySelector("input[name=accuracy_m]").value = Math.round(pos.coords.accuracy);
        send();
      }, send, { timeout: 8000, maximumAge: 60000 });
      return;
    }
    form.dataset.submitted = "1";
    setTimeout(function () { form.dataset.submitted = ""; }, 4000);
  });

  // Selects marked data-autosubmit submit their (GET) form when changed: list filters.
  document.addEventListener("change", function (event) {
    const el = event.target;
    if (el.matches("[data-autosubmit]") && el.form) el.form.requestSubmit();
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

  // ---- drafts: a form keeps what was typed on this device until the server has saved it --------
  const PREFIX = "crm-draft:";
  const NOT_IN_DRAFT = ["latitude", "longitude", "accuracy_m"]; // a location is taken at save time

  function store() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  // The page after a successful save names the form key it saved: that draft is done.
  const ls = store();
  if (ls) {
    document.querySelectorAll("meta[name=crm-saved-form]").forEach(function (meta) {
      for (let i = ls.length - 1; i >= 0; i--) {
        const k = ls.key(i);
        if (!k || !k.startsWith(PREFIX)) continue;
        try {
          if (JSON.parse(ls.getItem(k)).form_key === meta.content) ls.removeItem(k);
        } catch (e) { ls.removeItem(k); }
      }
    });
  }

  function collect(form) {
    const data = {};
    Array.from(form.elements).forEach(function (el) {
      if (!el.name || el.name === "csrf_token" || NOT_IN_DRAFT.indexOf(el.name) !== -1 ||
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
      if (!el.name || !(el.name in data) || el.name === "csrf_token" || el.type === "file" ||
          el.closest("[data-picked]")) return;
      const value = data[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = Array.isArray(value) && value.indexOf(el.value) !== -1;
      } else if (typeof value === "string") {
        el.value = value;
      }
    });
    form.querySelectorAll("[data-enterprise-picker]").forEach(function (picker) {
      const chips = data["__picker:" + picker.dataset.name];
      if (!Array.isArray(chips)) return;
      picker.querySelector("[data-picked]").replaceChildren();
      chips.forEach(function (c) { addChip(picker, c.id, c.label); });
    });
  }

  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    if (!ls) return;
    const key = PREFIX + form.dataset.draft;
    const initial = JSON.stringify(collect(form));
    // Only a freshly opened form is filled from the draft; a form the server sent back with
    // messages already holds what the user sent.
    if (form.hasAttribute("data-draft-fresh")) {
      let saved = null;
      try { saved = JSON.parse(ls.getItem(key) || "null"); } catch (e) { saved = null; }
      if (saved && saved.data && JSON.stringify(saved.data) !== initial) {
        apply(form, saved.data);
        const notice = document.querySelector("[data-draft-notice]");
        if (notice) notice.classList.remove("d-none");
      }
    }
    let timer = null;
    const save = function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        const data = collect(form);
        try {
          ls.setItem(key, JSON.stringify({ form_key: data.form_key || "", at: Date.now(), data: data }));
        } catch (e) { /* storage full or disabled: the form still works */ }
      }, 300);
    };
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    const discard = document.querySelector("[data-draft-discard]");
    if (discard) {
      discard.addEventListener("click", function () {
        ls.removeItem(key);
        window.location.reload();
      });
    }
  });
})();
