"""Validating bank documents (topics, questions, certifications) before anything is written.

Every problem is collected with its file, line and field; nothing stops at the first one.
"""

import re
from dataclasses import dataclass, field

from examsys.bank.models import LEVELS, Status
from examsys.bank.types import REGISTRY
from examsys.bank.types.base import read_texts
from examsys.bank.yamlio import LineDict, Problems, item_line, load_yaml
from examsys.core.i18n import _

KEY = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,63}$")
TOPIC_KEY = re.compile(r"^[a-z0-9_]{1,40}$")
RELEASES = ("immediate", "after_close", "manual")
COMMON_FIELDS = frozenset({"key", "topic", "type", "levels", "difficulty", "status", "tags",
                           "reference", "stem", "explanation"})
# With an unknown type, no field is reported as unknown on top of the type itself.
FIELDS_OF_ANY_TYPE = frozenset(f for t in REGISTRY.values() for f in t.fields)


@dataclass
class TopicRecord:
    path: str
    parent: str | None
    name_en: str
    name_zh: str
    file: str = ""
    line: int = 0


@dataclass
class QuestionRecord:
    key: str
    topic: str
    type: str
    levels: list[str]
    difficulty: int
    status: str
    tags: list[str]
    reference: str | None
    payload: dict
    file: str
    line: int


@dataclass
class CertificationRecord:
    code: str
    name_en: str
    name_zh: str
    level: str
    validity_months: int
    blueprint: dict
    file: str
    line: int
    # Retake policy: None = as many attempts as sessions allow.
    max_attempts: int | None = None
    retake_cooldown_hours: int = 0
    avoid_seen_items: bool = True


@dataclass
class BankDocument:
    topics: list[TopicRecord] = field(default_factory=list)
    questions: list[QuestionRecord] = field(default_factory=list)
    certifications: list[CertificationRecord] = field(default_factory=list)

    def extend(self, other: "BankDocument") -> None:
        self.topics += other.topics
        self.questions += other.questions
        self.certifications += other.certifications


def type_named(raw):
    return REGISTRY.get(raw) if isinstance(raw, str) else None


def _int(raw, lo: int, hi: int) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and lo <= raw <= hi else None


def parse_document(name: str, data: bytes, problems: Problems) -> BankDocument:
    """Validate one file's content; problems go to ``problems``."""
    doc = BankDocument()
    tree = load_yaml(data, problems)
    if tree is None:
        return doc
    if not isinstance(tree, dict) or not set(tree) & {"topics", "questions", "certifications"}:
        problems.add(getattr(tree, "line", 1), "",
                     _("expected a mapping with topics:, questions: or certifications:"))
        return doc
    for key in set(tree) - {"topics", "questions", "certifications"}:
        problems.add(tree.line, key, _("unknown top-level key"))
    for section, reader in (("topics", _read_topics), ("questions", read_question),
                            ("certifications", _read_certification)):
        items = tree.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.add(tree.line, section, _("must be a list"))
            continue
        if section == "topics":
            _read_topics(items, None, doc, problems, name)
            continue
        for index, item in enumerate(items):
            if not isinstance(item, LineDict):
                problems.add(item_line(items, index), f"{section}[{index}]",
                             _("must be a mapping"))
                continue
            reader(item, name, doc, problems)
    return doc


def _read_topics(items, parent: str | None, doc: BankDocument, problems: Problems,
                 name: str) -> None:
    for index, item in enumerate(items):
        line = item_line(items, index)
        if not isinstance(item, dict):
            problems.add(line, "topics", _("each topic is a mapping with key and name"))
            continue
        at = _field_lines(item, line)
        key = item.get("key")
        if not isinstance(key, str) or not TOPIC_KEY.match(key):
            problems.add(at("key"), "topics.key", _("must be lower-case letters, digits or _"))
            continue
        path = f"{parent}/{key}" if parent else key
        names = read_texts(item.get("name"), f"topics[{path}].name", problems, at("name")) or {}
        if names and set(names) != {"en", "zh"}:
            problems.add(at("name"), f"topics[{path}].name",
                         _("a topic needs both en and zh names"))
        doc.topics.append(TopicRecord(path, parent, names.get("en", ""), names.get("zh", ""),
                                      name, line))
        children = item.get("children") or []
        if not isinstance(children, list):
            problems.add(at("children"), f"topics[{path}].children", _("must be a list"))
        else:
            _read_topics(children, path, doc, problems, name)


