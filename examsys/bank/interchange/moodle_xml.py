"""Moodle XML: reading ``<quiz>`` files into items (parsed with defusedxml: no DTD, no
entities, no external references), and writing bank questions as Moodle XML.

examsys writes what Moodle XML cannot say as tags (``level:engineer``, ``difficulty:2``,
``status:active``, ``topic:materials/cathode``, ``reference:...``, ``scoring:partial``)
and the key as ``<idnumber>``; it reads them back.
"""

import xml.etree.ElementTree as ET  # noqa: S405 - used to build output and typed trees only

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from examsys.bank.interchange import answers
from examsys.bank.interchange.common import (
    MAX_FILE_BYTES,
    Item,
    Parsed,
    detect_lang,
    from_html,
    to_html,
)
from examsys.bank.interchange.gift import category_path
from examsys.bank.types.base import localised
from examsys.bank.yamlio import Problem
from examsys.core.i18n import _

META_TAGS = ("key", "topic", "level", "difficulty", "status", "reference", "scoring")
UNSUPPORTED = {"multianswer": "cloze", "calculated": "calculated",
               "calculatedsimple": "calculated", "calculatedmulti": "calculated",
               "ddwtos": "drag and drop", "ddimageortext": "drag and drop",
               "ddmarker": "drag and drop", "gapselect": "select missing words",
               "randomsamatch": "random short-answer matching", "random": "random"}


class _Element(ET.Element):
    line = 0


class _LineTreeBuilder(ET.TreeBuilder):
    """Remembers each element's line, so problems can name it."""

    def __init__(self):
        super().__init__(element_factory=_Element)
        self.parser = None

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        element.line = self.parser.parser.CurrentLineNumber
        return element


