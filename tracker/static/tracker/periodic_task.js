/* The periodic task page (django-celery-beat): the chosen crontab is spelled out in words under the field, as beat's
   own inline script did (the Content-Security-Policy allows none). The words come from the page's
   #readable-crontabs (crontab id → words); the label from this script's data-meaning. */
(function () {
  "use strict";
  var script = document.currentScript;
  var readable = JSON.parse(document.getElementById("readable-crontabs").textContent);
  var field = document.querySelector(".field-crontab");
  var help = field && field.querySelector(".help");
  var translation = document.querySelector(".field-crontab_translation");
  if (translation) translation.style.display = "none"; // beat's read-only copy of the same words
  if (!field || !help) return;
  var original = help.textContent.trim();
  field.addEventListener("change", function () {
    var chosen = document.getElementById("id_crontab");
    help.textContent = original;
    if (!chosen || !readable[chosen.value]) return;
    help.appendChild(document.createElement("br"));
    help.appendChild(document.createTextNode(script.getAttribute("data-meaning") + readable[chosen.value]));
  });
})();