def read_question(q: LineDict, name: str, doc: BankDocument, problems: Problems) -> None:
    key = q.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        problems.at(q, "key", _("must be upper-case letters, digits and -, e.g. LIB-CATH-0001"))
        key = f"#line{q.line}"
    problems.prefix = f"{key}."
    try:
        qtype = type_named(q.get("type"))
        if qtype is None:
            problems.at(q, "type",
                        _("must be one of %(values)s", values=", ".join(sorted(REGISTRY))))
        topic = q.get("topic")
        if not isinstance(topic, str) or not topic:
            problems.at(q, "topic", _("is required (a path such as materials/cathode)"))
        levels = q.get("levels")
        if (not isinstance(levels, list) or not levels
                or any(lv not in LEVELS for lv in levels)):
            problems.at(q, "levels", _("must be a non-empty list of %(values)s",
                                       values=", ".join(LEVELS)))
            levels = []
        difficulty = _int(q.get("difficulty"), 1, 5)
        if difficulty is None:
            problems.at(q, "difficulty", _("must be a whole number from 1 to 5"))
        status = q.get("status", Status.ACTIVE.value)
        if status not in {s.value for s in Status}:
            problems.at(q, "status", _("must be draft, review, active or retired"))
        tags = q.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            problems.at(q, "tags", _("must be a list of words"))
            tags = []
        reference = q.get("reference")
        if reference is not None and (not isinstance(reference, str) or len(reference) > 300):
            problems.at(q, "reference", _("must be a text of at most 300 characters"))
        stem = read_texts(q.get("stem"), "stem", problems, q.line_of("stem"))
        explanation = (read_texts(q["explanation"], "explanation", problems,
                                  q.line_of("explanation"))
                       if q.get("explanation") is not None else None)
        payload = {"stem": stem or {}, "explanation": explanation}
        if qtype is not None:
            payload.update(qtype.validate(q, problems))
        _check_languages(q, payload, problems)
        known = COMMON_FIELDS | set(qtype.fields if qtype else FIELDS_OF_ANY_TYPE)
        for extra in sorted(set(q) - known, key=str):  # keys need not be text
            problems.at(q, str(extra), _("unknown field"), path=(extra,))
        doc.questions.append(QuestionRecord(
            key=key, topic=topic or "", type=q.get("type") or "", levels=list(levels),
            difficulty=difficulty or 1, status=status, tags=list(tags), reference=reference,
            payload=payload, file=name, line=q.line))
    finally:
        problems.prefix = ""


def _text_line(q: LineDict, payload: dict, field_name: str) -> int:
    """The line of a text the type read from ``q``. Its index (``options[2].text``) counts
    what the type kept: when the type dropped an entry it had reported, the index no
    longer counts the file's entries and the list's own line is the honest answer."""
    top = field_name.split("[", 1)[0].split(".", 1)[0]
    read, raw = payload.get(top), q.get(top)
    if isinstance(raw, list) and (not isinstance(read, list) or len(read) != len(raw)):
        return q.line_of(top)
    return q.line_of(field_name)


def _check_languages(q: LineDict, payload: dict, problems: Problems) -> None:
    langs = set(payload["stem"])
    texts = [("explanation", payload.get("explanation"))]
    qtype = type_named(q.get("type"))
    if qtype is not None:
        texts += qtype.texts(payload)
    for field_name, text in texts:
        if text and set(text) != langs:
            problems.add(_text_line(q, payload, field_name), field_name,
                         _("has languages %(these)s but the stem has %(stem)s",
                           these=", ".join(sorted(text)), stem=", ".join(sorted(langs))))


def _read_certification(c: LineDict, name: str, doc: BankDocument, problems: Problems) -> None:
    code = c.get("code")
    if not isinstance(code, str) or not KEY.match(code):
        problems.at(c, "code", _("must be upper-case letters, digits and -"))
        code = f"#line{c.line}"
    problems.prefix = f"{code}."
    try:
        names = read_texts(c.get("name"), "name", problems, c.line_of("name")) or {}
        level = c.get("level")
        if level not in LEVELS:
            problems.at(c, "level", _("must be one of %(values)s", values=", ".join(LEVELS)))
        validity = _int(c.get("validity_months"), 1, 240)
        if validity is None:
            problems.at(c, "validity_months", _("must be a whole number of months (1–240)"))
        blueprint = _read_blueprint(c.get("blueprint"), c.line, problems)
        max_attempts = c.get("max_attempts")
        if max_attempts is not None and _int(max_attempts, 1, 100) is None:
            problems.at(c, "max_attempts", _("must be a whole number from 1 to 100"))
        cooldown = c.get("retake_cooldown_hours", 0)
        if _int(cooldown, 0, 24 * 365) is None:
            problems.at(c, "retake_cooldown_hours", _("must be whole hours from 0 to 8760"))
        avoid_seen = c.get("avoid_seen_items", True)
        if not isinstance(avoid_seen, bool):
            problems.at(c, "avoid_seen_items", _("must be true or false"))
        doc.certifications.append(CertificationRecord(
            code=code, name_en=names.get("en", ""), name_zh=names.get("zh", names.get("en", "")),
            level=level or "", validity_months=validity or 12, blueprint=blueprint,
            file=name, line=c.line, max_attempts=max_attempts if isinstance(
                max_attempts, int) else None,
            retake_cooldown_hours=cooldown if isinstance(cooldown, int) else 0,
            avoid_seen_items=avoid_seen is not False))
    finally:
        problems.prefix = ""


