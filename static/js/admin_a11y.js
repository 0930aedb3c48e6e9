/* Accessible names the admin's widgets lack (axe-core: label, aria-input-field-name).
 *
 *  - the split date/time inputs (<p class="datetime">): the row's label has no "for" (a
 *    MultiWidget has no single input), so each input gets "开始时间 日期" / "开始时间 时间";
 *  - the autocomplete boxes (select2): their combobox is labelled by the selected value only,
 *    empty when nothing is chosen; the field's label is put in front of it.
 * Runs when the page is parsed, on load, for inline rows added later, and whenever select2
 * adds a box.
 */
(function () {
  "use strict";

  function text(node) {
    return (node ? node.textContent : "").replace(/[:：]\s*$/, "").trim();
  }

  function labelSplitDateTimes(root) {
    root.querySelectorAll("p.datetime").forEach(function (p) {
      var row = p.closest(".form-row, .fieldBox, div, td");
      var label = text(row ? row.querySelector("label") : null);
      p.querySelectorAll("input").forEach(function (input) {
        if (input.getAttribute("aria-label")) return;
        var part = input.previousSibling;
        while (part && part.nodeType !== Node.TEXT_NODE) part = part.previousSibling;
        var partText = text(part);
        input.setAttribute("aria-label", (label + " " + partText).trim() || partText);
      });
    });
  }

  function labelAutocompletes(root) {
    root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = text(document.querySelector('label[for="' + select.id + '"]'));
      var box = select.nextElementSibling;
      if (!label || !box) return;
      // select2 labels its combobox (and the "textbox" showing the choice) by the choice
      // alone, which is empty until something is chosen; select2 never sets aria-label.
      box.querySelectorAll(".select2-selection, .select2-selection__rendered").forEach(function (el) {
        el.setAttribute("aria-label", label);
      });
    });
  }

  function run() {
    labelSplitDateTimes(document);
    labelAutocompletes(document);
  }

  run();
  window.addEventListener("load", run);
  document.addEventListener("formset:added", function () {
    window.setTimeout(run, 0);
  });
  // select2 builds its boxes when jQuery is ready, which may come after "load"; label each
  // box as it appears.
  new MutationObserver(function (mutations) {
    var added = mutations.some(function (m) {
      return Array.prototype.some.call(m.addedNodes, function (node) {
        return node.nodeType === Node.ELEMENT_NODE && node.classList.contains("select2");
      });
    });
    if (added) labelAutocompletes(document);
  }).observe(document.body || document.documentElement, { childList: true, subtree: true });
})();
