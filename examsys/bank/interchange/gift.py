"""Moodle GIFT: reading a GIFT file into items, and writing bank questions as GIFT.

The grammar followed is Moodle's own importer (question/format/gift): questions are
separated by blank lines; ``//`` lines are comments; ``$CATEGORY:`` switches category;
``::title::`` names a question; ``[html]``/``[markdown]``/``[plain]``/``[moodle]`` give
the text format; the answer block ``{...}`` decides the type; ``\\~ \\= \\# \\{ \\} \\:``
and ``\\n`` are escapes. examsys writes one comment of its own before each question,
``// examsys: {json}``, with what GIFT cannot say (key, topic, levels, difficulty, ...);
Moodle ignores it and examsys reads it back.
"""

import json
import re
from decimal import Decimal

from examsys.bank.interchange import answers
from examsys.bank.interchange.common import (
    Item,
    Parsed,
    decode,
    detect_lang,
    from_html,
    looks_like_html,
)
from examsys.bank.types.base import localised
from examsys.bank.yamlio import Problem
from examsys.core.i18n import _

META_PREFIX = "// examsys:"
_ESCAPES = {"\\\\": "\ue000", "\\:": "\ue001", "\\#": "\ue002", "\\=": "\ue003",
            "\\{": "\ue004", "\\}": "\ue005", "\\~": "\ue006", "\\n": "\ue007"}
_RESTORE = {"\ue000": "\\", "\ue001": ":", "\ue002": "#", "\ue003": "=", "\ue004": "{",
            "\ue005": "}", "\ue006": "~", "\ue007": "\n"}
_ESCAPE_RE = re.compile(r"\\[\\:#={}~n]")
_WEIGHT = re.compile(r"^%(-?\d{1,3}(?:\.\d*)?)%")
_FORMAT = re.compile(r"^\[(html|markdown|plain|moodle)\]", re.IGNORECASE)
TF_WORDS = {"T": True, "TRUE": True, "F": False, "FALSE": False}


def _protect(text: str) -> str:
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group()], text)


def _restore(text: str) -> str:
    return "".join(_RESTORE.get(c, c) for c in text)


def _text(raw: str, default_format: str = "moodle") -> tuple[str, str]:
    """(text, format) of one GIFT text: its format marker taken off, escapes restored."""
    raw = raw.strip()
    fmt = default_format
    if match := _FORMAT.match(raw):
        fmt = match.group(1).lower()
        raw = raw[match.end():]
    text = _restore(raw).strip()
    return (from_html(text) if fmt == "html" else text), fmt


def _blocks(text: str):
    """The (line number, line) pairs of each blank-line separated block."""
    block = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


def parse(name: str, data: bytes, options) -> Parsed:
    """Every question of a GIFT file as items; problems carry the question's first line."""
    out = Parsed()
    text = decode(name, data, options.encoding, out.problems)
    if text is None:
        out.unreadable = True
        return out
    category: list[str] | None = None
    for lines in _blocks(text):
        meta, body = {}, []
        # Problems name the question's first line, not the comments above it.
        line = next((n for n, raw in lines if not raw.strip().startswith("//")), lines[0][0])
        for number, raw in lines:
            stripped = raw.strip()
            if stripped.startswith(META_PREFIX):
                try:
                    meta = json.loads(stripped[len(META_PREFIX):])
                    if not isinstance(meta, dict):
                        raise ValueError
                except ValueError:
                    out.problems.append(Problem(name, number, "examsys", _(
                        "the examsys comment is not a JSON object")))
            elif not stripped.startswith("//"):
                body.append(raw)
        if not body:
            continue
        source = _protect("\n".join(body).strip())
        if source.startswith("$CATEGORY:"):
            category = category_path(_restore(source[len("$CATEGORY:"):]).strip())
            continue
        item = _question(name, line, source, options, out)
        if item is not None:
            item.category, item.meta = category, meta
            out.items.append(item)
    return out


def category_path(raw: str) -> list[str]:
    """Moodle category path segments ('//' is a literal slash), without Moodle's contexts."""
    parts = [p.replace("\ue008", "/").strip() for p in raw.replace("//", "\ue008").split("/")]
    parts = [p for p in parts if p]
    while parts and (parts[0].startswith("$") and parts[0].endswith("$")
                     or parts[0].lower() == "top"):
        parts.pop(0)
    if parts and parts[0].lower().startswith("default for"):
        parts.pop(0)
    return parts