def _field_lines(mapping, line: int):
    """``line_of`` for ``mapping``'s fields, read from YAML; else every field on ``line``."""
    if isinstance(mapping, LineDict):
        return mapping.line_of
    return lambda _field: line


def _read_blueprint(b, line: int, problems: Problems) -> dict:
    if not isinstance(b, dict):
        problems.add(line, "blueprint", _("is required"))
        return {}
    line = b.line
    limit = _int(b.get("time_limit_minutes"), 1, 24 * 60)
    if limit is None:
        problems.at(b, "time_limit_minutes", _("must be whole minutes (1–1440)"),
                    under="blueprint.")
    pass_mark = b.get("pass_mark")
    if not isinstance(pass_mark, int | float) or isinstance(pass_mark, bool) or not (
            0 < pass_mark <= 100):
        problems.at(b, "pass_mark", _("must be a percentage above 0, at most 100"),
                    under="blueprint.")
    shuffle = b.get("shuffle_options", True)
    if not isinstance(shuffle, bool):
        problems.at(b, "shuffle_options", _("must be true or false"),
                    under="blueprint.")
    sections, keys = [], set()
    raw_sections = b.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        problems.at(b, "sections", _("give at least one section"),
                    under="blueprint.")
        raw_sections = []
    for i, s in enumerate(raw_sections):
        where = f"blueprint.sections[{i}]"
        sline = getattr(s, "line", line)
        if not isinstance(s, dict):
            problems.add(sline, where, _("must be a mapping"))
            continue
        at = _field_lines(s, sline)
        key = s.get("key")
        if not isinstance(key, str) or not TOPIC_KEY.match(key) or key in keys:
            problems.add(at("key"), f"{where}.key", _("must be a unique lower-case key"))
        keys.add(key)
        title = read_texts(s.get("title"), f"{where}.title", problems, at("title")) or {}
        topics = s.get("topics")
        if not isinstance(topics, list) or not topics or not all(
                isinstance(t, str) for t in topics):
            problems.add(at("topics"), f"{where}.topics",
                         _("must be a non-empty list of topic paths"))
            topics = []
        levels = s.get("levels")
        if not isinstance(levels, list) or not levels or any(lv not in LEVELS for lv in levels):
            problems.add(at("levels"), f"{where}.levels",
                         _("must be a non-empty list of level codes"))
            levels = []
        count = _int(s.get("count"), 1, 500)
        if count is None:
            problems.add(at("count"), f"{where}.count", _("must be a whole number from 1 to 500"))
        points = s.get("points", 1)
        if not isinstance(points, int | float) or isinstance(points, bool) or points <= 0:
            problems.add(at("points"), f"{where}.points", _("must be a positive number"))
        section_pass = s.get("pass_mark")
        if section_pass is not None and (not isinstance(section_pass, int | float)
                                         or not 0 < section_pass <= 100):
            problems.add(at("pass_mark"), f"{where}.pass_mark",
                         _("must be a percentage above 0, at most 100"))
        section = {"key": key, "title": title, "topics": list(topics),
                   "levels": list(levels), "count": count or 1, "points": points,
                   "pass_mark": section_pass, "line": sline}
        types = s.get("types")
        if types is not None:
            if not isinstance(types, list) or not types or any(t not in REGISTRY for t in types):
                problems.add(at("types"), f"{where}.types",
                             _("must be a non-empty list of %(values)s",
                               values=", ".join(sorted(REGISTRY))))
            else:
                section["types"] = list(types)
        sections.append(section)
    options = {}
    for flag in ("sequential", "double_marking"):
        value = b.get(flag, False)
        if not isinstance(value, bool):
            problems.at(b, flag, _("must be true or false"), under="blueprint.")
        options[flag] = value is True
    tolerance = b.get("marking_tolerance", 0)
    if not isinstance(tolerance, int | float) or isinstance(tolerance, bool) or tolerance < 0:
        problems.at(b, "marking_tolerance", _("must be a number of rubric points ≥ 0"),
                    under="blueprint.")
        tolerance = 0
    options["marking_tolerance"] = float(tolerance)
    return {"time_limit_minutes": limit or 1, "pass_mark": pass_mark,
            "shuffle_options": shuffle is not False, "sections": sections, **options}
