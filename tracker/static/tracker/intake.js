/* 登记诉求: when the enterprise is chosen (Django admin's autocomplete, select2 on jQuery), offer its projects.
   The project row stays hidden for an enterprise without projects. Without JavaScript the page still works: the
   projects of the enterprise chosen are offered after the first submit. */
(function () {
  "use strict";
  function setUp() {
    var form = document.getElementById("intake-form");
    if (!form || !window.django || !window.django.jQuery) return;
    var enterprise = form.querySelector("select[name=enterprise]");
    var project = form.querySelector("select[name=project]");
    var row = form.querySelector(".form-row.field-project");
    if (!enterprise || !project || !row) return;
    var empty = project.querySelector("option[value='']");
    function load() {
      var chosen = enterprise.value;
      var keep = project.value;
      Array.prototype.slice.call(project.options).forEach(function (option) {
        if (option.value) option.remove();
      });
      if (!chosen) { row.hidden = true; return; }
      fetch(form.dataset.projectsUrl + "?enterprise=" + encodeURIComponent(chosen), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) {
          if (enterprise.value !== chosen) return; // chosen again meanwhile
          data.results.forEach(function (item) {
            var option = new Option(item.text, item.id, false, item.id === keep);
            project.add(option);
          });
          row.hidden = data.results.length === 0;
          if (empty && !project.value) empty.selected = true;
        })
        .catch(function () { row.hidden = project.options.length <= 1; });
    }
    window.django.jQuery(enterprise).on("change", load);
  }
  document.addEventListener("DOMContentLoaded", setUp);
})();
