// Reading and writing a candidate's answer in each question type's input (see
// templates/bank/widgets/<type>.html). One entry per type; exam.js never branches on types.
"use strict";
window.examsysWidgets = (() => {
  const inputs = (fieldset) => [...fieldset.querySelectorAll("input, select, textarea")];
  const checked = (fieldset) => inputs(fieldset).find((i) => i.checked);
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
  };
  const of = (fieldset) => types[fieldset.dataset.type];
  return {
    register: (name, widget) => { types[name] = widget; },
    read: (fieldset) => of(fieldset).read(fieldset),
    write: (fieldset, response) => of(fieldset).write(fieldset, response),
  };
})();
