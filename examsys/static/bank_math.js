// Formulas in question text ($…$, $$…$$, \(…\), \[…\]) rendered by the vendored KaTeX.
// MathML output only: the HTML output needs inline styles, which the CSP forbids.
"use strict";
(() => {
  const render = () => {
    if (!window.renderMathInElement) return;
    for (const el of document.querySelectorAll(".question-text")) {
      window.renderMathInElement(el, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "\\[", right: "\\]", display: true },
          { left: "\\(", right: "\\)", display: false },
          { left: "$", right: "$", display: false },
        ],
        output: "mathml",
        throwOnError: false,
        trust: false,
      });
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();