def _tree(name: str, data: bytes, out: Parsed):
    if len(data) > MAX_FILE_BYTES:
        out.problems.append(Problem(name, 0, "", _("file is larger than %(n)d MiB",
                                                    n=MAX_FILE_BYTES // (1024 * 1024))))
        return None
    builder = _LineTreeBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    builder.parser = parser
    try:
        parser.feed(data)
        return parser.close()
    except DefusedXmlException:
        out.problems.append(Problem(name, 0, "", _(
            "the file declares a DTD or entities, which a Moodle XML file never needs; "
            "refused for safety")))
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else 0
        out.problems.append(Problem(name, line, "", _("not well-formed XML: %(why)s",
                                                       why=str(exc))))
    except (ValueError, LookupError) as exc:  # e.g. an unknown declared encoding
        out.problems.append(Problem(name, 0, "", _("not readable XML: %(why)s", why=str(exc))))
    return None


def _text(element, path: str = "text") -> str:
    found = element.find(path) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _formatted(element) -> str:
    """The text of an element with a format attribute (questiontext, answer, ...)."""
    if element is None:
        return ""
    text = _text(element)
    return from_html(text) if element.get("format", "html") == "html" else text


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except (ValueError, AttributeError):
        return None


def parse(name: str, data: bytes, options) -> Parsed:
    out = Parsed()
    root = _tree(name, data, out)
    if root is None or root.tag != "quiz":
        out.unreadable = True
    if root is None:
        return out
    if root.tag != "quiz":
        out.problems.append(Problem(name, root.line, "", _("a Moodle XML file starts with "
                                                            "<quiz>")))
        return out
    category = None
    for q in root.iter("question"):
        qtype = q.get("type", "")
        if qtype == "category":
            category = category_path(_text(q, "category/text"))
            continue
        item = _question(name, q, qtype, options, out)
        if item is not None:
            item.category = category
            out.items.append(item)
    return out


def _question(name: str, q, qtype: str, options, out: Parsed) -> Item | None:
    stem = _formatted(q.find("questiontext"))
    lang = detect_lang(stem, options.lang)
    ctx = answers.Context(name, q.line, lang, out, _text(q, "name/text"))
    if qtype == "description":
        ctx.lossy(_("a description is not a question; skipped"))
        return None
    if qtype in UNSUPPORTED:
        ctx.lossy(_("%(kind)s questions have no examsys type; skipped",
                    kind=UNSUPPORTED[qtype]))
        return None
    reader = READERS.get(qtype)
    if reader is None:
        ctx.problem("type", _("unknown Moodle question type %(type)s", type=repr(qtype)))
        return None
    fields = reader(q, ctx)
    if fields is None:
        return None
    fields["stem"] = ctx.texts(stem)
    if general := _formatted(q.find("generalfeedback")):
        fields["explanation"] = ctx.texts(general)
    meta, tags = {}, []
    for tag in q.findall("tags/tag"):
        text = _text(tag)
        prefix, sep, value = text.partition(":")
        if sep and prefix in META_TAGS and value.strip():
            value = value.strip()
            if prefix == "level":
                meta.setdefault("levels", []).append(value)
            elif prefix == "difficulty":
                meta["difficulty"] = int(value) if value.isdigit() else value
            else:
                meta[prefix] = value
        elif text:
            tags.append(text)
    if tags:
        fields["tags"] = tags
    return Item(line=q.line, fields=fields, title=_text(q, "name/text"),
                key=_text(q, "idnumber") or None, meta=meta)


def _fraction(a, ctx) -> float:
    """An answer's credit in percent; one that is not a number is a problem (read as 0, it
    would quietly make a right answer wrong)."""
    raw = a.get("fraction", "0")
    value = _number(raw)
    if value is None:
        ctx.problem("answer", _("fraction %(value)s is not a number", value=repr(raw)))
        return 0.0
    return value


def _answers(q, ctx) -> list[tuple[str, float, str]]:
    return [(_formatted(a), _fraction(a, ctx) / 100, _formatted(a.find("feedback")))
            for a in q.findall("answer")]


def _true(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes")


def _multichoice(q, ctx):
    return answers.choice(_answers(q, ctx), _true(_text(q, "single") or "true"), ctx)


def _truefalse(q, ctx):
    given = _answers(q, ctx)
    right = [text.lower() for text, fraction, _fb in given if fraction >= 1]
    if right not in (["true"], ["false"]):
        ctx.problem("answer", _("a true/false question has one right answer, true or false"))
        return None
    if any(fb for _t, _f, fb in given):
        ctx.lossy(_("true/false feedback is not kept (only the general feedback is)"))
    return {"type": "true_false", "answer": right == ["true"]}


def _shortanswer(q, ctx):
    return answers.short_text(_answers(q, ctx), ctx, case_sensitive=_true(_text(q, "usecase")
                                                                     or "0"))


def _numerical(q, ctx):
    candidates = []
    for a in q.findall("answer"):
        value = _text(a)
        if value == "*":  # Moodle's "any other answer", for feedback only
            continue
        number, tolerance = _number(value), _number(_text(a, "tolerance") or "0")
        if number is None or tolerance is None:
            ctx.problem("answer", _("%(value)s is not a number", value=repr(value)))
            return None
        candidates.append((number, abs(tolerance),
                           _fraction(a, ctx) / 100,
                           _formatted(a.find("feedback"))))
    units = {}
    for unit in q.findall("units/unit"):
        multiplier = _number(_text(unit, "multiplier") or "1")
        if _text(unit, "unit_name") and multiplier:
            units[_text(unit, "unit_name")] = multiplier
    return answers.numerical(candidates, units or None, ctx)


def _matching(q, ctx):
    pairs = [(_formatted(s), _text(s, "answer/text")) for s in q.findall("subquestion")]
    return answers.matching(pairs, ctx)


def _essay(q, ctx):
    return answers.essay(ctx, _formatted(q.find("graderinfo")),
                         _number(_text(q, "defaultgrade") or ""))


def _ordering(q, ctx):
    rows = [(_fraction(a, ctx), i, _formatted(a))
            for i, a in enumerate(q.findall("answer"))]
    items = [text for _f, _i, text in sorted(rows)]
    grading = (_text(q, "gradingtype") or "").upper()
    if grading not in ("", "ALL_OR_NOTHING", "RELATIVE_NEXT_EXCLUDE_LAST",
                       "RELATIVE_NEXT_INCLUDE_LAST"):
        ctx.lossy(_("ordering grading %(kind)s becomes credit for correct adjacent pairs",
                    kind=grading))
    return answers.ordering(items, ctx, grading == "ALL_OR_NOTHING")


READERS = {"multichoice": _multichoice, "truefalse": _truefalse,
           "shortanswer": _shortanswer, "numerical": _numerical, "matching": _matching,
           "match": _matching,
           "essay": _essay, "ordering": _ordering}


# Writing -------------------------------------------------------------------------------

def _sub(parent, tag: str, text: str | None = None, **attrs):
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _textual(parent, tag: str, text: str, html: bool = True):
    element = _sub(parent, tag, format="html" if html else "plain_text")
    _sub(element, "text", to_html(text) if html and text else text)
    return element


def write(questions, lang: str) -> tuple[bytes, list[str]]:
    root = ET.Element("quiz")
    notes: list[str] = []
    category = None
    for q in questions:
        if q.category != category:
            category = q.category
            c = _sub(root, "question", type="category")
            path = "/".join(part.replace("/", "//") for part in category)
            _sub(_sub(c, "category"), "text", f"$course$/top/{path}")
        _write_question(root, q, lang, notes)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode(), notes


MOODLE_TYPES = {"single_choice": "multichoice", "multiple_choice": "multichoice",
                "true_false": "truefalse", "numeric": "numerical",
                "numeric_unit": "numerical", "short_text": "shortanswer",
                "matching": "matching", "essay": "essay", "ordering": "ordering"}


def _write_question(root, q, lang: str, notes: list[str]) -> None:
    moodle_type = MOODLE_TYPES.get(q.type)
    if moodle_type is None:
        notes.append(_("%(key)s: %(type)s questions have no Moodle XML form; skipped",
                       key=q.key, type=q.type))
        return
    p = q.payload
    e = _sub(root, "question", type=moodle_type)
    _sub(_sub(e, "name"), "text", q.key)
    _textual(e, "questiontext", localised(p["stem"], lang))
    _textual(e, "generalfeedback", localised(p.get("explanation") or {}, lang))
    points = sum(c["points"] for c in p.get("rubric", [])) if q.type == "essay" else 1
    _sub(e, "defaultgrade", answers.number_text(points))
    _sub(e, "penalty", "0")
    _sub(e, "hidden", "0")
    _sub(e, "idnumber", q.key)
    WRITERS[q.type](e, q, lang, notes)
    tags = _sub(e, "tags")
    for name, value in q.meta.items():
        if name == "key":
            continue
        for one in value if isinstance(value, list) else [value]:
            label = "level" if name == "levels" else name
            _sub(_sub(tags, "tag"), "text", one if name == "tags" else f"{label}:{one}")


def _answer(e, fraction: float, text: str, html: bool = True):
    a = _sub(e, "answer", fraction=answers.weight_text(fraction),
             format="html" if html else "plain_text")
    _sub(a, "text", to_html(text, paragraphs=False) if html else text)
    return a


def _w_choice(e, q, lang, notes):
    _sub(e, "single", "true" if q.type == "single_choice" else "false")
    _sub(e, "shuffleanswers", "true")
    _sub(e, "answernumbering", "abc")
    for option, fraction in answers.choice_fractions(q):
        _answer(e, fraction, localised(option["text"], lang))
    if q.type == "multiple_choice" and q.payload.get("scoring") != "partial":
        notes.append(_("%(key)s: all-or-nothing scoring is written as Moodle weights, "
                       "which give partial credit in Moodle", key=q.key))


def _w_truefalse(e, q, lang, notes):
    for word in ("true", "false"):
        _answer(e, 1.0 if q.payload["answer"] == (word == "true") else 0.0, word, html=False)


def _w_numerical(e, q, lang, notes):
    value, tolerance = answers.absolute(q.payload)
    a = _answer(e, 1.0, answers.number_text(value), html=False)
    _sub(a, "tolerance", answers.number_text(tolerance))
    units = q.payload.get("units") or ({q.payload["unit"]: 1.0} if q.payload.get("unit")
                                      else {})
    if units:
        u = _sub(e, "units")
        for name, factor in units.items():
            unit = _sub(u, "unit")
            _sub(unit, "multiplier", answers.number_text(1 / factor))
            _sub(unit, "unit_name", name)
        _sub(e, "unitgradingtype", "0")
        _sub(e, "showunits", "0" if q.type == "numeric_unit" else "3")
        _sub(e, "unitsleft", "0")


def _w_short(e, q, lang, notes):
    _sub(e, "usecase", "0")
    wild = answers.wildcards(q.payload.get("pattern"))
    for text in q.payload["answers"] + (wild or []):
        _answer(e, 1.0, text, html=False)
    if wild is None:
        notes.append(_("%(key)s: the regular expression is not exported (Moodle has none)",
                       key=q.key))


def _w_matching(e, q, lang, notes):
    _sub(e, "shuffleanswers", "true")
    for pair in q.payload["pairs"]:
        s = _textual(e, "subquestion", localised(pair["prompt"], lang))
        _sub(_sub(s, "answer"), "text", localised(pair["match"], lang))
    for extra in q.payload.get("distractors", []):
        s = _textual(e, "subquestion", "")
        _sub(_sub(s, "answer"), "text", localised(extra["text"], lang))


def _w_essay(e, q, lang, notes):
    _sub(e, "responseformat", "editor")
    _sub(e, "responserequired", "1")
    _sub(e, "responsefieldlines", "15")
    _sub(e, "attachments", "0")
    rubric = "\n".join(f"{localised(c['criterion'], lang)} ({answers.number_text(c['points'])})"
                       for c in q.payload["rubric"])
    _textual(e, "graderinfo", rubric)


def _w_ordering(e, q, lang, notes):
    _sub(e, "layouttype", "VERTICAL")
    _sub(e, "selecttype", "ALL")
    _sub(e, "selectcount", "0")
    _sub(e, "gradingtype", "ALL_OR_NOTHING" if q.payload.get("scoring") == "all_or_nothing"
         else "RELATIVE_NEXT_EXCLUDE_LAST")
    for i, option in enumerate(q.payload["options"], start=1):
        a = _sub(e, "answer", fraction=str(i), format="html")
        _sub(a, "text", to_html(localised(option["text"], lang), paragraphs=False))


WRITERS = {"single_choice": _w_choice, "multiple_choice": _w_choice,
           "true_false": _w_truefalse, "numeric": _w_numerical,
           "numeric_unit": _w_numerical, "short_text": _w_short, "matching": _w_matching,
           "essay": _w_essay, "ordering": _w_ordering}
