"""Importing bank files: validate everything, then write everything in one transaction.

Re-importing an unchanged question changes nothing; a changed one gets a new version
(the old version stays, so attempts drawn with it keep it).
"""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import inspect, select

from examsys.accounts.models import Role
from examsys.bank.models import (
    Question,
    QuestionLevel,
    QuestionVersion,
    Status,
    Topic,
    content_of,
)
from examsys.bank.sections import in_topics, section_types
from examsys.bank.types import REGISTRY, get_type
from examsys.bank.validation import BankDocument, QuestionRecord, parse_document
from examsys.bank.yamlio import Problem, Problems
from examsys.core import audit
from examsys.exams.models import Blueprint, Certification

# The bank check asks each section for this many times the items it draws, so that
# candidates sitting the same exam see different forms.
POOL_FACTOR = 3


@dataclass
class ImportReport:
    created: int = 0
    new_versions: int = 0
    unchanged: int = 0
    # Marked active in the file, sent for review instead: see ``effective_statuses``.
    to_review: int = 0
    topics: int = 0
    certifications: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def review_notice(report: ImportReport) -> str | None:
    """What an importer is told when questions it marked active went to review."""
    if not report.to_review:
        return None
    return ngettext("%(num)d question marked active was sent for review: another examiner "
                    "approves it before it can be drawn into an exam.",
                    "%(num)d questions marked active were sent for review: another examiner "
                    "approves them before they can be drawn into an exam.", report.to_review)


