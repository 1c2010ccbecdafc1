// An activity's sign-ups (templates/activities/_signups.html). Without this file every 签到,
// 撤销签到 and 取消报名 is a plain form post that reloads the page; with it the post is sent in
// the background and the parts of the page marked data-live are replaced by the fresh ones, so
// the list keeps its place and the counts rise at once. The search box filters the rows as one
// types (a name or the phone's last digits); a whole number is looked up by the server.
(function () {
  "use strict";

  function filter() {
    const box = document.querySelector("[data-signup-filter]");
    const q = box ? box.value.trim() : "";
    const byServer = /^\d{5,}$/.test(q); // a whole number: the server matches it on submit
    document.querySelectorAll("#signup-list [data-signup]").forEach(function (row) {
      const hit = !q || byServer || (row.dataset.name || "").indexOf(q) !== -1 ||
        (/^\d{1,4}$/.test(q) && (row.dataset.phone || "").endsWith(q));
      row.hidden = !hit;
    });
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-signup-filter]")) filter();
  });

  function announce(text, failed) {
    const status = document.getElementById("signup-status");
    if (!status) return;
    status.textContent = text;
    status.className = text ? "alert py-2 " + (failed ? "alert-danger" : "alert-success") : "visually-hidden";
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (event.defaultPrevented || !form.matches || !form.matches("form[data-signup-action]") || !window.fetch) return;
    event.preventDefault();
    const row = form.closest("[data-signup]");
    const rowId = row ? row.dataset.signup : "";
    const button = form.querySelector("button[type=submit]");
    const box = document.querySelector("[data-signup-filter]");
    const typed = box ? box.value : "";
    if (button) button.disabled = true;
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        if (!fresh.getElementById("signups")) throw new Error("not the activity's page"); // e.g. signed out
        document.querySelectorAll("[data-live][id]").forEach(function (part) {
          const next = fresh.getElementById(part.id);
          if (next) part.replaceWith(document.importNode(next, true));
        });
        const message = fresh.querySelector("main .alert[role=alert]");
        announce(message ? message.textContent.trim() : "", !!(message && message.classList.contains("alert-danger")));
        const newBox = document.querySelector("[data-signup-filter]");
        if (newBox) newBox.value = typed;
        filter();
        const again = rowId && document.getElementById("signup-" + rowId);
        const target = again && again.querySelector("button[type=submit]");
        if (target) target.focus({ preventScroll: true });
      })
      .catch(function () {
        announce("网络不通或页面已过期，这次操作没有保存。请检查网络后再点一次。", true);
        if (button) button.disabled = false;
      })
      .finally(function () { form.dataset.submitted = ""; });
  });
})();
