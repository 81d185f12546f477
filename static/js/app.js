// Page behaviour without inline scripts (the Content-Security-Policy allows none).
// Elements with data-confirm ask before their form is submitted.
document.addEventListener("submit", (event) => {
  const message = event.submitter?.dataset.confirm || event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
