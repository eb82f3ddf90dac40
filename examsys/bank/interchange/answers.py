"""Moodle's answer semantics (fractions, feedback, tolerances, units) mapped onto the bank's
question types, shared by GIFT and Moodle XML in both directions.

What the bank cannot hold (per-answer feedback, partial credit for a wrong-but-close
answer, unequal weights) is reported as a warning; what it cannot represent at all (a
single-answer question with two right answers) is a problem.
"""

import math
import re
import string
from dataclasses import dataclass, field

from examsys.bank.interchange.common import Parsed
from examsys.bank.types import REGISTRY
from examsys.bank.yamlio import Problem
from examsys.core.i18n import _

OPTION_IDS = string.ascii_lowercase
EPSILON = 1e-6


@dataclass
class Context:
    """Where a question came from, so that problems and warnings name it."""

    file: str
    line: int
    lang: str
    out: Parsed
    label: str
    lossy_seen: set = field(default_factory=set)

    def problem(self, field_name: str, message: str) -> None:
        self.out.problems.append(Problem(self.file, self.line, field_name, message))

    def lossy(self, message: str) -> None:
        if message not in self.lossy_seen:
            self.lossy_seen.add(message)
            self.out.warnings.append(Problem(self.file, self.line, "", message))

    def texts(self, text: str) -> dict:
        return {self.lang: text} if text else {}


def available(type_name: str, ctx: Context) -> bool:
    """The bank has this type (types arrive one module at a time)."""
    if type_name in REGISTRY:
        return True
    ctx.problem("type", _("%(type)s questions are not supported by this bank yet",
                          type=type_name))
    return False


def choice(choices: list[tuple[str, float, str]], single: bool, ctx: Context) -> dict | None:
    """(text, fraction, feedback) answers of a Moodle multichoice question."""
    if len(choices) < 2:
        ctx.problem("options", _("a choice question needs at least two answers"))
        return None
    if any(fb for _t, _w, fb in choices):
        ctx.lossy(_("per-answer feedback is not kept (only the general feedback is)"))
    options = [{"id": OPTION_IDS[i], "text": ctx.texts(text)}
               for i, (text, _w, _fb) in enumerate(choices[: len(OPTION_IDS)])]
    weights = [w for _t, w, _fb in choices]
    if single:
        right = [i for i, w in enumerate(weights) if w >= 1 - EPSILON]
        if len(right) != 1:
            ctx.problem("options", _("a single-answer question needs exactly one fully "
                                     "right answer (found %(n)d)", n=len(right)))
            return None
        if any(EPSILON < w < 1 - EPSILON or w < -EPSILON for w in weights):
            ctx.lossy(_("partial credit or penalties for single-answer options are not kept"))
        for i, option in enumerate(options):
            option["correct"] = i == right[0]
        return {"type": "single_choice", "options": options}
    right = [i for i, w in enumerate(weights) if w > EPSILON]
    if not right:
        ctx.problem("options", _("no answer has a positive weight"))
        return None
    for i, option in enumerate(options):
        option["correct"] = i in right
    if len(right) == 1:
        return {"type": "single_choice", "options": options}
    shares = {round(weights[i], 4) for i in right}
    if len(shares) > 1 or abs(sum(weights[i] for i in right) - 1) > 0.01:
        ctx.lossy(_("unequal weights of right answers are not kept: each right answer "
                    "earns an equal share"))
    return {"type": "multiple_choice", "options": options, "scoring": "partial"}


def short_text(accepted: list[tuple[str, float, str]], ctx: Context,
               case_sensitive: bool = False) -> dict | None:
    if not available("short_text", ctx):
        return None
    full = [text for text, w, _fb in accepted if w >= 1 - EPSILON and text]
    if len(full) < len([t for t, _w, _fb in accepted if t]):
        ctx.lossy(_("partial-credit short answers are not kept"))
    if any(fb for _t, _w, fb in accepted):
        ctx.lossy(_("per-answer feedback is not kept (only the general feedback is)"))
    if case_sensitive:
        ctx.lossy(_("case-sensitive matching is not kept (answers are compared without "
                    "case)"))
    plain = [t for t in full if "*" not in t]
    wild = [t for t in full if "*" in t]
    fields = {"type": "short_text", "answers": plain or [w.replace("*", "") for w in wild]}
    if wild:
        # Moodle's * matches any run of characters; the bank's pattern is a regex.
        fields["pattern"] = "|".join(".*".join(re.escape(p) for p in w.split("*"))
                                     for w in wild)
    if not fields["answers"]:
        ctx.problem("answers", _("no fully right answer"))
        return None
    return fields


