/* Sportello language switcher: choosing a language submits its form at once.
   Without this script the form's own "Change" button (in <noscript>) does the same.
   A file rather than an onchange attribute, so the Content-Security-Policy needs no inline script. */
(function () {
  "use strict";
  function init() {
    var selects = document.querySelectorAll("select[data-autosubmit]");
    Array.prototype.forEach.call(selects, function (select) {
      select.addEventListener("change", function () {
        if (select.form) { select.form.submit(); }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
