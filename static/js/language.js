/* Sportello language switcher: choosing a language submits its form at once.
   Without this script the form's own "Change" button (in <noscript>) does the same.
   A file rather than an onchange attribute, so the Content-Security-Policy needs no inline script.
   Loaded in the head without `defer` and listening on the document, so a choice made while the
   rest of the page is still loading is not lost (a listener added at DOMContentLoaded missed it). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select && select.matches && select.matches("select[data-autosubmit]") && select.form) {
      select.form.submit();
    }
  });
})();
