// The exam room: autosave every answer with a sequence number, keep unsent answers through
// network loss (in order, also across a reload), count down to the server's deadline
// (re-synchronised), navigator and flags, a summary before submit, one active device.
// Type-agnostic: answers are read and written by window.examsysWidgets.
"use strict";
(() => {
  const root = document.getElementById("exam");
  if (!root) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const attemptId = root.dataset.attempt;
  const saveBase = root.dataset.saveUrl;
  let deadline = Date.parse(root.dataset.deadline);
  const storeKey = "examsys.pending." + attemptId;
  const msg = (name) => root.dataset["msg" + name];
  const $ = (id) => document.getElementById(id);
  const stateEl = $("save-state");
  const countdownEl = $("countdown");
  const submitForm = $("submit-form");
  const sequential = root.dataset.sequential === "true";
  let current = Number(root.dataset.current) || 1;
  const fieldsets = [...document.querySelectorAll("fieldset.item")];
  const fieldsetAt = (position) => $(`item-${position}`);

  // The server's clock minus ours; every countdown figure uses the server's time.
  let offset = Date.parse(root.dataset.serverTime) - Date.now();
  let lastSeq = Number(root.dataset.lastSeq) || 0;
  let pending = [];
  try { pending = JSON.parse(localStorage.getItem(storeKey) || "[]"); } catch (e) { pending = []; }
  for (const p of pending) lastSeq = Math.max(lastSeq, p.seq);
  let sending = false;
  let retryDelay = 1000;
  let finished = false;
  let superseded = false;
  let closing = false;

  const remember = () => {
    try { localStorage.setItem(storeKey, JSON.stringify(pending)); } catch (e) { /* full */ }
  };
  const showState = (text, cls) => { stateEl.textContent = text; stateEl.className = cls || ""; };
  const itemState = (position, text) => {
    const el = document.querySelector(`#item-${position} .item-state`);
    if (el) el.textContent = text;
  };
  const api = (url, method, body, options = {}) => fetch(url, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
    ...options,
  });

  // ------------------------------------------------------------ navigator and flags
  const isAnswered = (f) => {
    const r = window.examsysWidgets.read(f);
    return r !== null && r !== undefined && !(Array.isArray(r) && r.length === 0);
  };
  function paint(f) {
    const link = document.querySelector(`[data-nav="${f.dataset.position}"]`);
    if (!link) return;
    const answered = isAnswered(f);
    const flagged = f.dataset.flagged === "true";
    link.classList.toggle("answered", answered);
    link.classList.toggle("flagged", flagged);
    link.classList.toggle("current", sequential && Number(f.dataset.position) === current);
    if (sequential) {
      link.setAttribute("aria-disabled", Number(f.dataset.position) < current ? "true" : "false");
    }
    const parts = [`${msg("Question")} ${f.dataset.position}`,
      answered ? msg("Answered") : msg("Unanswered")];
    if (flagged) parts.push(msg("Flagged"));
    link.setAttribute("aria-label", parts.join(", "));
  }
  const paintAll = () => fieldsets.forEach(paint);

  function show(position) {
    const f = fieldsetAt(position);
    if (!f) return;
    if (sequential) {
      if (position < current) return;
      fieldsets.forEach((x) => { x.hidden = x !== f; });
      if (position > current) {
        current = position;
        // keepalive: the step forward is stored even if the page is left at once.
        api(root.dataset.positionUrl, "PUT", { position }, { keepalive: true }).catch(() => {});
      }
      paintAll();
    }
    f.focus();
  }
  $("navigator").addEventListener("click", (event) => {
    const link = event.target.closest("[data-nav]");
    if (!link) return;
    event.preventDefault();
    show(Number(link.dataset.nav));
  });

  async function setFlag(f, flagged) {
    f.dataset.flagged = String(flagged);
    const button = f.querySelector("button.flag");
    button.setAttribute("aria-pressed", String(flagged));
    button.textContent = flagged ? msg("Unflag") : msg("Flag");
    paint(f);
    try {
      const res = await api(`${saveBase}${f.dataset.position}/flag`, "PUT", { flagged });
      if (res.status === 409) await rejected(res, f.dataset.position);
    } catch (e) { /* the flag is a reminder for the candidate; the answer is what counts */ }
  }
  for (const f of fieldsets) {
    const button = f.querySelector("button.flag");
    if (f.dataset.flagged === "true") button.textContent = msg("Unflag");
    button.addEventListener("click", () => setFlag(f, f.dataset.flagged !== "true"));
    const next = f.querySelector("button.next");
    if (next) next.addEventListener("click", () => show(Number(f.dataset.position) + 1));
  }

  // ------------------------------------------------------------ autosave
  function queue(position, response) {
    lastSeq += 1;
    // Only the newest answer to an item needs to reach the server; older unsent ones go.
    pending = pending.filter((p) => p.position !== position || p.inFlight);
    pending.push({ position, response, seq: lastSeq });
    remember();
    itemState(position, msg("Saving"));
    flush();
  }

  function supersede() {
    superseded = true;
    const el = $("superseded");
    el.textContent = msg("Superseded");
    el.hidden = false;
    showState(msg("Rejected"), "offline");
  }

  // A refused write: returns true when the page must stop (closed, taken over).
  async function rejected(res, position) {
    const body = await res.json().catch(() => ({}));
    const code = body.error && body.error.code;
    if (code === "time_up" || code === "attempt_closed") {
      finished = true;
      window.location.assign(root.dataset.resultUrl);
      return true;
    }
    if (code === "superseded_device") { supersede(); return true; }
    if (res.status >= 500 || res.status === 429) throw new Error("retry");
    // stale_seq: a newer answer is already saved (another tab); anything else: say so.
    if (code !== "stale_seq" && position) {
      itemState(position, `${msg("Rejected")}: ${body.error ? body.error.message : res.status}`);
    }
    return false;
  }

  async function flush() {
    if (sending || finished || superseded) return;
    const next = pending.find((p) => !p.done);
    if (!next) return;
    sending = true;
    next.inFlight = true;
    showState(msg("Saving"), "saving");
    try {
      const res = await api(saveBase + next.position, "PUT",
        { response: next.response, seq: next.seq });
      if (res.ok) {
        const body = await res.json();
        offset = Date.parse(body.server_time) - Date.now();
        deadline = Date.parse(body.deadline) || deadline;
        const at = new Date(Date.parse(body.saved_at)).toLocaleTimeString();
        showState(`${msg("Saved")} ${at}`, "saved");
        itemState(next.position, `${msg("Saved")} ${at}`);
      } else if (await rejected(res, next.position)) {
        next.inFlight = false;
        sending = false;
        return; // kept in the page's storage: nothing entered is lost silently
      }
      pending = pending.filter((p) => p !== next);
      remember();
      retryDelay = 1000;
      sending = false;
      if (pending.length) flush();
    } catch (e) {
      next.inFlight = false;
      sending = false;
      showState(msg("Offline"), "offline");
      setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    }
  }

  $("answers").addEventListener("change", (event) => {
    const fieldset = event.target.closest("fieldset.item");
    if (!fieldset) return;
    const response = window.examsysWidgets.read(fieldset);
    paint(fieldset);
    if (response === undefined) {
      itemState(fieldset.dataset.position, msg("Rejected"));
      return;
    }
    queue(Number(fieldset.dataset.position), response);
  });
  $("answers").addEventListener("submit", (e) => e.preventDefault());
  window.addEventListener("online", flush);

  // Answers still waiting from a previous page load are shown and sent again.
  for (const p of pending) {
    const fieldset = fieldsetAt(p.position);
    if (!fieldset) continue;
    window.examsysWidgets.write(fieldset, p.response);
    p.inFlight = false;
    itemState(p.position, msg("Saving"));
  }
  paintAll();
  flush();

  // ------------------------------------------------------------ summary before submit
  function listItems(ul, positions) {
    ul.replaceChildren(...positions.map((position) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = `#item-${position}`;
      a.textContent = `${msg("Question")} ${position}`;
      a.addEventListener("click", (e) => { e.preventDefault(); closeSummary(); show(position); });
      li.append(a);
      return li;
    }));
  }
  function openSummary() {
    const unanswered = fieldsets.filter((f) => !isAnswered(f)).map((f) => Number(f.dataset.position));
    const flagged = fieldsets.filter((f) => f.dataset.flagged === "true")
      .map((f) => Number(f.dataset.position));
    $("summary-counts").textContent = unanswered.length ? "" : msg("AllAnswered");
    listItems($("summary-unanswered"), unanswered);
    listItems($("summary-flagged"), flagged);
    $("summary").hidden = false;
    $("summary").focus();
  }
  function closeSummary() { $("summary").hidden = true; $("submit-button").focus(); }
  $("submit-button").addEventListener("click", openSummary);
  $("back-to-exam").addEventListener("click", closeSummary);
  submitForm.addEventListener("submit", () => { finished = true; });

  // ------------------------------------------------------------ integrity signals
  let lastReport = 0;
  function report(kind) {
    if (finished || superseded || Date.now() - lastReport < 2000) return;
    lastReport = Date.now();
    api(root.dataset.eventsUrl, "POST", { kind }).catch(() => {});
  }
  window.addEventListener("blur", () => report("focus_lost"));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") report("hidden");
  });

  // ------------------------------------------------------------ countdown
  async function resync() {
    if (finished) return;
    try {
      const res = await fetch(root.dataset.clockUrl, { credentials: "same-origin" });
      if (res.ok) {
        const body = await res.json();
        offset = Date.parse(body.server_time) - Date.now();
        deadline = Date.parse(body.deadline);
        if (body.superseded && !superseded) supersede();
        if (body.state !== "in_progress") {
          finished = true;
          window.location.assign(root.dataset.resultUrl);
          return;
        }
      }
    } catch (e) { /* offline: keep counting with the last known offset */ }
    setTimeout(resync, 30000);
  }
  setTimeout(resync, 30000);

  const warned = new Set();
  function tick() {
    const left = Math.max(0, deadline - (Date.now() + offset));
    const s = Math.floor(left / 1000);
    const h = Math.floor(s / 3600);
    const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
    const ss = String(s % 60).padStart(2, "0");
    countdownEl.textContent = (h ? `${h}:` : "") + `${mm}:${ss}`;
    // Warn once at 5 minutes and once at 1 (a page opened late warns only about 1).
    for (const minutes of [5, 1]) {
      if (s > 0 && s <= minutes * 60 && !warned.has(minutes)) {
        warned.add(minutes);
        if (minutes === 5 && s <= 60) continue;
        const warning = $("time-warning");
        warning.textContent = msg(`Warn${minutes}`);
        warning.hidden = false;
        countdownEl.closest(".countdown").classList.add("warning");
      }
    }
    if (left <= 0 && !closing) {
      closing = true;
      showState(msg("Timeup"), "offline");
      flush();
      // Give unsent answers a last chance, then let the server close the attempt.
      setTimeout(() => { finished = true; submitForm.submit(); }, pending.length ? 1500 : 0);
      return;
    }
    setTimeout(tick, 250);
  }
  tick();
})();
