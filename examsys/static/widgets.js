// Reading and writing a candidate's answer in each question type's input (see
// templates/bank/widgets/<type>.html). One entry per type; exam.js never branches on types.
"use strict";
window.examsysWidgets = (() => {
  const inputs = (fieldset) => [...fieldset.querySelectorAll("input, select, textarea")];
  const checked = (fieldset) => inputs(fieldset).find((i) => i.checked);
  const part = (fieldset, name) => fieldset.querySelector(`[data-part="${name}"]`);
  const list = (fieldset) => fieldset.querySelector("ol.ordering");
  // Essays show a live word count: a Chinese character counts as one word, like a marker.
  const countWords = (fieldset) => {
    const area = fieldset.querySelector("textarea[data-word-limit]");
    const out = fieldset.querySelector(".word-count");
    if (!area || !out) return;
    const text = area.value;
    const han = (text.match(/[\u2e80-\u2fff\u3040-\u9fff\uf900-\ufaff]/g) || []).length;
    const words = (text.replace(/[\u2e80-\u9fff\uf900-\ufaff]/g, " ")
      .match(/[\p{L}\p{N}_]+/gu) || []).length;
    const n = han + words;
    const limit = Number(area.dataset.wordLimit) || 0;
    out.textContent = `${n} ${out.dataset.msgWords}` + (limit ? ` / ${limit}` : "")
      + (limit && n > limit ? ` — ${out.dataset.msgOver}` : "");
    out.classList.toggle("over", limit > 0 && n > limit);
  };
  // Ordering: Up/Down buttons move a step; the move is announced to exam.js as a change.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.order-move");
    if (!button) return;
    const li = button.closest("li");
    const ol = li.parentElement;
    const dir = Number(button.dataset.dir);
    const sibling = dir < 0 ? li.previousElementSibling : li.nextElementSibling;
    if (sibling) ol.insertBefore(li, dir < 0 ? sibling : sibling.nextElementSibling);
    ol.dataset.answered = "true";
    button.focus();
    li.dispatchEvent(new Event("change", { bubbles: true }));
  });
  document.addEventListener("input", (event) => {
    const fieldset = event.target.closest && event.target.closest("fieldset");
    if (fieldset && event.target.matches("textarea[data-word-limit]")) countWords(fieldset);
  });
  const setChecked = (fieldset, wanted) => {
    for (const i of inputs(fieldset)) i.checked = wanted(i.value);
  };
  // read(fieldset) returns the response to send, null for "no answer", undefined if invalid.
  const types = {
    single_choice: {
      read: (f) => (checked(f) ? checked(f).value : null),
      write: (f, r) => setChecked(f, (v) => v === r),
    },
    multiple_choice: {
      read: (f) => inputs(f).filter((i) => i.checked).map((i) => i.value),
      write: (f, r) => setChecked(f, (v) => Array.isArray(r) && r.includes(v)),
    },
    true_false: {
      read: (f) => (checked(f) ? checked(f).value === "true" : null),
      write: (f, r) => setChecked(f, (v) => v === String(r)),
    },
    numeric: {
      read: (f) => {
        const raw = inputs(f)[0].value.trim();
        if (raw === "") return null;
        const n = Number(raw);
        return Number.isFinite(n) ? n : undefined;
      },
      write: (f, r) => { inputs(f)[0].value = r === null ? "" : r; },
    },
    short_text: {
      read: (f) => inputs(f)[0].value.trim() || null,
      write: (f, r) => { inputs(f)[0].value = r === null ? "" : r; },
    },
    essay: {
      read: (f) => (inputs(f)[0].value.trim() ? inputs(f)[0].value : null),
      write: (f, r) => { inputs(f)[0].value = r === null ? "" : r; countWords(f); },
    },
    numeric_unit: {
      read: (f) => {
        const raw = part(f, "value").value.trim();
        const unit = part(f, "unit").value || null;
        if (raw === "" && unit === null) return null;
        const n = raw === "" ? null : Number(raw.replace(",", "."));
        if (n !== null && !Number.isFinite(n)) return undefined;
        return { value: n, unit };
      },
      write: (f, r) => {
        part(f, "value").value = r && r.value !== null ? r.value : "";
        part(f, "unit").value = (r && r.unit) || "";
      },
    },
    ordering: {
      read: (f) => (list(f).dataset.answered === "true"
        ? [...list(f).children].map((li) => li.dataset.id) : null),
      write: (f, r) => {
        const ol = list(f);
        ol.dataset.answered = Array.isArray(r) ? "true" : "false";
        if (!Array.isArray(r)) return;
        for (const id of r) {
          const li = [...ol.children].find((el) => el.dataset.id === id);
          if (li) ol.appendChild(li);
        }
      },
    },
    matching: {
      read: (f) => {
        const out = {};
        for (const s of f.querySelectorAll("select[data-prompt]")) {
          if (s.value) out[s.dataset.prompt] = s.value;
        }
        return Object.keys(out).length ? out : null;
      },
      write: (f, r) => {
        for (const s of f.querySelectorAll("select[data-prompt]")) {
          s.value = (r && r[s.dataset.prompt]) || "";
        }
      },
    },
  };
  const of = (fieldset) => types[fieldset.dataset.type];
  return {
    register: (name, widget) => { types[name] = widget; },
    read: (fieldset) => of(fieldset).read(fieldset),
    write: (fieldset, response) => of(fieldset).write(fieldset, response),
  };
})();
