// The session form's button names what will be saved ("Log 30 min mentoring with Cristian S.")
// and is redrawn whenever the people, the kind or the minutes change. No inline handlers: the
// CSP allows none. The server draws the same words first (SessionLogForm.submit_label).
(() => {
  const form = document.getElementById("session-form");
  if (!form) return;
  const button = document.getElementById("session-submit");
  // The words in the page's language (SessionLogForm.label_words), {placeholders} filled here.
  const wordsSource = document.getElementById("session-label-words");
  const text = wordsSource ? JSON.parse(wordsSource.textContent) : null;
  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));

  const peoplePhrase = (names) => {
    if (names.length < 2) return names.join("");
    if (names.length === 2) return fill(text.two, { first: names[0], second: names[1] });
    return fill(text.many, { first: names[0], count: names.length - 1 });
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
    // The minutes chip that matches the field is the pressed one, however the field was set
    // (a chip, typed, a restored draft, a reset after queueing offline).
    form.querySelectorAll("[data-duration]").forEach((chip) => {
      const pressed = chip.dataset.duration === minutes;
      chip.classList.toggle("active", pressed);
      chip.setAttribute("aria-pressed", pressed ? "true" : "false");
    });
    if (!text) return;
    const words = [text.log];
    if (/^\d+$/.test(minutes)) words.push(fill(text.minutes, { minutes }));
    words.push(kind ? kind.dataset.label : text.session);
    if (names.length) words.push(fill(text.with, { people: peoplePhrase(names) }));
    button.textContent = words.join(" ");
  };

  // Back, then submit again, must not log twice (issue 14, finding 2). The key this page was
  // first drawn with is kept in its own history entry, so a page drawn again from history
  // (the back button, a restored tab) sends the same key and the server answers with the
  // session it already saved. A history entry of its own: the key of another form opened
  // later in the same tab is never taken.
  const keyField = form.querySelector("input[name='client_key']");
  const fromHistory = (event) => {
    if (event.persisted) return true;
    const entry = performance.getEntriesByType("navigation")[0];
    return Boolean(entry && entry.type === "back_forward");
  };
  window.addEventListener("pageshow", (event) => {
    if (!keyField) return;
    const state = window.history.state || {};
    if (fromHistory(event) && state.sessionClientKey) {
      keyField.value = state.sessionClientKey;
    } else {
      window.history.replaceState({ ...state, sessionClientKey: keyField.value }, "");
    }
  });

  form.addEventListener("change", label);
  form.addEventListener("input", label);
  // Emptied after a session is queued offline (static/js/offline.js): redrawn once reset.
  form.addEventListener("reset", () => window.setTimeout(label, 0));
  // A restored page (back button) may hold other values than the server drew.
  window.addEventListener("pageshow", label);
  label();
})();