class ImportFailed(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def read_files(paths: list[Path]) -> tuple[BankDocument, list[Problem]]:
    """Read YAML files and folders (recursively, *.yaml and *.yml, sorted)."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), 0, "", _("no such file or folder")))
    doc = BankDocument()
    for f in files:
        collected = Problems(str(f))
        doc.extend(parse_document(str(f), f.read_bytes(), collected))
        problems += collected.items
    return doc, problems


def read_upload(name: str, data: bytes) -> tuple[BankDocument, list[Problem]]:
    collected = Problems(name)
    doc = parse_document(name, data, collected)
    return doc, collected.items


def check(session, doc: BankDocument, read_problems=(), *, publish: bool = True,
          statuses: dict[str, str] | None = None) -> list[Problem]:
    """Every problem of an import: those found reading its files, broken references and
    duplicates across files and the database, and (when all else is fine) blueprints the
    bank cannot fill (with the statuses the import will really give: ``statuses`` when the
    caller has them, else worked out for ``publish``)."""
    problems = list(read_problems) + _cross_check(session, doc)
    return problems or _check_pools(session, doc, publish, statuses)


def _cross_check(session, doc: BankDocument) -> list[Problem]:
    problems: list[Problem] = []
    db_topics = set(session.scalars(select(Topic.path))) if _has_schema(session) else set()
    topics = db_topics | {t.path for t in doc.topics}
    seen_topics: set[str] = set()
    for t in doc.topics:
        if t.path in seen_topics:
            problems.append(Problem(t.file, t.line, f"topics[{t.path}]",
                                    _("topic defined twice")))
        seen_topics.add(t.path)
    seen: dict[str, QuestionRecord] = {}
    for q in doc.questions:
        if q.key in seen:
            first = seen[q.key]
            problems.append(Problem(q.file, q.line, f"{q.key}.key",
                                    _("duplicate key (first at %(where)s)",
                                      where=f"{first.file}:{first.line}")))
        seen[q.key] = q
        if q.topic and q.topic not in topics:
            problems.append(Problem(q.file, q.line, f"{q.key}.topic",
                                    _("unknown topic %(topic)s", topic=repr(q.topic))))
    codes: set[str] = set()
    for c in doc.certifications:
        if c.code in codes:
            problems.append(Problem(c.file, c.line, f"{c.code}.code",
                                    _("certification defined twice")))
        codes.add(c.code)
        for s in c.blueprint.get("sections", []):
            for t in s["topics"]:
                if t not in topics:
                    problems.append(Problem(c.file, s["line"], f"{c.code}.blueprint.sections."
                                            f"{s['key']}.topics", _("unknown topic %(topic)s",
                                                                 topic=repr(t))))
    return problems


def _check_pools(session, doc: BankDocument, publish: bool,
                 statuses: dict[str, str] | None) -> list[Problem]:
    """Every section must find POOL_FACTOR × count active items (bank plus this import)."""
    if not doc.certifications:
        return []
    if statuses is None:
        statuses = effective_statuses(session, doc, publish)
    pool: dict[str, tuple[str, set[str], str]] = {}
    rows = [] if not _has_schema(session) else session.execute(
        select(Question.external_key, Topic.path, QuestionLevel.level, Question.type)
        .join(Topic, Question.topic_id == Topic.id)
        .join(QuestionLevel, QuestionLevel.question_id == Question.id)
        .where(Question.status == Status.ACTIVE))
    for key, path, level, qtype in rows:
        pool.setdefault(key, (path, set(), qtype))[1].add(level)
    for q in doc.questions:
        if statuses[q.key] == Status.ACTIVE:
            pool[q.key] = (q.topic, set(q.levels), q.type)
        else:
            pool.pop(q.key, None)
    problems = []
    for c in doc.certifications:
        drawn_total, eligible_all = 0, set()
        for s in c.blueprint["sections"]:
            types = set(section_types(s))
            eligible = {k for k, (path, levels, qtype) in pool.items()
                        if levels & set(s["levels"]) and in_topics(path, s["topics"])
                        and qtype in types}
            eligible_all |= eligible
            drawn_total += s["count"]
            need = POOL_FACTOR * s["count"]
            if len(eligible) < need:
                problems.append(Problem(
                    c.file, s["line"], f"{c.code}.blueprint.sections.{s['key']}",
                    _("draws %(count)d items but only %(found)d active items match "
                      "(need at least %(need)d for varied forms)", count=s["count"],
                      found=len(eligible), need=need)))
        if not problems and len(eligible_all) < drawn_total:
            problems.append(Problem(c.file, c.line, f"{c.code}.blueprint",
                                    _("sections draw %(count)d items from %(found)d",
                                      count=drawn_total, found=len(eligible_all))))
    return problems


def _has_schema(session) -> bool:
    """check-bank also works before the database has been set up."""
    return inspect(session.connection()).has_table(Topic.__tablename__)


def may_publish(user) -> bool:
    """Whether an import by ``user`` keeps the statuses its file declares (see
    effective_statuses): administrators, who load banks their committee has
    already reviewed. An examiner's questions marked active go to review."""
    return user.role == Role.ADMIN


def effective_statuses(session, doc: BankDocument, publish: bool,
                       existing: dict | None = None) -> dict[str, str]:
    """The status each question of ``doc`` will have once imported.

    ``publish`` (an import by the system: ``examsys import-bank``, ``examsys init``, a
    deployment) keeps the statuses the files declare. A person's import never publishes:
    a question marked active whose content is new or changed goes to review instead, for
    another examiner to approve (four eyes, as for an edit in the bank's pages); one that
    is already active with the same content stays active. ``existing``: what
    ``_existing`` returned, when the caller has it.
    """
    if publish or not any(q.status == Status.ACTIVE for q in doc.questions):
        return {q.key: q.status for q in doc.questions}
    if existing is None:
        existing = _existing(session, doc)
    out = {}
    for rec in doc.questions:
        question, current = existing.get(rec.key, (None, None))
        unchanged = (question is not None and question.status == Status.ACTIVE
                     and current is not None and content_of(current) == content_of(rec))
        out[rec.key] = Status.REVIEW if rec.status == Status.ACTIVE and not unchanged \
            else rec.status
    return out


def _existing(session, doc: BankDocument) -> dict[str, tuple[Question, QuestionVersion | None]]:
    """The questions of ``doc`` already in the bank, each with its current version."""
    keys = [q.key for q in doc.questions]
    if not keys or not _has_schema(session):
        return {}
    questions = session.scalars(select(Question).where(Question.external_key.in_(keys))).all()
    versions = {v.id: v for v in session.scalars(select(QuestionVersion).where(
        QuestionVersion.id.in_([q.current_version_id for q in questions])))}
    return {q.external_key: (q, versions.get(q.current_version_id)) for q in questions}


def apply(session, now: datetime, doc: BankDocument, actor_id: int | None,
          read_problems=(), *, publish: bool | None = None) -> ImportReport:
    """Check everything (see :func:`check`), then write all of ``doc`` or raise ImportFailed.

    ``publish`` defaults to whether the system imports (no ``actor_id``): see
    :func:`effective_statuses`. The caller commits; on ImportFailed nothing has been added
    to the session.
    """
    publish = actor_id is None if publish is None else publish
    # The bank's copies of these questions, read once for the statuses, the check and
    # the writes.
    existing = _existing(session, doc)
    statuses = effective_statuses(session, doc, publish, existing)
    problems = check(session, doc, read_problems, statuses=statuses)
    if problems:
        raise ImportFailed(problems)
    report = ImportReport()
    topics = {t.path: t for t in session.scalars(select(Topic))}
    for rec in doc.topics:
        topic = topics.get(rec.path)
        if topic is None:
            parent = topics.get(rec.parent) if rec.parent else None
            topic = Topic(path=rec.path, parent_id=parent.id if parent else None,
                          name_en=rec.name_en, name_zh=rec.name_zh)
            session.add(topic)
            session.flush()
            topics[rec.path] = topic
            report.topics += 1
        elif (topic.name_en, topic.name_zh) != (rec.name_en, rec.name_zh):
            topic.name_en, topic.name_zh = rec.name_en, rec.name_zh
    for rec in doc.questions:
        question, current = existing.get(rec.key, (None, None))
        _apply_question(session, now, rec, statuses[rec.key], topics[rec.topic], question,
                        current, actor_id, report)
    for rec in doc.certifications:
        _apply_certification(session, now, rec, actor_id, report)
    session.flush()
    return report


def _apply_question(session, now, rec, status, topic, question, current, actor_id, report):
    content = content_of(rec)
    report.to_review += status != rec.status
    if question is not None:
        same = current is not None and content_of(current) == content
        if same and question.topic_id == topic.id and question.status == status and set(
                question.level_codes) == set(rec.levels):
            report.unchanged += 1
            return
        number = (current.number if current else 0) + 1
        report.new_versions += 0 if same else 1
        report.unchanged += 1 if same else 0
    else:
        question = Question(external_key=rec.key)
        session.add(question)
        number, same = 1, False
        report.created += 1
    question.topic_id = topic.id
    question.status = status
    question.type = rec.type
    question.difficulty = rec.difficulty
    question.search_text = search_text(rec.payload, rec.type)
    wanted = set(rec.levels)
    question.levels = [lv for lv in question.levels if lv.level in wanted] + [
        QuestionLevel(level=lv) for lv in sorted(wanted - set(question.level_codes))]
    session.flush()
    if not same:
        version = QuestionVersion(question_id=question.id, number=number, author_id=actor_id,
                                  created_at=now, **content)
        session.add(version)
        session.flush()
        question.current_version_id = version.id
        audit.record(session, now, actor_id, "question.version", question,
                     {"version": number})


def search_text(payload: dict, qtype: str | None = None) -> str:
    """The lower-cased words a bank search looks through: stem and every other text."""
    texts = list(payload["stem"].values())
    extra = get_type(qtype).texts(payload) if qtype in REGISTRY else [
        (None, o["text"]) for o in payload.get("options", [])]
    for _field, text in extra:
        texts += (text or {}).values()
    return " ".join(texts).lower()


def _apply_certification(session, now, rec, actor_id, report):
    cert = session.scalar(select(Certification).where(Certification.code == rec.code))
    if cert is None:
        cert = Certification(code=rec.code)
        session.add(cert)
    cert.name_en, cert.name_zh = rec.name_en, rec.name_zh
    cert.level, cert.validity_months = rec.level, rec.validity_months
    cert.max_attempts, cert.retake_cooldown_hours = rec.max_attempts, rec.retake_cooldown_hours
    cert.avoid_seen_items = rec.avoid_seen_items
    session.flush()
    sections = [{k: v for k, v in s.items() if k != "line"} for s in rec.blueprint["sections"]]
    fields = ("time_limit_minutes", "shuffle_options", "sequential", "double_marking",
              "marking_tolerance")
    wanted = {f: rec.blueprint[f] for f in fields}
    wanted.update(pass_mark=float(rec.blueprint["pass_mark"]), sections=sections)
    current = cert.current_blueprint
    if current is not None and {f: getattr(current, f) for f in wanted} == wanted:
        return
    blueprint = Blueprint(certification_id=cert.id, created_at=now, **wanted)
    session.add(blueprint)
    session.flush()
    cert.current_blueprint_id = blueprint.id
    report.certifications += 1
    audit.record(session, now, actor_id, "certification.blueprint", cert,
                 {"blueprint": blueprint.id})
