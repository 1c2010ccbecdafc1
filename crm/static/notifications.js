// The bell in the navbar (templates/base.html): its unread count is asked for again every
// data-refresh-seconds (30) while the page is visible and the device online, and at once when the
// page comes back into view. No inline script anywhere (CSP: script-src 'self').
(function () {
  "use strict";
  const bell = document.querySelector("[data-notifications-bell]");
  if (!bell || !window.fetch) return;
  const url = bell.getAttribute("data-count-url");
  const every = Math.max(1, Number(bell.getAttribute("data-refresh-seconds")) || 30) * 1000;
  const badge = bell.querySelector("[data-notifications-badge]");
  const label = bell.querySelector("[data-notifications-label]");
  let timer = null;

  function show(n) {
    badge.textContent = n > 9 ? "9+" : String(n);
    badge.classList.toggle("d-none", n === 0);
    label.textContent = n ? "通知（" + n + " 条未读）" : "通知（没有未读）";
  }

  function refresh() {
    if (document.hidden || !navigator.onLine) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        // Signed out meanwhile: the login page, not JSON; the bell stays as it is.
        const json = r.ok && (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        return json ? r.json() : null;
      })
      .then(function (data) {
        if (data && typeof data.unread === "number") show(data.unread);
      })
      .catch(function () {});
  }

  function start() {
    if (timer === null) timer = window.setInterval(refresh, every);
  }

  function stop() {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      stop();
    } else {
      refresh();
      start();
    }
  });
  if (!document.hidden) start();
})();
