// Progressive enhancement only: every page works without this file.
import { initAll } from "/static/vendor/govuk-frontend/govuk-frontend.min.js";

initAll();

// Move focus to the GOV.UK error summary after htmx swaps in a form with errors.
document.body.addEventListener("htmx:afterSwap", (event) => {
  const summary = event.detail.target.querySelector?.(".govuk-error-summary");
  if (summary) summary.focus();
});
