/* Sportello case page composer: the words of the chosen mode, the canned replies, the focus.
   Progressive enhancement: without this script every field is shown, the text's label and the
   button say what the server rendered, "Insert" asks the server to fill the canned reply in, and
   the page lands on the composer (#composer) with the error beside its field.
   A file rather than inline script, so the Content-Security-Policy needs no exception. */
(function () {
  "use strict";

  function init() {
    var form = document.querySelector("form[data-composer]");
    if (!form) { return; }
    var body = form.querySelector("textarea[name='composer-body']");
    var label = body ? form.querySelector("label[for='" + body.id + "']") : null;
    var submit = form.querySelector("[data-composer-submit]");
    var radios = form.querySelectorAll("input[name='composer-mode']");
    var modeOnly = form.querySelectorAll("[data-mode-only]");

    function sync() {
      var chosen = form.querySelector("input[name='composer-mode']:checked");
      if (!chosen) { return; }
      if (label && chosen.getAttribute("data-text-label")) {
        label.textContent = chosen.getAttribute("data-text-label") + ":";
      }
      if (submit && chosen.getAttribute("data-button")) {
        submit.textContent = chosen.getAttribute("data-button");
      }
      form.setAttribute("data-public", chosen.getAttribute("data-public") || "true");
      Array.prototype.forEach.call(modeOnly, function (el) {
        // A field with an error stays in sight whatever the mode.
        el.hidden = el.getAttribute("data-mode-only") !== chosen.value &&
          !el.classList.contains("has-error");
      });
    }
    Array.prototype.forEach.call(radios, function (radio) {
      radio.addEventListener("change", sync);
    });
    sync();

    // The canned reply goes where the cursor is, and the text keeps what was written.
    var insert = form.querySelector("[data-canned-insert]");
    var picker = form.querySelector("select[name='composer-canned']");
    if (insert && picker && body) {
      insert.addEventListener("click", function (event) {
        event.preventDefault();
        var option = picker.options[picker.selectedIndex];
        var text = option ? option.getAttribute("data-text") : null;
        if (!text) { picker.focus(); return; }
        var start = body.selectionStart, end = body.selectionEnd, value = body.value;
        if (typeof start !== "number" || (start === 0 && end === 0)) {
          start = end = value.length;
          if (value && !/\n\n$/.test(value)) { text = (/\n$/.test(value) ? "\n" : "\n\n") + text; }
        }
        body.value = value.slice(0, start) + text + value.slice(end);
        var caret = start + text.length;
        body.focus();
        body.setSelectionRange(caret, caret);
        picker.selectedIndex = 0;
      });
    }

    // After an error the first field to fix takes the focus. A page opened at #composer does
    // not honour autofocus, and Chromium clears the focus when it scrolls to a fragment whose
    // target cannot take it: focus now, and again once the page has loaded and scrolled.
    var first = form.querySelector("[autofocus]") || form.querySelector("[aria-invalid='true']");
    if (first) {
      first.focus();
      window.addEventListener("load", function () {
        window.setTimeout(function () {
          if (document.activeElement === document.body || !document.activeElement) {
            first.focus();
          }
        }, 0);
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
