// Minsheng console: small progressive enhancements on top of htmx. Every page works without it.
(function () {
  "use strict";
  // After an in-page update, move focus to the first error (or keep it where it was) so keyboard
  // and screen-reader users learn what happened.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target) { return; }
    var problem = target.querySelector(".error-summary, .domain-error");
    if (problem) {
      if (!problem.hasAttribute("tabindex")) { problem.setAttribute("tabindex", "-1"); }
      problem.focus();
    }
  });
  // A full-page error summary takes focus on load.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("main .error-summary");
    if (summary) { summary.focus(); }
  });
})();
