// A job's page (templates/jobs/show.html): the progress bar is set from data-width, and while the
// job is queued or running its state is asked for again every data-refresh-seconds from
// data-status-url; when it ends the page reloads once to show its download or 重试 button.
// No inline script anywhere (CSP: script-src 'self').
(function () {
  "use strict";
  const box = document.getElementById("job");
  if (!box) return;
  const bar = box.querySelector("[data-job-bar]");
  const holder = box.querySelector("[data-job-progress]");
  const stateBadge = box.querySelector("[data-job-state]");
  const text = box.querySelector("[data-job-text]");
  const error = box.querySelector("[data-job-error]");
  const errorText = box.querySelector("[data-job-error-text]");
  const url = box.getAttribute("data-status-url");
  const every = Math.max(1, Number(box.getAttribute("data-refresh-seconds")) || 2) * 1000;
  const active = { queued: true, running: true };

  function width(n) {
    n = Math.max(0, Math.min(100, Number(n) || 0));
    bar.style.width = n + "%";
    bar.textContent = n + "%";
    holder.setAttribute("aria-valuenow", String(n));
  }

  width(bar.getAttribute("data-width"));
  if (!active[box.getAttribute("data-state")] || !window.fetch) return;

  function refresh() {
    if (document.hidden) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        const json = r.ok && (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        return json ? r.json() : null;
      })
      .then(function (data) {
        if (!data) return;
        width(data.progress);
        stateBadge.textContent = data.state_label;
        text.textContent = data.progress_text || "";
        errorText.textContent = data.error || "";
        error.classList.toggle("d-none", !data.error || data.state === "done");
        if (!active[data.state]) {
          window.clearInterval(timer);
          window.location.reload();
        }
      })
      .catch(function () {});
  }

  const timer = window.setInterval(refresh, every);
})();
