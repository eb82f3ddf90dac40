// Shared page behaviour: UTC times shown in the reader's local time, auto-submitting selects.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const fmt = new Intl.DateTimeFormat(document.documentElement.lang, {
    dateStyle: "medium", timeStyle: "short",
  });
  for (const el of document.querySelectorAll("time[data-local]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) {
      el.title = el.textContent;
      el.textContent = fmt.format(when);
    }
  }
  for (const hint of document.querySelectorAll("[data-local-of]")) {
    const input = document.getElementById(hint.dataset.localOf);
    const show = () => {
      const when = new Date(input.value + "Z");
      hint.textContent = input.value && !isNaN(when) ? "= " + fmt.format(when) : "";
    };
    input.addEventListener("input", show);
    show();
  }
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
});
