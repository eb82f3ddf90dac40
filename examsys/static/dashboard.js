// The examiner's live progress table: refreshed from the API every 10 seconds.
"use strict";
(() => {
  const root = document.getElementById("dashboard");
  if (!root) return;
  // Names of the attempt states and the minutes format come translated from the page.
  const stateNames = JSON.parse(root.dataset.states || "{}");
  const minutes = (n) => (root.dataset.msgMinutes || "{n} min").replace("{n}", n);
  const integrityUrl = (id) => root.dataset.integrityUrl.replace("/0/", `/${id}/`);

  function rowOf(c) {
    // A row per attempt; a candidate who had not started when the page was drawn has a
    // row without one, which becomes the attempt's row once it exists. A retake gets a
    // new row after the candidate's earlier ones, a candidate enrolled since, one at the end.
    const found = root.querySelector(`tr[data-attempt="${c.attempt_id}"]`) ||
      root.querySelector(`tr[data-enrollment="${c.enrollment_id}"]:not([data-attempt])`);
    if (found) return found;
    const row = document.createElement("tr");
    row.dataset.enrollment = c.enrollment_id;
    const name = document.createElement("td");
    name.textContent = c.candidate;
    row.append(name, ...["state", "answered", "seconds_left", "integrity_events"].map((f) => {
      const cell = document.createElement("td");
      cell.dataset.field = f;
      return cell;
    }));
    const earlier = root.querySelectorAll(`tr[data-enrollment="${c.enrollment_id}"]`);
    if (earlier.length) earlier[earlier.length - 1].after(row);
    else root.querySelector("#progress-rows").append(row);
    return row;
  }

  function update(row, c) {
    row.dataset.attempt = c.attempt_id;
    row.querySelector('[data-field="state"]').textContent = stateNames[c.state] || c.state;
    row.querySelector('[data-field="answered"]').textContent = `${c.answered} / ${c.items}`;
    row.querySelector('[data-field="seconds_left"]').textContent =
      c.seconds_left === null ? "—" : minutes(Math.floor(c.seconds_left / 60));
    const cell = row.querySelector('[data-field="integrity_events"]');
    let link = cell.querySelector("a");
    if (!link) {
      link = document.createElement("a");
      link.href = integrityUrl(c.attempt_id);
      cell.replaceChildren(link);
    }
    link.textContent = c.integrity_events;
  }

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
        if (!c.attempt_id) continue;
        update(rowOf(c), c);
      }
    } finally {
      setTimeout(refresh, 10000);
    }
  }
  setTimeout(refresh, 10000);
})();
