// The exam room: autosave every answer with a sequence number, keep unsent answers through
// network loss (in order, also across a reload and across tabs), count down to the server's
// deadline (re-synchronised), navigator and flags, a summary before submit, one active device.
// Type-agnostic: answers are read and written by window.examsysWidgets.
"use strict";
(() => {
  const root = document.getElementById("exam");
  if (!root) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const attemptId = root.dataset.attempt;
  const saveBase = root.dataset.saveUrl;
  let deadline = Date.parse(root.dataset.deadline);
  // The server keeps taking saves this long after the deadline (30 s unless the session says).
  const grace = Number.parseInt(root.dataset.graceSeconds, 10);
  const graceMs = 1000 * (Number.isNaN(grace) ? 30 : grace);
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
  // Per item, the seq of the newest answer this page knows of (the server's, ours, or
  // another tab's): an answer with a lower seq is outdated wherever it waits.
  const newest = new Map(fieldsets.map((f) => [Number(f.dataset.position),
    Number(f.dataset.seq) || 0]));
  // Per item, the highest seq the server is known to hold.
  const stored = new Map(newest);
  // One ordered queue of answers ({kind: "save"}) and, in sequential exams, forward steps
  // ({kind: "move"}): a step stored before an answer to the item it leaves would lock
  // that answer out.
  let pending = [];
  const isSave = (p) => p.kind !== "move"; // entries stored by older pages have no kind
  let sending = false;
  let retryDelay = 1000;
  let finished = false;
  let superseded = false;
  let closing = false;
  let savedText = "";

  // ------------------------------------------------------------ the queue in storage
  // Tabs of one login share localStorage: each keeps its queue under its own key, stamped
  // while the tab lives, so that no tab overwrites another's. A queue whose tab is gone
  // (stamp 0 when the page is left, or no stamp for a while) is taken over by the next page.
  const storePrefix = "examsys.pending." + attemptId;
  const tabId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const storeKey = `${storePrefix}.${tabId}`;
  const seqKey = "examsys.seq." + attemptId;
  const STAMP_EVERY = 5000;
  const GONE_AFTER = 20000;
  const isQueueKey = (key) => key === storePrefix || (key || "").startsWith(storePrefix + ".");

  const parseQueue = (raw) => {
    try {
      const value = JSON.parse(raw || "null");
      if (Array.isArray(value)) return { at: 0, entries: value }; // an older page's format
      if (value && Array.isArray(value.entries)) return value;
    } catch (e) { /* unreadable: nothing to take */ }
    return { at: 0, entries: [] };
  };
  function otherQueues() {
    const out = [];
    try {
      for (let i = 0; i < localStorage.length; i += 1) {
        const key = localStorage.key(i);
        if (key !== storeKey && isQueueKey(key)) {
          out.push({ key, ...parseQueue(localStorage.getItem(key)) });
        }
      }
    } catch (e) { /* storage unavailable: this tab only knows its own queue */ }
    return out;
  }
  // Where the browser has Web Locks, each tab holds a lock named by its queue from its
  // start for as long as it lives: a queue stamped before a look at the locks, whose lock
  // nobody held then, is a gone tab's, even one that crashed without a word (its stamp
  // alone would keep it for GONE_AFTER). Elsewhere the stamp stays the rule.
  let heldLocks = null;
  let locksSeenAt = 0;
  if (navigator.locks) {
    navigator.locks.request(storeKey, () => new Promise(() => {})).catch(() => {});
  }
  function checkLocks() {
    if (!navigator.locks) return Promise.resolve();
    const asked = Date.now();
    return navigator.locks.query()
      .then((state) => {
        heldLocks = new Set((state.held || []).map((lock) => lock.name));
        locksSeenAt = asked;
      })
      .catch(() => { heldLocks = null; });
  }
  const gone = (queue) => !queue.at || Date.now() - queue.at > GONE_AFTER ||
    (heldLocks !== null && queue.key !== storePrefix && queue.at < locksSeenAt &&
     !heldLocks.has(queue.key));
  const remember = (at = Date.now()) => {
    try {
      if (pending.length) {
        localStorage.setItem(storeKey, JSON.stringify({ at, entries: pending }));
      } else {
        localStorage.removeItem(storeKey);
      }
    } catch (e) { /* full or unavailable: the queue still lives in this page */ }
  };
  function nextSeq() {
    // Shared by the tabs so that a later choice, in whichever tab, gets the larger seq.
    try { lastSeq = Math.max(lastSeq, Number(localStorage.getItem(seqKey)) || 0); } catch (e) { /* */ }
    lastSeq += 1;
    try { localStorage.setItem(seqKey, String(lastSeq)); } catch (e) { /* */ }
    return lastSeq;
  }

  const showState = (text, cls) => {
    if (closing) return; // the time-up notice stays until the page leaves
    stateEl.textContent = text;
    stateEl.className = cls || "";
  };
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

  function display(position) {
    current = position;
    fieldsets.forEach((x) => { x.hidden = x !== fieldsetAt(position); });
    paintAll();
  }
  function show(position) {
    const f = fieldsetAt(position);
    if (!f) return;
    if (sequential) {
      if (position < current) return;
      if (position > current) enqueue({ kind: "move", position, seq: nextSeq() });
      display(position);
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
  function enqueue(entry) {
    if (isSave(entry)) {
      newest.set(entry.position, entry.seq);
      // Only the newest answer to an item needs to reach the server; older unsent ones go.
      pending = pending.filter((p) => !isSave(p) || p.position !== entry.position || p.inFlight);
      itemState(entry.position, msg("Saving"));
    }
    pending.push(entry);
    remember();
    flush();
  }

  // Entries from elsewhere in this browser: a queue this page takes over (adopt), or the
  // queue of another live tab, which sends it itself. A later choice shows here as well,
  // so that every tab shows what the server will keep.
  function take(entries, adopt) {
    for (const p of entries) {
      const seq = Number(p.seq) || 0;
      lastSeq = Math.max(lastSeq, seq);
      if (!isSave(p)) {
        if (!sequential || p.position <= current) continue; // that step is taken already
        display(p.position);
        if (adopt) {
          pending = pending.filter((q) => isSave(q) || q.inFlight);
          pending.push({ kind: "move", position: p.position, seq });
        }
        continue;
      }
      const known = newest.get(p.position) || 0;
      if (seq <= (stored.get(p.position) || 0) || seq < known) continue; // stored or outdated
      // Seen already: as another tab's (to adopt now that it is gone), or in our own queue.
      if (seq === known && (!adopt || pending.some((q) => isSave(q) && q.seq === seq))) continue;
      newest.set(p.position, seq);
      pending = pending.filter((q) => !isSave(q) || q.position !== p.position || q.inFlight);
      const fieldset = fieldsetAt(p.position);
      if (fieldset) {
        window.examsysWidgets.write(fieldset, p.response);
        paint(fieldset);
      }
      itemState(p.position, adopt ? msg("Saving") : "");
      if (adopt) pending.push({ kind: "save", position: p.position, response: p.response, seq });
    }
    // Entries in the order they were made, whichever tab made them.
    pending.sort((a, b) => a.seq - b.seq);
    remember();
    settle();
  }
  function adoptGone() {
    const taken = [];
    for (const queue of otherQueues()) {
      if (!gone(queue)) continue;
      taken.push(...queue.entries);
      try { localStorage.removeItem(queue.key); } catch (e) { /* */ }
    }
    if (taken.length) { take(taken, true); flush(); }
  }

  function settle() {
    if (pending.length || sending || finished || superseded) return;
    showState(savedText, savedText ? "saved" : "");
  }

  function supersede() {
    superseded = true;
    const el = $("superseded");
    el.textContent = msg("Superseded");
    el.hidden = false;
    showState(msg("Rejected"), "offline");
  }

  // A refused write: returns true when the page must stop (closed, taken over).
  async function rejected(res, position, parsed) {
    const body = parsed || await res.json().catch(() => ({}));
    const code = body.error && body.error.code;
    if (code === "time_up" || code === "attempt_closed") {
      finished = true;
      window.location.assign(root.dataset.resultUrl);
      return true;
    }
    if (code === "superseded_device") { supersede(); return true; }
    if (res.status >= 500 || res.status === 429) throw new Error("retry");
    if (position) {
      itemState(position, `${msg("Rejected")}: ${body.error ? body.error.message : res.status}`);
    }
    return false;
  }

  // Each sender answers "done" (the entry leaves the queue), "again" (send it again now) or
  // "stop"; it throws to retry later.
  async function sendSave(entry) {
    const res = await api(saveBase + entry.position, "PUT",
      { response: entry.response, seq: entry.seq });
    if (res.ok) {
      const body = await res.json();
      offset = Date.parse(body.server_time) - Date.now();
      deadline = Date.parse(body.deadline) || deadline;
      stored.set(entry.position, Math.max(stored.get(entry.position) || 0, entry.seq));
      savedText = `${msg("Saved")} ${new Date(Date.parse(body.saved_at)).toLocaleTimeString()}`;
      if (newest.get(entry.position) === entry.seq) itemState(entry.position, savedText);
      return "done";
    }
    const body = await res.json().catch(() => ({}));
    if (body.error && body.error.code === "stale_seq") {
      // The server holds a save with a higher seq. If a later choice than this one is known
      // (queued here, or from another tab), that one wins. Otherwise this is the newest
      // choice, refused only because another tab's counter ran ahead: it must win, so it
      // goes again with a seq past the server's.
      if ((newest.get(entry.position) || 0) > entry.seq) return "done";
      const details = body.error.details || {};
      lastSeq = Math.max(lastSeq, Number(details.last_seq) || 0);
      entry.seq = nextSeq();
      newest.set(entry.position, entry.seq);
      return "again";
    }
    return (await rejected(res, entry.position, body)) ? "stop" : "done";
  }
  async function sendMove(entry) {
    // keepalive: the step is stored even if the page is left at once.
    const res = await api(root.dataset.positionUrl, "PUT", { position: entry.position },
      { keepalive: true });
    if (res.ok) return "done";
    return (await rejected(res)) ? "stop" : "done";
  }

  async function flush() {
    if (sending || finished || superseded) return;
    const next = pending[0];
    if (!next) { settle(); return; }
    sending = true;
    next.inFlight = true;
    showState(msg("Saving"), "saving");
    let outcome;
    try {
      outcome = await (isSave(next) ? sendSave(next) : sendMove(next));
    } catch (e) {
      next.inFlight = false;
      sending = false;
      showState(msg("Offline"), "offline");
      setTimeout(flush, retryDelay);
      // After the deadline the server's grace is short: keep trying often.
      retryDelay = Math.min(retryDelay * 2, closing ? 1000 : 15000);
      return;
    }
    next.inFlight = false;
    sending = false;
    if (outcome === "stop") return; // kept in storage: nothing entered is lost silently
    if (outcome === "done") pending = pending.filter((p) => p !== next);
    remember();
    retryDelay = 1000;
    flush();
  }

  $("answers").addEventListener("change", (event) => {
    const fieldset = event.target.closest("fieldset.item");
    if (!fieldset || closing) return;
    const response = window.examsysWidgets.read(fieldset);
    paint(fieldset);
    if (response === undefined) {
      itemState(fieldset.dataset.position, msg("Rejected"));
      return;
    }
    enqueue({ kind: "save", position: Number(fieldset.dataset.position), response,
      seq: nextSeq() });
  });
  $("answers").addEventListener("submit", (e) => e.preventDefault());
  window.addEventListener("online", flush);

  window.addEventListener("storage", (event) => {
    if (!isQueueKey(event.key)) return;
    if (event.key === storeKey) {
      // Another page took this queue over (it will send it too: a repeat is harmless);
      // keep it stored for as long as this tab still holds it.
      if (event.newValue === null && !leaving) remember();
      return;
    }
    if (event.newValue === null) return;
    const queue = { key: event.key, ...parseQueue(event.newValue) };
    if (gone(queue)) adoptGone();
    else take(queue.entries, false);
  });
  // A page left (closed, reloaded, navigated) marks its queue as free to take over at once.
  let leaving = false;
  window.addEventListener("pagehide", () => { leaving = true; if (pending.length) remember(0); });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) { leaving = false; remember(); }
  });
  setInterval(() => {
    if (pending.length) remember();
    checkLocks().then(adoptGone);
  }, STAMP_EVERY);

  // Answers still waiting from a page left earlier are shown and sent again; those of live
  // tabs are shown.
  adoptGone();
  for (const queue of otherQueues()) take(queue.entries, false);
  if (sequential) display(current);
  paintAll();
  flush();
  checkLocks().then(adoptGone);

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

  // A submit closes the attempt: every answer given in this browser (this tab's queue and
  // live tabs' queues) must be stored first. The server refuses saves after the deadline
  // plus its grace, and closes the attempt itself then: no point waiting longer.
  let submitting = false;
  function allSent() {
    adoptGone();
    return !pending.length && otherQueues().every((q) => gone(q) || !q.entries.length);
  }
  function submitOnceSent() {
    if (submitting) return;
    submitting = true;
    const step = () => {
      if (finished) return;
      // A page taken over sends nothing more: it waits for the other device's answers.
      const ready = superseded ? !closing : allSent();
      if (ready || Date.now() + offset >= deadline + graceMs) {
        finished = true;
        submitForm.submit();
        return;
      }
      setTimeout(step, 250);
    };
    setTimeout(step, 0); // not inside the submit event that may have called us
  }
  submitForm.addEventListener("submit", (event) => {
    if (finished) return;
    event.preventDefault();
    showState(msg("Saving"), "saving");
    submitOnceSent();
  });

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
      showState(msg("Timeup"), "offline");
      closing = true;
      // No answer can be changed now; those given in time are still on their way.
      fieldsets.forEach((f) => { f.disabled = true; });
      retryDelay = Math.min(retryDelay, 1000);
      flush();
      submitOnceSent();
      return;
    }
    setTimeout(tick, 250);
  }
  tick();
})();
