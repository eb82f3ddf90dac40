// The examiner's live progress table: refreshed from the API every 10 seconds.
"use strict";
(() => {
  const root = document.getElementById("dashboard");
  if (!root) return;
  async function refresh() {
    try {
      const res = await fetch(root.dataset.url, { credentials: "same-origin" });
      if (!res.ok) return;
      const data = await res.json();
      for (const [name, value] of Object.entries(data.counts)) {
        const el = root.querySelector(`[data-count="${name}"]`);
        if (el) el.textContent = value;
      }
      for (const c of data.candidates) {
        const row = root.querySelector(`tr[data-enrollment="${c.enrollment_id}"]`);
        if (!row || !c.attempt_id) continue;
        row.querySelector('[data-field="answered"]').textContent = `${c.answered} / ${c.items}`;
        row.querySelector('[data-field="seconds_left"]').textContent =
          c.seconds_left === null ? "—" : `${Math.floor(c.seconds_left / 60)} min`;
      }
    } finally {
      setTimeout(refresh, 10000);
    }
  }
  setTimeout(refresh, 10000);
})();
