// Order forms (portal/requests/templates/requests/_form_order.html): one submit per click.
// A double click would otherwise post twice and raise two orders. The buttons stay enabled (a disabled
// button would drop its action from the post); later submits of the same page are simply ignored.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches || !form.matches("form.order-form")) return;
  if (form.dataset.sent === "true") {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "true";
  form.setAttribute("aria-busy", "true");
});

// Back to a page kept in the browser's cache: it may be sent again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form.order-form[data-sent]").forEach(function (form) {
    delete form.dataset.sent;
    form.removeAttribute("aria-busy");
  });
});
