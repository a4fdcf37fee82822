// Behaviour that the templates ask for with data- attributes, so pages need no inline
// script and the Content-Security-Policy can forbid it (script-src 'self').
//   data-autosubmit  on a <select>: submit its form when the choice changes
//   data-confirm="…" on a <form> or a submit <button>: ask before submitting
//   data-print       on a button: print the page
document.addEventListener("change", function (event) {
  var field = event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
});
document.addEventListener("submit", function (event) {
  var form = event.target;
  var asker = event.submitter && event.submitter.hasAttribute("data-confirm") ? event.submitter : form;
  var question = asker.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});
// data-app-tab on a tab link loaded by htmx: mark it the active tab once its panel came.
document.addEventListener("htmx:afterRequest", function (event) {
  var tab = event.target.closest && event.target.closest("[data-app-tab]");
  if (!tab || !event.detail.successful) return;
  tab.parentElement.querySelectorAll("a").forEach(function (a) {
    a.classList.remove("active");
    a.removeAttribute("aria-current");
  });
  tab.classList.add("active");
  tab.setAttribute("aria-current", "page");
});
// data-show-refusals on a container: refusals (403/409/422) come back as fragments that
// give the reason; swap them in instead of dropping them as errors.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if ([403, 409, 422].indexOf(status) >= 0 && event.target.closest("[data-show-refusals]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