def _question(name: str, line: int, source: str, options, out: Parsed) -> Item | None:
    title = None
    if source.startswith("::"):
        end = source.find("::", 2)
        if end < 0:
            out.problems.append(Problem(name, line, "title", _("the title has no closing ::")))
            return None
        title = _restore(source[2:end]).strip()
        source = source[end + 2:].strip()
    start, finish = source.find("{"), source.find("}")
    if start < 0 and finish < 0:
        out.warnings.append(Problem(name, line, "", _(
            "a description (text without an answer block) is not a question; skipped")))
        return None
    if start < 0 or finish < start:
        out.problems.append(Problem(name, line, "", _("unbalanced { } in the answer block")))
        return None
    if source.find("{", start + 1) != -1 and source.find("{", start + 1) < finish:
        out.problems.append(Problem(name, line, "", _("an answer block inside an answer "
                                                      "block: escape { as \\{")))
        return None
    block = source[start + 1:finish].strip()
    after = source[finish + 1:].strip()
    if "{" in after:
        out.problems.append(Problem(name, line, "", _(
            "two answer blocks in one question: separate questions with a blank line")))
        return None
    stem_raw = source[:start] + ("_____ " + after if after else "")
    stem, fmt = _text(stem_raw.strip())
    general = ""
    if (sep := block.rfind("####")) >= 0:
        general, block = _text(block[sep + 4:], fmt)[0], block[:sep].strip()
    lang = detect_lang(stem, options.lang)
    ctx = answers.Context(name, line, lang, out, title or stem[:40])
    fields = _answers(block, fmt, ctx)
    if fields is None:
        return None
    fields["stem"] = {lang: stem} if stem else {}
    if general:
        fields["explanation"] = {lang: general}
    return Item(line=line, fields=fields, title=title)


def _split(block: str, markers: str) -> list[tuple[str, str]]:
    """(marker, body) pairs of an answer list such as '=a ~b ~%50%c'."""
    parts = re.split(f"([{re.escape(markers)}])", block)
    if parts[0].strip():
        return []  # text before the first marker: not this kind of list
    return [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]


def _weight(body: str) -> tuple[float | None, str]:
    if match := _WEIGHT.match(body):
        return float(match.group(1)) / 100, body[match.end():]
    return None, body


def _feedback(body: str, fmt: str) -> tuple[str, str]:
    text, _sep, feedback = body.partition("#")
    return _text(text, fmt)[0], _text(feedback, fmt)[0]


def _answers(block: str, fmt: str, ctx) -> dict | None:
    if block == "":
        return answers.essay(ctx)
    if block.startswith("#"):
        return _numerical(block[1:], fmt, ctx)
    if "~" in block:
        return _choice(block, fmt, ctx)
    if "=" in block and "->" in block:
        return _matching(block, fmt, ctx)
    head = block.split("#", 1)[0].strip()
    if head in TF_WORDS:
        feedback = block.split("#")[1:]
        if any(f.strip() for f in feedback):
            ctx.lossy(_("true/false feedback is not kept (only the general feedback is)"))
        return {"type": "true_false", "answer": TF_WORDS[head]}
    return _short(block, fmt, ctx)


def _choice(block: str, fmt: str, ctx) -> dict | None:
    single = "=" in block
    choices = []
    for marker, body in _split(block, "=~"):
        weight, body = _weight(body)
        if weight is None:
            weight = 1.0 if marker == "=" else 0.0
        text, feedback = _feedback(body, fmt)
        choices.append((text, weight, feedback))
    return answers.choice(choices, single, ctx)


def _short(block: str, fmt: str, ctx) -> dict | None:
    accepted = []
    for _marker, body in _split(block, "="):
        weight, body = _weight(body)
        text, feedback = _feedback(body, fmt)
        accepted.append((text, 1.0 if weight is None else weight, feedback))
    if not accepted:
        ctx.problem("answers", _("not a GIFT answer block: start each answer with = or ~"))
        return None
    return answers.short_text(accepted, ctx)


def _matching(block: str, fmt: str, ctx) -> dict | None:
    pairs = []
    for _marker, body in _split(block, "="):
        left, arrow, right = body.partition("->")
        if not arrow:
            ctx.problem("pairs", _("each matching answer is '=prompt -> match'"))
            return None
        pairs.append((_text(left, fmt)[0], _text(right, "plain")[0]))
    return answers.matching(pairs, ctx)


def _numerical(block: str, fmt: str, ctx) -> dict | None:
    block, _sep, wrong = block.partition("~")
    if wrong.strip():
        ctx.lossy(_("feedback for wrong numerical answers is not kept"))
    entries = _split(block, "=") if block.strip().startswith("=") else [("=", block.strip())]
    candidates = []
    for _marker, body in entries:
        weight, body = _weight(body)
        value, feedback = _feedback(body, fmt)
        parsed = _number_range(value)
        if parsed is None:
            ctx.problem("answer", _("%(value)s is not a number, number:tolerance or "
                                    "min..max", value=repr(value)))
            return None
        candidates.append((parsed[0], parsed[1], 1.0 if weight is None else weight, feedback))
    return answers.numerical(candidates, None, ctx)


