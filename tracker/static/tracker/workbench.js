/* The workbench's small behaviours, without a build step:
   - on a phone each list row (and each row of a case's tasks and verdicts) is a card, and each cell shows its column's name (data-label from the header);
   - a destructive step pressed without a form (no reason to type) asks to confirm first;
   - a select marked data-submit-on-change sends its form as soon as a choice is made (the language switch).
   Behaviour lives here, never in the templates: the Content-Security-Policy allows no inline script or handler. */
(function () {
  "use strict";
  function labelCells() {
    document.querySelectorAll("#result_list, .inline-group .tabular table").forEach(function (table) {
      var names = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, index) {
          if (names[index] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", names[index]);
        });
      });
    });
  }
  function confirmDestructive() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }
  function foldFiltersOnPhones() {
    // Django opens every filter; on a phone they would push the list's end screens away.
    if (!window.matchMedia("(max-width: 767px)").matches) return;
    document.querySelectorAll("#changelist-filter details[open]").forEach(function (details) {
      var selected = details.querySelector("li.selected");
      if (!selected || selected === details.querySelector("li")) details.removeAttribute("open"); // "全部" chosen
    });
  }
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-submit-on-change]") && select.form) select.form.submit();
  });
  document.addEventListener("DOMContentLoaded", function () {
    labelCells();
    foldFiltersOnPhones();
    confirmDestructive();
  });
})();
