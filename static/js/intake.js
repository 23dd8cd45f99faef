/* Sportello intake form: offer only the specialties and the usual documents of the chosen area.
   Progressive enhancement: without this script every option and every area's documents are shown,
   and the server checks that the specialty belongs to the area anyway. */
(function () {
  "use strict";
  function init() {
    var area = document.getElementById("id_area");
    var specialty = document.getElementById("id_specialty");
    if (!area || !specialty) { return; }
    // Keep every option aside: hidden <option>s are not reliably hidden on every browser.
    var all = Array.prototype.slice.call(specialty.options).map(function (o) { return o.cloneNode(true); });
    var docs = document.querySelectorAll("[data-area-docs], [data-area-info]");

    function sync() {
      var chosen = area.value;
      var selected = specialty.value;
      while (specialty.options.length) { specialty.remove(0); }
      var kept = 0;
      all.forEach(function (option) {
        var own = option.getAttribute("data-area");
        if (!option.value || own === chosen) {
          var copy = option.cloneNode(true);
          copy.selected = option.value === selected && (!option.value || own === chosen);
          specialty.add(copy);
          if (option.value) { kept += 1; }
        }
      });
      specialty.disabled = !chosen || kept === 0;
      Array.prototype.forEach.call(docs, function (el) {
        var id = el.getAttribute("data-area-docs") || el.getAttribute("data-area-info");
        el.hidden = id !== chosen;
      });
    }
    area.addEventListener("change", sync);
    sync();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
