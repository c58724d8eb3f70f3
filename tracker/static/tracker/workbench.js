/* The workbench's small behaviours, without a build step:
   - on a phone each list row (and each row of a case's tasks and verdicts) is a card, and each cell shows its column's name (data-label from the header);
   - a destructive step pressed without a form (no reason to type) asks to confirm first;
   - a select marked data-submit-on-change sends its form as soon as a choice is made (the language switch);
   - a due date typed on a rest day says, under its field, the working day it will move to (民法典 第二百零三条),
     from the rest days and the sentences the input carries (data-rest-days, data-rest-day-text; see
     tracker/admin/due_dates.py).
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
  var parsedData = {}; // the rows of a page carry the same map: read it once
  function dataOf(input, name) {
    var text = input.getAttribute(name) || "{}";
    if (!Object.prototype.hasOwnProperty.call(parsedData, text)) parsedData[text] = JSON.parse(text);
    return parsedData[text];
  }
  function fill(element, template, values) {
    // The translated sentence, each %(name)s a span of its own (admin.css keeps a date on one line).
    var pattern = /%\((\w+)\)s/g;
    var from = 0;
    var match;
    while ((match = pattern.exec(template))) {
      element.appendChild(document.createTextNode(template.slice(from, match.index)));
      var value = document.createElement("span");
      value.className = "hint-" + match[1];
      value.textContent = Object.prototype.hasOwnProperty.call(values, match[1]) ? values[match[1]] : match[0];
      element.appendChild(value);
      from = pattern.lastIndex;
    }
    element.appendChild(document.createTextNode(template.slice(from)));
  }
  function dateInWords(iso, withYear) {
    // In the page's language: 2026年10月3日, 10月8日 / October 3, 2026, October 8.
    var parts = iso.split("-").map(Number);
    var options = { month: "long", day: "numeric", timeZone: "UTC" };
    if (withYear) options.year = "numeric";
    var day = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2]));
    try {
      return new Intl.DateTimeFormat(document.documentElement.lang || undefined, options).format(day);
    } catch (error) {
      return iso; // a language tag the browser does not know
    }
  }
  function restDayHint(input) {
    if (input.restDayHint) return input.restDayHint;
    var hint = document.createElement("div");
    hint.className = "due-date-hint";
    hint.setAttribute("role", "status");
    hint.hidden = true;
    if (input.id) {
      hint.id = input.id + "-rest-day";
      var described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", (described ? described + " " : "") + hint.id);
    }
    var row = input.closest(".task-row");
    if (row) {
      row.appendChild(hint); // 分解交办: a line of the row's grid, under the date (admin.css)
    } else {
      var after = input.closest(".flex-container") || input; // the one-field-a-line forms: under label and input
      after.parentNode.insertBefore(hint, after.nextSibling);
    }
    input.restDayHint = hint;
    return hint;
  }
  function showRestDayMove(input) {
    var move = /^\d{4}-\d{2}-\d{2}$/.test(input.value) ? dataOf(input, "data-rest-days")[input.value] : null;
    var hint = restDayHint(input);
    if (!move) {
      hint.hidden = true;
      hint.textContent = "";
      return;
    }
    var text = dataOf(input, "data-rest-day-text");
    var next = move[0];
    hint.textContent = "";
    fill(hint, move[1] ? text.moved : text.moved_plain, {
      day: dateInWords(input.value, true),
      reason: move[1],
      next: dateInWords(next, next.slice(0, 4) !== input.value.slice(0, 4)),
    });
    if (move[2]) fill(hint, text.provisional, { year: next.slice(0, 4) });
    hint.hidden = false;
  }
  ["input", "change"].forEach(function (type) {
    // On the document: rows added later on the page (分解交办's "添加一行") are covered too.
    document.addEventListener(type, function (event) {
      var input = event.target;
      if (input.matches && input.matches("input[data-rest-days]")) showRestDayMove(input);
    });
  });
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-submit-on-change]") && select.form) select.form.submit();
  });
  document.addEventListener("DOMContentLoaded", function () {
    labelCells();
    foldFiltersOnPhones();
    confirmDestructive();
    document.querySelectorAll("input[data-rest-days]").forEach(showRestDayMove); // a form shown again after an error
  });
})();