def _number_range(text: str) -> tuple[float, float] | None:
    """(answer, absolute tolerance) from '3.14', '3.14:0.01' or '3.1..3.2'."""
    try:
        if ".." in text:
            # Decimal, so that 3.141..3.142 gives 3.1415 ± 0.0005 and not float noise.
            low, high = sorted(Decimal(x.strip()) for x in text.split("..", 1))
            return float((low + high) / 2), float((high - low) / 2)
        if ":" in text:
            value, tolerance = text.split(":", 1)
            return float(value), abs(float(tolerance))
        return float(text), 0.0
    except (ValueError, ArithmeticError):
        return None


# Writing -------------------------------------------------------------------------------

def escape(text: str) -> str:
    """Moodle's own escaping for GIFT (backslash first, newlines as \\n)."""
    for char in "\\~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\r", "").replace("\n", "\\n")


def _out(text: str) -> str:
    return ("[html]" if looks_like_html(text) else "") + escape(text)


def write(questions, lang: str) -> tuple[str, list[str]]:
    """GIFT text for ``questions`` (answers.ExportQuestion, in topic order) and notes on
    what GIFT cannot carry."""
    lines = [f"// Exported from examsys ({lang}). Moodle ignores the '{META_PREFIX}' comments;",
             "// examsys reads them back (key, topic, levels, difficulty, status, ...).", ""]
    notes: list[str] = []
    category = None
    for q in questions:
        if q.category != category:
            category = q.category
            lines += [f"$CATEGORY: $course$/top/{'/'.join(c.replace('/', '//') for c in category)}",
                      ""]
        body = _write_answers(q, lang, notes)
        if body is None:
            continue
        lines.append(META_PREFIX + " " + json.dumps(q.meta, ensure_ascii=False,
                                                    sort_keys=True))
        stem = localised(q.payload["stem"], lang)
        lines.append(f"::{escape(q.key)}::{_out(stem)}{{{body}}}")
        lines.append("")
    return "\n".join(lines), notes


def _general(q, lang: str) -> str:
    explanation = q.payload.get("explanation")
    return f"\n\t####{_out(localised(explanation, lang))}\n" if explanation else ""


def _write_answers(q, lang: str, notes: list[str]) -> str | None:
    p, t = q.payload, q.type
    general = _general(q, lang)
    if t in ("single_choice", "multiple_choice"):
        rows = []
        for marker, option in answers.choice_markers(q):
            rows.append(f"\t{marker}{_out(localised(option['text'], lang))}")
        if t == "multiple_choice" and p.get("scoring") != "partial":
            notes.append(_("%(key)s: all-or-nothing scoring is written as Moodle weights, "
                           "which give partial credit in Moodle", key=q.key))
        return "\n" + "\n".join(rows) + general + ("" if general else "\n")
    if t == "true_false":
        return ("TRUE" if p["answer"] else "FALSE") + general.strip("\n").replace("\t", "")
    if t in ("numeric", "numeric_unit"):
        value, tolerance = answers.absolute(p)
        if t == "numeric_unit" or p.get("unit"):
            notes.append(_("%(key)s: GIFT has no units; the answer is in %(unit)s",
                           key=q.key, unit=p.get("unit")))
        return f"#{answers.number_text(value)}:{answers.number_text(tolerance)}" + \
            general.strip("\n").replace("\t", "")
    if t == "short_text":
        wild = answers.wildcards(p.get("pattern"))
        rows = [f"\t={escape(a)}" for a in p["answers"] + (wild or [])]
        if wild is None:
            notes.append(_("%(key)s: the regular expression is not exported (GIFT has none)",
                           key=q.key))
        return "\n" + "\n".join(rows) + general + ("" if general else "\n")
    if t == "matching":
        rows = [f"\t={_out(localised(pair['prompt'], lang))} -> "
                f"{escape(localised(pair['match'], lang))}" for pair in p["pairs"]]
        rows += [f"\t= -> {escape(localised(d['text'], lang))}"
                 for d in p.get("distractors", [])]
        return "\n" + "\n".join(rows) + general + ("" if general else "\n")
    if t == "essay":
        return general.strip("\n").replace("\t", "")
    notes.append(_("%(key)s: %(type)s questions have no GIFT form; skipped", key=q.key,
                   type=t))
    return None
