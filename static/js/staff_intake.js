/* Sportello workspace, "Open a case for a cooperative": offer only the people of the chosen
   cooperative and the specialties of the chosen area. Progressive enhancement: without this
   script every option is listed, and the server checks that they belong together. */
(function () {
  "use strict";
  // The select whose options carry `data-<tag>`, and the select that chooses that tag.
  function follow(child, parent, tag) {
    if (!child || !parent) { return; }
    // Keep every option aside: hidden <option>s are not reliably hidden on every browser.
    var all = Array.prototype.slice.call(child.options).map(function (o) { return o.cloneNode(true); });
    function sync() {
      var chosen = parent.value;
      var selected = child.value;
      while (child.options.length) { child.remove(0); }
      all.forEach(function (option) {
        if (!option.value || option.getAttribute("data-" + tag) === chosen) {
          var copy = option.cloneNode(true);
          copy.selected = option.value === selected;
          child.add(copy);
        }
      });
    }
    parent.addEventListener("change", sync);
    sync();
  }
  function init() {
    follow(document.getElementById("id_requester"), document.getElementById("id_cooperative"), "cooperative");
    follow(document.getElementById("id_specialty"), document.getElementById("id_area"), "area");
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
