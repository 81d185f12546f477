// Offline logging for outreach workers (issue 14). Loaded on every page; it does nothing for
// other users except make sure nothing of a previous worker's stays on the device.
//
// - Registers the service worker (templates/field/sw.js), which keeps the worker's home,
//   caseload and session form for use without a connection.
// - A session form submitted without a connection is queued on the device (IndexedDB), shown as
//   "N waiting to send", and sent when the connection returns, each with its own client key so
//   the server saves it once however often it is sent. One the server refuses stays on the
//   device with the reason and everything typed, until the worker opens it again or discards it.
// - Logout deletes the queue, the kept pages and the service worker. The queue belongs to one
//   user: a different person signing in on the device deletes it unsent.
"use strict";

(() => {
  const DB_NAME = "gvr-offline";
  const STORE = "queue";
  const CACHE_PREFIX = "gvr-offline-";
  const body = document.body;
  const user = body.dataset.offlineUser || "";
  const signedIn = "user" in body.dataset;
  const status = document.getElementById("offline-status");

  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(STORE, { keyPath: "client_key" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function withStore(mode, work) {
    const db = await openDb();
    try {
      return await new Promise((resolve, reject) => {
        const transaction = db.transaction(STORE, mode);
        const result = work(transaction.objectStore(STORE));
        transaction.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
        transaction.onerror = () => reject(transaction.error);
      });
    } finally {
      db.close();
    }
  }

  const allQueued = async () => ((await queueExists()) ? withStore("readonly", (store) => store.getAll()) : []);
  const putQueued = (item) => withStore("readwrite", (store) => store.put(item));
  const deleteQueued = (key) => withStore("readwrite", (store) => store.delete(key));

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // Without asking for it, which would create the database on a device that never had one.
  async function queueExists() {
    if (!indexedDB.databases) return true;
    return (await indexedDB.databases()).some((database) => database.name === DB_NAME);
  }

  // The kept pages and the service worker that serves them.
  async function dropKeptPages() {
    if (window.caches) {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX)).map((n) => caches.delete(n)));
    }
    if (navigator.serviceWorker) {
      const registrations = await navigator.serviceWorker.getRegistrations();
      await Promise.all(registrations.map((registration) => registration.unregister()));
    }
  }

  // Everything this script and the service worker keep on the device (the drafts of
  // static/js/forms.js go on the "gvr:device-cleared" event).
  async function clearDevice() {
    window.dispatchEvent(new CustomEvent("gvr:device-cleared"));
    await new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    });
    await dropKeptPages();
  }

  // Logout: clear first, then let the form go.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const logout = form.matches("[data-logout]")
      || (body.dataset.logoutUrl && form.getAttribute("action") === body.dataset.logoutUrl);
    if (!logout || form.dataset.cleared) return;
    event.preventDefault();
    const done = () => {
      form.dataset.cleared = "1";
      form.submit();
    };
    clearDevice().then(done, done);
  });

  // Status line -------------------------------------------------------------------------------

  const t = (key, values) => window.gvrText(key, values);

  function plural(count, one, many) {
    return t(count === 1 ? one : many, { count });
  }

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => node.setAttribute(name, value));
    children.forEach((child) => node.append(child));
    return node;
  }

  async function showStatus(note) {
    if (!status || !user) return;
    const items = (await allQueued()).filter((item) => item.user === user);
    const waiting = items.filter((item) => item.state === "waiting");
    const refused = items.filter((item) => item.state === "refused");
    status.replaceChildren();
    if (note) status.append(el("div", { class: "alert alert-success", role: "status" }, note));
    if (waiting.length) {
      const text = plural(waiting.length, "waitingOne", "waitingMany");
      const box = el("div", { class: "alert alert-warning", "data-queue-count": String(waiting.length) });
      if (signedOutOnServer) {
        const login = el("a", { href: `${body.dataset.loginUrl}?next=${encodeURIComponent(window.location.pathname)}`, class: "alert-link" }, t("logInAgain"));
        box.append(el("strong", {}, text), `${t("sessionEndedBefore")} `, login, ` ${t("sessionEndedAfter")}`);
      } else {
        box.append(el("strong", {}, text), navigator.onLine
          ? t("sendingNow")
          : t("keptOnPhone"));
      }
      const list = el("ul", { class: "mb-0 mt-1 small" });
      waiting.forEach((item) => list.append(el("li", {}, item.summary)));
      box.append(list);
      status.append(box);
    }
    refused.forEach((item) => status.append(refusedBox(item)));
  }

  function refusedBox(item) {
    const box = el("div", { class: "alert alert-danger", role: "alert", "data-refused": item.client_key });
    box.append(
      el("strong", {}, `${t("notSaved")} `), item.summary, el("br"),
      t("refusedReason", { reason: item.reason }),
    );
    if (item.notes) {
      const id = `refused-notes-${item.client_key}`;
      box.append(
        el("label", { class: "form-label d-block mt-2 mb-0 small", for: id }, t("whatYouTyped")),
      );
      const notes = el("textarea", { class: "form-control", id, rows: "3", readonly: "" });
      notes.value = item.notes;
      box.append(notes);
    }
    const actions = el("div", { class: "mt-2 d-flex flex-wrap gap-2" });
    const open = el("button", { type: "button", class: "btn btn-primary btn-tap" }, t("openInForm"));
    open.addEventListener("click", async () => {
      // The draft keeper of the session form (static/js/forms.js) puts it back in the form.
      localStorage.setItem(`gvr:draft:${user}:${body.dataset.sessionFormUrl}`, JSON.stringify({
        saved: Date.now(), fields: item.fields.filter(([name]) => name !== "client_key"),
      }));
      await deleteQueued(item.client_key);
      window.location.assign(body.dataset.sessionFormUrl);
    });
    const discard = el("button", { type: "button", class: "btn btn-outline-danger btn-tap", "data-confirm": t("discardConfirm") }, t("discard"));
    discard.addEventListener("click", async () => {
      if (!window.confirm(discard.dataset.confirm)) return;
      await deleteQueued(item.client_key);
      showStatus();
    });
    actions.append(open, discard);
    box.append(actions);
    return box;
  }

  // Queueing the session form -----------------------------------------------------------------

  function summaryOf(form) {
    // A list (<select>) or a row of chips (radio buttons named by their labels).
    const selectedText = (name) => {
      const field = form.elements[name];
      if (!field) return "";
      if (field.selectedOptions) return field.selectedOptions[0] ? field.selectedOptions[0].text : "";
      const chosen = Array.from(form.querySelectorAll(`input[name='${name}']:checked`))[0];
      const label = chosen && form.querySelector(`label[for='${chosen.id}']`);
      return label ? label.textContent.trim() : "";
    };
    const people = Array.from(form.querySelectorAll("input[name='participants']:checked"))
      .map((box) => {
        const label = form.querySelector(`label[for='${box.id}']`);
        const name = label && (label.querySelector(".fw-semibold") || label);
        return name ? name.textContent.trim() : "";
      })
      .filter(Boolean);
    const minutes = form.elements.duration_minutes ? form.elements.duration_minutes.value : "";
    return t("summary", { kind: selectedText("kind"), minutes, people: people.join(", ") });
  }

  async function queueSessionForm(form) {
    if (!form.querySelector("input[name='participants']:checked")) {
      showStatus();
      status.prepend(el("div", { class: "alert alert-danger", role: "alert" }, t("chooseParticipant")));
      status.focus();
      return;
    }
    const fields = Array.from(new FormData(form).entries())
      .filter(([name]) => !["csrfmiddlewaretoken", "q", "client_key"].includes(name))
      .map(([name, value]) => [name, String(value)]);
    // Every queued session gets a key of its own: the form's may be from a kept copy of the
    // page that was already sent once.
    const key = newKey();
    fields.push(["client_key", key]);
    const summary = summaryOf(form);
    await putQueued({
      client_key: key, user, fields, summary, state: "waiting", reason: "",
      notes: form.elements.notes ? form.elements.notes.value : "", queued: Date.now(),
    });
    form.reset();
    form.querySelectorAll("input[name='participants']").forEach((box) => { box.checked = false; });
    if (form.elements.client_key) form.elements.client_key.value = newKey();
    window.dispatchEvent(new CustomEvent("gvr:form-saved", { detail: { form } }));
    await showStatus(t("savedOnPhone", { summary }));
    status.setAttribute("tabindex", "-1");
    status.focus();
    window.scrollTo(0, 0);
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!user || form.id !== "session-form" || navigator.onLine || event.defaultPrevented) return;
    event.preventDefault();
    if (form.dataset.queueing) return; // a double tap queues one session
    form.dataset.queueing = "1";
    queueSessionForm(form).finally(() => { delete form.dataset.queueing; });
  });

  // Sending -----------------------------------------------------------------------------------

  function csrfToken() {
    try {
      return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  function refusalReasons(html) {
    const page = new DOMParser().parseFromString(html, "text/html");
    const found = Array.from(page.querySelectorAll("#error-summary li, .invalid-feedback, #session-form .alert-danger, #likely-duplicate p"))
      .map((node) => node.textContent.trim()).filter(Boolean);
    return Array.from(new Set(found)).join(" ") || "it did not accept the form.";
  }

  let sending = false;
  let signedOutOnServer = false;
  async function sendQueued() {
    if (!user || sending || !navigator.onLine) return;
    sending = true;
    let sent = 0;
    try {
      const items = (await allQueued()).filter((item) => item.user === user && item.state === "waiting");
      if (!items.length) return;
      showStatus();
      for (const item of items) {
        const data = new FormData();
        item.fields.forEach(([name, value]) => data.append(name, value));
        let response;
        try {
          response = await fetch(body.dataset.sendUrl, {
            method: "POST", body: data, credentials: "same-origin",
            headers: { "X-CSRFToken": csrfToken() },
          });
        } catch (error) {
          break; // the connection went again: keep the rest for later
        }
        if (response.ok) {
          await deleteQueued(item.client_key);
          sent += 1;
        } else if (response.status === 422) {
          await putQueued({ ...item, state: "refused", reason: refusalReasons(await response.text()) });
        } else {
          // Signed out, an expired form or a server fault: kept, and tried again later.
          signedOutOnServer = response.status === 401;
          break;
        }
      }
    } finally {
      sending = false;
      await showStatus(sent ? plural(sent, "sentOne", "sentMany") : "");
    }
  }

  // Start -------------------------------------------------------------------------------------

  async function start() {
    if (!signedIn) {
      // Whoever is here is signed out: no kept page may outlive that. The queue and the
      // drafts stay for the same worker's next sign-in.
      await dropKeptPages();
      return;
    }
    const items = await allQueued();
    if (items.some((item) => item.user !== user)) {
      // Someone else's work on this device, never sent as this user.
      await clearDevice();
    }
    if (!user) {
      // Not an outreach worker: nothing kept for offline use.
      await dropKeptPages();
      return;
    }
    if (body.dataset.offlineCopy !== undefined) {
      // A kept copy: its messages are old news and its form key may have been used.
      const messages = document.getElementById("messages");
      if (messages) messages.replaceChildren();
      const form = document.getElementById("session-form");
      if (form && form.elements.client_key) form.elements.client_key.value = newKey();
      status.before(el("div", { class: "alert alert-secondary", role: "status" }, t("noConnection")));
    }
    if (navigator.serviceWorker && body.dataset.offlineCopy === undefined) {
      navigator.serviceWorker.register(body.dataset.serviceWorkerUrl, { scope: "/" })
        .then(() => navigator.serviceWorker.ready)
        .then((registration) => registration.active.postMessage({ type: "keep-pages" }))
        .catch(() => {});
    }
    await showStatus();
    sendQueued();
  }

  window.addEventListener("online", () => sendQueued());
  window.addEventListener("offline", () => showStatus());
  start();
})();
