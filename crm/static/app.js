// Small progressive enhancements. No inline script anywhere (CSP: script-src 'self').
document.addEventListener("submit", function (event) {
  const form = event.target;
  const message = form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
    return;
  }
  // A double tap sends a form once.
  if (form.dataset.submitted === "1") {
    event.preventDefault();
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
});