def matching(pairs: list[tuple[str, str]], ctx: Context) -> dict | None:
    if not available("matching", ctx):
        return None
    fields = {"type": "matching", "pairs": [], "distractors": []}
    for i, (prompt, match) in enumerate(pairs):
        oid = OPTION_IDS[i % 26] + (str(i // 26) if i >= 26 else "")
        if prompt:
            fields["pairs"].append({"id": oid, "prompt": ctx.texts(prompt),
                                    "match": ctx.texts(match)})
        else:  # Moodle's distractor: an answer with no question
            fields["distractors"].append({"id": oid, "text": ctx.texts(match)})
    return fields


def numerical(candidates: list[tuple[float, float, float, str]], units: dict | None,
              ctx: Context) -> dict | None:
    """(value, absolute tolerance, fraction, feedback) answers; ``units`` maps unit names
    to Moodle multipliers (the first with multiplier 1 is the answer's unit)."""
    full = [c for c in candidates if c[2] >= 1 - EPSILON]
    if not full:
        ctx.problem("answer", _("no fully right numerical answer"))
        return None
    if len(candidates) > 1:
        ctx.lossy(_("only the first fully right numerical answer is kept"))
    if any(c[3] for c in candidates):
        ctx.lossy(_("per-answer feedback is not kept (only the general feedback is)"))
    value, tolerance = full[0][0], full[0][1]
    if not math.isfinite(value) or not math.isfinite(tolerance):
        ctx.problem("answer", _("must be a finite number"))
        return None
    fields = {"type": "numeric", "answer": value, "tolerance": {"absolute": tolerance}}
    if units:
        base = next((u for u, m in units.items() if abs(m - 1) < EPSILON), None)
        if base is None:
            ctx.problem("units", _("no unit has the multiplier 1"))
            return None
        if len(units) == 1 and "numeric_unit" not in REGISTRY:
            fields["unit"] = base
            return fields
        if not available("numeric_unit", ctx):
            return None
        fields.update(type="numeric_unit", unit=base,
                      units={u: 1 / m for u, m in units.items() if m > 0})
    return fields


def essay(ctx: Context, grader_info: str = "", points: float | None = None) -> dict | None:
    """Moodle essays have no rubric: one criterion (the grader information, if any) worth
    the question's default mark."""
    if not available("essay", ctx):
        return None
    criterion = grader_info or (_("Overall answer") if ctx.lang == "en" else "总体回答")
    points = points if points and 0 < points <= 100 else 10
    return {"type": "essay", "rubric": [{"id": "overall", "criterion": ctx.texts(criterion),
                                         "points": points}]}


def ordering(items: list[str], ctx: Context, all_or_nothing: bool) -> dict | None:
    if not available("ordering", ctx):
        return None
    return {"type": "ordering", "scoring": "all_or_nothing" if all_or_nothing else "partial",
            "options": [{"id": OPTION_IDS[i], "text": ctx.texts(t)}
                        for i, t in enumerate(items[: len(OPTION_IDS)])]}


# Exporting ---------------------------------------------------------------------------

@dataclass
class ExportQuestion:
    key: str
    type: str
    payload: dict
    category: list[str]         # topic names from the root, in the export's language
    meta: dict                  # what the format cannot say, written where it can


def number_text(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def absolute(payload: dict) -> tuple[float, float]:
    """(answer, absolute tolerance): Moodle knows absolute tolerances only."""
    (kind, amount), = payload["tolerance"].items()
    answer = payload["answer"]
    return answer, amount if kind == "absolute" else abs(answer) * amount


def weight_text(fraction: float) -> str:
    return f"{fraction * 100:.5f}".rstrip("0").rstrip(".")


def choice_fractions(q: ExportQuestion) -> list[tuple[dict, float]]:
    """Each option with its Moodle fraction. Multiple choice: each right option 1/n, each
    wrong one −1/n: Moodle's sum, floored at 0, is then exactly the bank's partial score."""
    options = q.payload["options"]
    if q.type == "single_choice":
        return [(o, 1.0 if o["correct"] else 0.0) for o in options]
    n = sum(o["correct"] for o in options)
    return [(o, 1 / n if o["correct"] else -1 / n) for o in options]


def choice_markers(q: ExportQuestion) -> list[tuple[str, dict]]:
    out = []
    for option, fraction in choice_fractions(q):
        if q.type == "single_choice":
            out.append(("=" if fraction == 1 else "~", option))
        else:
            out.append((f"~%{weight_text(fraction)}%", option))
    return out


def wildcards(pattern: str | None) -> list[str] | None:
    """A pattern made from Moodle '*' answers (see short_text) back as those answers; None
    for any other regular expression, which Moodle cannot express."""
    if not pattern:
        return []
    out = []
    for alternative in re.split(r"(?<!\\)\|", pattern):
        parts = alternative.split(".*")
        plain = [re.sub(r"\\(.)", r"\1", part) for part in parts]
        if any(re.escape(p) != part for p, part in zip(plain, parts, strict=True)):
            return None
        out.append("*".join(plain))
    return out
