// Forms that do not lose work (issue 14, findings 3 and 5). Loaded on every page.
//
// - The error summary (templates/includes/error_summary.html) takes the focus when a form comes
//   back with errors, and each of its links moves the focus to its field.
// - Drafts: what is typed in the session and referral forms is kept on the device
//   (localStorage, per user and form) until the form is saved, and put back when the form is
//   opened again. Deleted once saved, and at logout (static/js/offline.js).
// - The idle warning: two minutes before the session's idle limit, a "Stay signed in" button.
"use strict";

(() => {
  const body = document.body;
  const user = body.dataset.user || "";
  const DRAFT_PREFIX = "gvr:draft:";
  const SUBMITTED = "gvr:submitted-draft";
  // Never kept in a draft: tokens that belong to one page, the participant search box, and the
  // session form's list of the people drawn as chips (the page's own, for the search).
  const NOT_KEPT = new Set(["csrfmiddlewaretoken", "form_token", "q", "chosen"]);

  // Error summary ------------------------------------------------------------------------------

  const summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", (event) => {
      const link = event.target.closest(".error-summary-link");
      if (!link) return;
      const id = decodeURIComponent(link.hash.slice(1));
      let field = id ? document.getElementById(id) : null;
      if (!field && link.dataset.fieldName) {
        field = document.querySelector(`main [name="${CSS.escape(link.dataset.fieldName)}"]`);
      }
      if (!field) return;
      event.preventDefault();
      field.scrollIntoView({ block: "center" });
      field.focus();
    });
  }

  // Drafts -------------------------------------------------------------------------------------

  let deviceCleared = false;

  function draftForms() {
    return Array.from(document.querySelectorAll("#session-form, form[action*='/referrals/new/']"));
  }

  function draftKey(form) {
    return `${DRAFT_PREFIX}${user}:${new URL(form.action, window.location.href).pathname}`;
  }

  function fieldsOf(form) {
    return Array.from(new FormData(form).entries())
      .filter(([name, value]) => !NOT_KEPT.has(name) && typeof value === "string")
      .map(([name, value]) => [name, value]);
  }

  function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function restore(form, fields) {
    const values = new Map();
    fields.forEach(([name, value]) => values.set(name, [...(values.get(name) || []), value]));
    const used = new Map(); // fields of one name that are not ticked take their values in order
    Array.from(form.elements).forEach((element) => {
      if (!element.name || NOT_KEPT.has(element.name) || !values.has(element.name)) return;
      const wanted = values.get(element.name);
      if (element.type === "checkbox" || element.type === "radio") {
        element.checked = wanted.includes(element.value);
      } else if (element.type !== "file" && element.type !== "submit" && element.type !== "button") {
        const index = used.get(element.name) || 0;
        used.set(element.name, index + 1);
        if (index < wanted.length) element.value = wanted[index];
      }
    });
    // A person ticked in the session form's folded "+ Add people" list is shown, not hidden.
    form.querySelectorAll("details").forEach((folded) => {
      if (folded.querySelector("input[name='participants']:checked")) folded.open = true;
    });
  }

  function removeDraft(key) {
    localStorage.removeItem(key);
  }

  function showRestored(form, key, saved) {
    const when = new Date(saved).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    const note = document.createElement("div");
    note.className = "alert alert-info d-flex flex-wrap align-items-center gap-2";
    note.setAttribute("role", "status");
    note.dataset.draftRestored = "";
    note.append(window.gvrText("draftBack", { when }));
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "btn btn-outline-secondary btn-sm btn-tap";
    discard.textContent = window.gvrText("discardDraft");
    discard.addEventListener("click", () => {
      removeDraft(key);
      window.location.reload();
    });
    note.append(discard);
    form.prepend(note);
  }

  function keepDrafts(form) {
    const key = draftKey(form);
    const hasErrors = Boolean(summary) || form.querySelector(".is-invalid, .alert-danger");
    const raw = localStorage.getItem(key);
    if (raw && !hasErrors) {
      // A page that came back with errors already shows what was typed; otherwise the draft.
      try {
        const draft = JSON.parse(raw);
        const before = fieldsOf(form);
        restore(form, draft.fields || []);
        if (!same(before, fieldsOf(form))) {
          showRestored(form, key, draft.saved);
          const folded = form.closest("details");
          if (folded) folded.open = true;
        }
      } catch (error) {
        removeDraft(key);
      }
    }
    const initial = hasErrors ? null : fieldsOf(form);
    let timer = null;
    const save = () => {
      if (deviceCleared) return; // logging out: nothing more is written
      const fields = fieldsOf(form);
      if (initial && same(fields, initial) && !localStorage.getItem(key)) return;
      localStorage.setItem(key, JSON.stringify({ saved: Date.now(), fields }));
    };
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(save, 300);
    };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", (event) => {
      clearTimeout(timer);
      save();
      if (!event.defaultPrevented) sessionStorage.setItem(SUBMITTED, key);
    });
  }

  if (user) {
    // Drafts of anyone else who used this device are not this user's to see.
    Object.keys(localStorage)
      .filter((key) => key.startsWith(DRAFT_PREFIX) && !key.startsWith(`${DRAFT_PREFIX}${user}:`))
      .forEach(removeDraft);
    // The form sent from the previous page was saved when the page says so.
    const submitted = sessionStorage.getItem(SUBMITTED);
    if (submitted) {
      sessionStorage.removeItem(SUBMITTED);
      if (document.querySelector("#messages .alert-success")) removeDraft(submitted);
    }
    draftForms().forEach(keepDrafts);
    // Queued for sending by static/js/offline.js: no longer a draft.
    window.addEventListener("gvr:form-saved", (event) => removeDraft(draftKey(event.detail.form)));
  }
  window.addEventListener("gvr:device-cleared", () => {
    deviceCleared = true;
    Object.keys(localStorage).filter((key) => key.startsWith(DRAFT_PREFIX)).forEach(removeDraft);
    sessionStorage.removeItem(SUBMITTED);
  });

  // Idle warning -------------------------------------------------------------------------------

  const WARN_BEFORE_SECONDS = 120;
  const keepAliveUrl = body.dataset.keepAliveUrl;
  let warnTimer = null;
  let endTimer = null;
  let panel = null;

  function csrfToken() {
    try {
      return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  function closePanel() {
    if (panel) panel.remove();
    panel = null;
  }

  function openPanel(ended) {
    closePanel();
    panel = document.createElement("div");
    panel.className = "idle-warning alert alert-warning shadow mb-0";
    panel.setAttribute("role", "alertdialog");
    panel.setAttribute("aria-labelledby", "idle-warning-text");
    const text = document.createElement("p");
    text.id = "idle-warning-text";
    text.className = "mb-2";
    const action = document.createElement(ended ? "a" : "button");
    action.className = "btn btn-primary btn-tap";
    if (ended) {
      text.textContent = window.gvrText("sessionEnded");
      action.textContent = window.gvrText("logInAgain");
      const next = window.location.pathname + window.location.search;
      action.href = `${body.dataset.loginUrl}?next=${encodeURIComponent(next)}`;
    } else {
      text.textContent = window.gvrText("signOutSoon");
      action.type = "button";
      action.textContent = window.gvrText("staySignedIn");
      action.addEventListener("click", stayOn);
    }
    panel.append(text, action);
    body.append(panel);
    action.focus();
  }

  function schedule(secondsLeft) {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    warnTimer = setTimeout(() => openPanel(false), Math.max(0, secondsLeft - WARN_BEFORE_SECONDS) * 1000);
    endTimer = setTimeout(() => openPanel(true), secondsLeft * 1000);
  }

  async function stayOn() {
    let response;
    try {
      response = await fetch(keepAliveUrl, {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
      });
    } catch (error) {
      return; // no connection: the panel stays, the button can be tried again
    }
    if (response.ok) {
      const data = await response.json();
      closePanel();
      schedule(data.seconds_left);
    } else {
      openPanel(true);
    }
  }

  // A copy kept for offline use (static/js/offline.js) cannot know the session's clock.
  if (keepAliveUrl && body.dataset.idleSecondsLeft && body.dataset.offlineCopy === undefined) {
    const fullIdle = Number(body.dataset.idleSeconds);
    schedule(Number(body.dataset.idleSecondsLeft));
    // A part of the page updated from the server counts as activity.
    document.addEventListener("htmx:afterRequest", () => {
      if (!panel) schedule(fullIdle);
    });
  }
})();

