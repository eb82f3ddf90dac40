// The exam room: autosave every answer with a sequence number, keep unsent answers through
// network loss (in order, also across a reload), and count down to the server's deadline.
"use strict";
(() => {
  const root = document.getElementById("exam");
  if (!root) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const attemptId = root.dataset.attempt;
  const saveBase = root.dataset.saveUrl;
  const deadline = Date.parse(root.dataset.deadline);
  const storeKey = "examsys.pending." + attemptId;
  const msg = (name) => root.dataset["msg" + name];
  const stateEl = document.getElementById("save-state");
  const countdownEl = document.getElementById("countdown");
  const submitForm = document.getElementById("submit-form");

  // The server's clock minus ours; every countdown figure uses the server's time.
  let offset = Date.parse(root.dataset.serverTime) - Date.now();
  let lastSeq = Number(root.dataset.lastSeq) || 0;
  let pending = [];
  try { pending = JSON.parse(localStorage.getItem(storeKey) || "[]"); } catch (e) { pending = []; }
  for (const p of pending) lastSeq = Math.max(lastSeq, p.seq);
  let sending = false;
  let retryDelay = 1000;
  let finished = false;

  const remember = () => {
    try { localStorage.setItem(storeKey, JSON.stringify(pending)); } catch (e) { /* full */ }
  };
  const showState = (text, cls) => { stateEl.textContent = text; stateEl.className = cls || ""; };
  const itemState = (position, text) => {
    const el = document.querySelector(`#item-${position} .item-state`);
    if (el) el.textContent = text;
  };

  function queue(position, response) {
    lastSeq += 1;
    // Only the newest answer to an item needs to reach the server; older unsent ones go.
    pending = pending.filter((p) => p.position !== position || p.inFlight);
    pending.push({ position, response, seq: lastSeq });
    remember();
    itemState(position, msg("Saving"));
    flush();
  }

  async function flush() {
    if (sending || finished) return;
    const next = pending.find((p) => !p.done);
    if (!next) return;
    sending = true;
    next.inFlight = true;
    showState(msg("Saving"), "saving");
    try {
      const res = await fetch(saveBase + next.position, {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ response: next.response, seq: next.seq }),
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        offset = Date.parse(body.server_time) - Date.now();
        const at = new Date(Date.parse(body.saved_at)).toLocaleTimeString();
        showState(`${msg("Saved")} ${at}`, "saved");
        itemState(next.position, `${msg("Saved")} ${at}`);
      } else {
        const code = body.error && body.error.code;
        if (code === "time_up" || code === "attempt_closed") {
          finished = true;
          window.location.assign(root.dataset.resultUrl);
          return;
        }
        if (res.status >= 500 || res.status === 429) throw new Error("retry");
        // stale_seq: a newer answer is already saved (another tab); invalid: say so.
        if (code !== "stale_seq") {
          itemState(next.position, `${msg("Rejected")}: ${body.error ? body.error.message : res.status}`);
        }
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

  document.getElementById("answers").addEventListener("change", (event) => {
    const fieldset = event.target.closest("fieldset.item");
    if (!fieldset) return;
    const response = window.examsysWidgets.read(fieldset);
    if (response === undefined) {
      itemState(fieldset.dataset.position, msg("Rejected"));
      return;
    }
    queue(Number(fieldset.dataset.position), response);
  });
  document.getElementById("answers").addEventListener("submit", (e) => e.preventDefault());
  window.addEventListener("online", flush);

  // Answers still waiting from a previous page load are shown and sent again.
  for (const p of pending) {
    const fieldset = document.getElementById(`item-${p.position}`);
    if (!fieldset) continue;
    window.examsysWidgets.write(fieldset, p.response);
    p.inFlight = false;
    itemState(p.position, msg("Saving"));
  }
  flush();

  const warned = new Set();
  function tick() {
    const left = Math.max(0, deadline - (Date.now() + offset));
    const s = Math.floor(left / 1000);
    const h = Math.floor(s / 3600);
    const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
    const ss = String(s % 60).padStart(2, "0");
    countdownEl.textContent = (h ? `${h}:` : "") + `${mm}:${ss}`;
    for (const minutes of [5, 1]) {
      if (s <= minutes * 60 && s > 0 && !warned.has(minutes)) {
        warned.add(minutes);
        countdownEl.closest(".countdown").classList.add("warning");
        countdownEl.setAttribute("aria-live", "assertive");
      }
    }
    if (left <= 0 && !finished) {
      finished = true;
      showState(msg("Timeup"), "offline");
      // Give unsent answers a last chance, then let the server close the attempt.
      setTimeout(() => submitForm.submit(), pending.length ? 1500 : 0);
      return;
    }
    setTimeout(tick, 250);
  }
  tick();

  submitForm.addEventListener("submit", () => { finished = true; });
})();
