// The session form's button names what will be saved ("Log 30 min mentoring with Cristian S.")
// and is redrawn whenever the people, the kind or the minutes change. No inline handlers: the
// CSP allows none. The server draws the same words first (SessionLogForm.submit_label).
(() => {
  const form = document.getElementById("session-form");
  if (!form) return;
  const button = document.getElementById("session-submit");

  const peoplePhrase = (names) => {
    if (names.length <= 2) return names.join(" and ");
    return `${names[0]} and ${names.length - 1} others`;
  };

  const label = () => {
    const seen = new Set();
    const names = [];
    form.querySelectorAll("input[name='participants']:checked").forEach((box) => {
      if (seen.has(box.value)) return;
      seen.add(box.value);
      names.push(box.dataset.shortName || "");
    });
    const kind = form.querySelector("input[name='kind']:checked");
    const minutes = form.querySelector("input[name='duration_minutes']").value.trim();
    const words = ["Log"];
    if (/^\d+$/.test(minutes)) words.push(`${minutes} min`);
    words.push(kind ? kind.dataset.label : "session");
    if (names.length) words.push(`with ${peoplePhrase(names)}`);
    button.textContent = words.join(" ");
  };

  form.addEventListener("change", label);
  form.addEventListener("input", label);
  // The quick-duration chips set the field without an input event (worker.js).
  form.addEventListener("click", (event) => {
    if (event.target.closest("[data-duration]")) window.setTimeout(label, 0);
  });
  // A restored page (back button) may hold other values than the server drew.
  window.addEventListener("pageshow", label);
  label();
})();
