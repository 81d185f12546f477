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
  // Never kept in a draft: tokens that belong to one page, and the participant search box.
  const NOT_KEPT = new Set(["csrfmiddlewaretoken", "form_token", "q"]);

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
    Array.from(form.elements).forEach((element) => {
      if (!element.name || NOT_KEPT.has(element.name) || !values.has(element.name)) return;
      const wanted = values.get(element.name);
      if (element.type === "checkbox" || element.type === "radio") {
        element.checked = wanted.includes(element.value);
      } else if (element.type !== "file" && element.type !== "submit" && element.type !== "button") {
        element.value = wanted[0];
      }
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
    note.append(`Your unsaved draft from ${when} is back in the form. It is sent only when you save it.`);
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "btn btn-outline-secondary btn-sm btn-tap";
    discard.textContent = "Discard draft";
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
      text.textContent = "Your session has ended because nothing was sent for a while. "
        + "What you typed in a session or referral form is kept on this device.";
      action.textContent = "Log in again";
      const next = window.location.pathname + window.location.search;
      action.href = `${body.dataset.loginUrl}?next=${encodeURIComponent(next)}`;
    } else {
      text.textContent = "You will be signed out in 2 minutes because nothing has been sent "
        + "for a while. What you typed in a form is kept on this device.";
      action.type = "button";
      action.textContent = "Stay signed in";
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

  if (keepAliveUrl && body.dataset.idleSecondsLeft) {
    const fullIdle = Number(body.dataset.idleSeconds);
    schedule(Number(body.dataset.idleSecondsLeft));
    // A part of the page updated from the server counts as activity.
    document.addEventListener("htmx:afterRequest", () => {
      if (!panel) schedule(fullIdle);
    });
  }
})();
