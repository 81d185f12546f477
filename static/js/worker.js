// The outreach worker's pages (loaded only there). No inline handlers: the CSP allows none.

// Quick-duration buttons fill the minutes field.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-duration]");
  if (!button) return;
  const field = document.getElementById(button.dataset.durationTarget);
  if (!field) return;
  field.value = button.dataset.duration;
  // As if typed: the button's label (session_form.js) and the draft (forms.js) follow at once.
  field.dispatchEvent(new Event("input", { bubbles: true }));
  document.querySelectorAll("[data-duration]").forEach((other) => {
    other.classList.toggle("active", other === button);
    other.setAttribute("aria-pressed", other === button ? "true" : "false");
  });
});

// Enter in the participant search must not submit the whole session form.
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches("[data-no-submit]")) {
    event.preventDefault();
  }
});
