// The worker's sign-up page: what is typed survives a lost connection (kept in this tab until
// it is sent), and a tap without a network says so instead of losing the page.
(function () {
  "use strict";
  const key = "crm-join:" + window.location.pathname.replace(/\/done$/, "");
  if (document.querySelector("[data-join-done]")) { // sent: nothing to keep
    try { window.sessionStorage.removeItem(key); } catch (e) { /* nothing kept */ }
    return;
  }
  const form = document.querySelector("form[data-join]");
  if (!form) return;
  const fields = Array.from(form.querySelectorAll("input[name], select[name]")).filter(function (el) {
    return el.name !== "csrf_token" && el.name !== "website";
  });
  function save() {
    const data = {};
    fields.forEach(function (el) { data[el.name] = el.type === "checkbox" ? el.checked : el.value; });
    try { window.sessionStorage.setItem(key, JSON.stringify(data)); } catch (e) { /* storage off: nothing kept */ }
  }
  let kept = null;
  try { kept = JSON.parse(window.sessionStorage.getItem(key) || "null"); } catch (e) { kept = null; }
  if (kept && !form.hasAttribute("data-join-answered")) {
    fields.forEach(function (el) {
      if (!(el.name in kept)) return;
      if (el.type === "checkbox") { if (!el.checked) el.checked = !!kept[el.name]; }
      else if (!el.value) { el.value = kept[el.name]; }
    });
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  const notice = document.getElementById("offline-notice");
  form.addEventListener("submit", function (event) {
    if (navigator.onLine === false) {
      event.preventDefault();
      save();
      if (notice) notice.classList.remove("d-none");
      return;
    }
    if (form.dataset.sent === "1") { event.preventDefault(); return; } // a double tap sends once
    form.dataset.sent = "1";
    window.setTimeout(function () { form.dataset.sent = ""; }, 8000);
  });
  window.addEventListener("online", function () { if (notice) notice.classList.add("d-none"); });
})();