// Long notes ------------------------------------------------------------------------------------
// A pasted note over the limit is refused with a message instead of being cut silently by the
// browser's maxlength: the counter shows the length and the form is not sent until it fits.
(() => {
  const format = (count) => count.toLocaleString("en-US");

  function counterFor(area) {
    const limit = Number(area.getAttribute("maxlength"));
    area.removeAttribute("maxlength");
    area.dataset.noteLimit = String(limit);
    const counter = document.createElement("div");
    counter.className = "form-text note-counter";
    counter.id = `${area.id || area.name}-counter`;
    counter.setAttribute("aria-live", "polite");
    area.setAttribute("aria-describedby", [area.getAttribute("aria-describedby"), counter.id].filter(Boolean).join(" "));
    area.after(counter);
    const update = () => {
      const length = area.value.length;
      const over = length - limit;
      area.classList.toggle("is-invalid", over > 0);
      counter.classList.toggle("text-danger", over > 0);
      counter.textContent = over > 0
        ? window.gvrText("tooLong", { over: format(over), limit: format(limit) })
        : window.gvrText("characterCount", { length: format(length), limit: format(limit) });
    };
    area.addEventListener("input", update);
    update();
  }

  document.querySelectorAll("textarea[maxlength]").forEach(counterFor);
  // Before any other submit handler (drafts, the offline queue): a note too long stops the form.
  document.addEventListener("submit", (event) => {
    const tooLong = Array.from(event.target.querySelectorAll("textarea[data-note-limit]"))
      .find((area) => area.value.length > Number(area.dataset.noteLimit));
    if (!tooLong) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    tooLong.focus();
  }, true);
})();

// Two-step login codes ---------------------------------------------------------------------------
// The authenticator's code is six digits: the phone shows its number pad. Backup codes have
// letters, so the sign-in page offers a switch to the full keyboard.
(() => {
  document.querySelectorAll("input[autocomplete='one-time-code']").forEach((field) => {
    field.setAttribute("inputmode", "numeric");
    const form = field.form;
    if (!form || !form.hasAttribute("data-backup-codes")) return;
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "btn btn-link btn-tap px-0";
    toggle.textContent = "Use a backup code (letters and numbers)";
    toggle.addEventListener("click", () => {
      field.setAttribute("inputmode", "text");
      toggle.remove();
      field.focus();
    });
    field.after(toggle);
  });
})();
