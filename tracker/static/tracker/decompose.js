/* Giving tasks out (分解交办, 重新交办), without a build step or a library:
   - the 承办人 list offers only the people of the row's chosen unit, from the page's #unit-people data, with a
     search box when the list is long; choosing a task force clears the department and the other way round;
   - "添加一行" adds a task row from the page's template, its due date already filled in.
   Without this script the form still works: the list is grouped by unit and the server refuses anyone outside it. */
(function () {
  "use strict";
  var SEARCH_FROM = 8; // a longer list gets a search box
  var data = null;

  function peopleOf(scope) {
    var chosen = false;
    var ids = [];
    ["task_force", "department"].forEach(function (kind) {
      var select = scope.querySelector("[data-unit=" + kind + "]");
      if (select && select.value) {
        chosen = true;
        ids = ids.concat(data[kind][select.value] || []);
      }
    });
    var seen = {};
    ids = ids.filter(function (id) {
      if (seen[id]) return false;
      seen[id] = true;
      return true;
    });
    return { chosen: chosen, ids: ids };
  }

  function matches(label, words) {
    label = label.toLowerCase();
    return words.every(function (word) {
      return label.indexOf(word) !== -1;
    });
  }

  function refresh(scope, assignee, search) {
    var people = peopleOf(scope);
    var current = assignee.value;
    var words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var placeholder = !people.chosen ? data.text.choose_unit : people.ids.length ? "—" : data.text.nobody;
    search.hidden = people.ids.length <= SEARCH_FROM;
    if (search.hidden) words = [];
    assignee.textContent = "";
    assignee.appendChild(new Option(placeholder, ""));
    var shown = 0;
    people.ids.forEach(function (id) {
      var label = data.people[id];
      var value = String(id);
      if (value === current || matches(label, words)) {
        assignee.appendChild(new Option(label, value, false, value === current));
        shown += 1;
      }
    });
    if (words.length && !shown) assignee.options[0].text = data.text.no_match;
    assignee.value = people.ids.map(String).indexOf(current) === -1 ? "" : current;
  }

  function bind(assignee) {
    if (assignee.hasAttribute("data-bound")) return;
    assignee.setAttribute("data-bound", "");
    var scope = assignee.closest("[data-unit-scope]") || assignee.form;
    var search = document.createElement("input");
    search.type = "search";
    search.className = "assignee-search";
    search.placeholder = data.text.search;
    search.setAttribute("aria-label", data.text.search);
    search.hidden = true;
    assignee.parentNode.insertBefore(search, assignee);
    var units = scope.querySelectorAll("[data-unit]");
    Array.prototype.forEach.call(units, function (unit) {
      unit.addEventListener("change", function () {
        if (unit.value) {
          Array.prototype.forEach.call(units, function (other) {
            if (other !== unit) other.value = "";
          });
        }
        search.value = "";
        refresh(scope, assignee, search);
      });
    });
    search.addEventListener("input", function () {
      refresh(scope, assignee, search);
    });
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault(); // Enter picks from the list, it does not submit the form
    });
    refresh(scope, assignee, search);
  }

  function addRow() {
    var rows = document.querySelector("[data-task-rows]");
    var template = document.getElementById("task-row-template");
    var total = document.getElementById("id_tasks-TOTAL_FORMS");
    if (!rows || !template || !total) return;
    var index = parseInt(total.value, 10) || 0;
    var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var row = rows.lastElementChild;
    var assignee = row.querySelector("[data-assignee]");
    if (assignee) bind(assignee);
    var title = row.querySelector("input[type=text]");
    if (title) title.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("unit-people");
    if (!source) return;
    data = JSON.parse(source.textContent);
    Array.prototype.forEach.call(document.querySelectorAll("[data-assignee]"), bind);
    Array.prototype.forEach.call(document.querySelectorAll("[data-add-task-row]"), function (button) {
      button.hidden = false;
      button.addEventListener("click", addRow);
    });
  });
})();
