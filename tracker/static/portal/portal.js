/* The portal's small behaviours, here rather than in the pages: the Content-Security-Policy allows no inline script
   and no event handler attribute.
   - a select marked data-submit-on-change sends its form as soon as a choice is made (the language switch);
   - a form marked data-confirm asks first, with that text, and is not sent unless confirmed (withdrawing a case). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-submit-on-change]") && select.form) select.form.submit();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
