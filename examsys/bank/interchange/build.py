"""Items read from a foreign file → the validated BankDocument that importer.apply() writes.

Each item is completed in the native YAML shape (key, topic, levels, difficulty, status)
and then validated by the same code as a YAML bank file, so every format meets the same
rules and goes through the one writer.
"""

from sqlalchemy import select

from examsys.bank.interchange.common import ImportOptions, Item, derived_key, slug
from examsys.bank.models import Topic
from examsys.bank.validation import (
    KEY,
    BankDocument,
    TopicRecord,
    read_question,
)
from examsys.bank.yamlio import LineDict, LineList, Problem, Problems
from examsys.core.i18n import _

META_FIELDS = ("key", "topic", "levels", "difficulty", "status", "tags", "reference",
               "scoring")


class TopicResolver:
    """Category paths → topic paths: a segment names an existing child topic by key or by
    name (en or zh, case-insensitive); otherwise a new topic is added to the import."""

    def __init__(self, session, doc: BankDocument, file: str):
        self.doc, self.file = doc, file
        self.by_parent: dict[str | None, list[tuple[str, str, str]]] = {}
        for path, en, zh in session.execute(select(Topic.path, Topic.name_en, Topic.name_zh)):
            self._add(path, en, zh)
        self.paths = {p for children in self.by_parent.values() for p, _e, _z in children}

    def _add(self, path: str, en: str, zh: str) -> None:
        parent = path.rpartition("/")[0] or None
        self.by_parent.setdefault(parent, []).append((path, en, zh))

    def resolve(self, segments: list[str], line: int) -> str:
        parent = None
        for segment in segments:
            wanted = segment.casefold()
            key = slug(segment)
            found = next((p for p, en, zh in self.by_parent.get(parent, [])
                          if p.rpartition("/")[2] == key or en.casefold() == wanted
                          or zh.casefold() == wanted), None)
            if found is None:
                found = f"{parent}/{key}" if parent else key
                self.doc.topics.append(TopicRecord(found, parent, segment[:200], segment[:200],
                                                   self.file, line))
                self._add(found, segment, segment)
            parent = found
        return parent or ""


class Builder:
    """Completes and validates the items of one import (one file or several): new topics
    and derived keys are shared, so two files naming one new category make one topic."""

    def __init__(self, session, options: ImportOptions):
        self.doc = BankDocument()
        self.options = options
        self.topics = TopicResolver(session, self.doc, "")
        self.used: set[str] = set()

    def add(self, name: str, items: list[Item], progress=None) -> list[Problem]:
        self.topics.file = name
        return build(name, items, self.options, self.topics, self.used, self.doc, progress)


def build(name: str, items: list[Item], options: ImportOptions, topics: TopicResolver,
          used: set[str], doc: BankDocument, progress=None) -> list[Problem]:
    """Complete and validate every item into ``doc``; ``progress(n)`` counts items done."""
    problems = Problems(name)
    for item in items:
        raw = LineDict(_complete(item, options, topics, used, problems))
        raw.line = item.line
        for list_field in ("options", "pairs", "distractors", "rubric", "answers"):
            if isinstance(raw.get(list_field), list):
                raw[list_field] = _lines(raw[list_field], item.line)
        read_question(raw, name, doc, problems)
        if progress:
            progress(1)
    return _first_per_field(problems.items)


def _first_per_field(problems: list[Problem]) -> list[Problem]:
    """A missing topic or level is said once, with the advice for imports, not twice."""
    seen, out = set(), []
    for p in problems:
        if p.field.endswith((".topic", ".levels")):
            if (p.line, p.field) in seen:
                continue
            seen.add((p.line, p.field))
        out.append(p)
    return out


def _lines(values: list, line: int) -> LineList:
    out = LineList(LineDict(v) if isinstance(v, dict) else v for v in values)
    out.line = line
    for v in out:
        if isinstance(v, LineDict):
            v.line = line
    return out


def _complete(item: Item, options: ImportOptions, topics: TopicResolver, used: set[str],
              problems: Problems) -> dict:
    meta = {k: v for k, v in item.meta.items() if k in META_FIELDS}
    fields = dict(item.fields)
    stem = next(iter(fields.get("stem", {}).values()), "")
    key = meta.get("key")
    if key is not None and not (isinstance(key, str) and KEY.match(key)):
        problems.add(item.line, "key", _("%(key)s is not a bank key (upper-case letters, "
                                          "digits and -)", key=repr(key)))
    if not key:
        # A foreign id (Moodle's idnumber) only when it has the bank's shape.
        key = item.key if item.key and KEY.match(item.key) else \
            _unique(derived_key(options.key_prefix, stem), used)
    used.add(key)
    if isinstance(meta.get("topic"), str) and meta["topic"]:
        topic = meta["topic"]
    elif item.category:
        topic = topics.resolve(item.category, item.line)
    else:
        topic = options.topic
        if not topic:
            problems.add(item.line, f"{key}.topic", _(
                "the file gives no category for this question: choose a default topic"))
    levels = meta.get("levels") or list(options.levels)
    if not levels:
        problems.add(item.line, f"{key}.levels", _(
            "the file gives no levels: choose the levels the questions serve"))
    tags = list(fields.pop("tags", []) or [])
    tags += [t for t in (meta.get("tags") or []) if t not in tags]
    out = {"key": key, "topic": topic, "levels": levels,
           "difficulty": meta.get("difficulty", fields.pop("difficulty", options.difficulty)),
           "status": meta.get("status", options.status), "tags": tags}
    reference = meta.get("reference", fields.pop("reference", None))
    if reference:
        out["reference"] = reference
    if "scoring" in meta and fields.get("type") in ("multiple_choice", "ordering"):
        fields["scoring"] = meta["scoring"]
    out.update(fields)
    return out


def _unique(key: str, used: set[str]) -> str:
    """Two identical stems in one file (allowed after confirming) still get two keys."""
    if key not in used:
        return key
    n = 2
    while f"{key}-{n}" in used:
        n += 1
    return f"{key}-{n}"
