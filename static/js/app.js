// Progressive enhancement only: every page works without this file.
import { initAll } from "/static/vendor/govuk-frontend/govuk-frontend.min.js";

initAll();

// Move focus to the GOV.UK error summary after htmx swaps in a form with errors.
document.body.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  const summary = target?.querySelector?.(".govuk-error-summary");
  if (summary) {
    // A swapped-in summary is not initialised by GOV.UK Frontend, which makes it focusable.
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
});

// A day count the server refused marks its input as in error, as the full page does.
document.body.addEventListener("htmx:afterSettle", (event) => {
  const input = event.detail.requestConfig?.elt;
  if (!(input instanceof HTMLInputElement) || !input.id.startsWith("days-")) return;
  const result = document.getElementById(`${input.id}-result`);
  const refused = result?.dataset.error === "true";
  input.classList.toggle("govuk-input--error", refused);
  input.closest(".govuk-form-group")?.classList.toggle("govuk-form-group--error", refused);
  if (refused) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
});

// Regions being updated say so to assistive technology while the request is in flight.
document.body.addEventListener("htmx:beforeRequest", (event) => {
  const indicator = event.detail.elt.getAttribute("hx-indicator");
  const region = indicator ? document.querySelector(indicator) : null;
  if (region) region.setAttribute("aria-busy", "true");
});
document.body.addEventListener("htmx:afterRequest", (event) => {
  const indicator = event.detail.elt.getAttribute("hx-indicator");
  const region = indicator ? document.querySelector(indicator) : null;
  if (region) region.removeAttribute("aria-busy");
});

// htmx does not swap error responses. Show the error page's heading at the top of the page
// (as a GOV.UK error summary) so a failed update is never silent.
document.body.addEventListener("htmx:responseError", (event) => {
  const page = new DOMParser().parseFromString(event.detail.xhr.responseText, "text/html");
  const heading = page.querySelector("h1")?.textContent?.trim() || "Sorry, there is a problem";
  const detail = page.querySelector("main p")?.textContent?.trim() || "Reload the page and try again.";
  let summary = document.getElementById("app-request-error");
  if (!summary) {
    summary = document.createElement("div");
    summary.id = "app-request-error";
    summary.className = "govuk-error-summary";
    summary.setAttribute("role", "alert");
    summary.setAttribute("tabindex", "-1");
    document.querySelector("main")?.prepend(summary);
  }
  summary.replaceChildren();
  const title = document.createElement("h2");
  title.className = "govuk-error-summary__title";
  title.textContent = heading;
  const body = document.createElement("div");
  body.className = "govuk-error-summary__body";
  const text = document.createElement("p");
  text.className = "govuk-body";
  text.textContent = detail;
  body.append(text);
  summary.append(title, body);
  summary.focus();
});
