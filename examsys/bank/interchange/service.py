"""Import and export in any interchange format: read → complete → validate → find
duplicates (prepare), then write everything in the caller's one transaction (commit).
"""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath

from sqlalchemy import select

from examsys.bank import importer
from examsys.bank.interchange import answers, gift, moodle_xml, spreadsheet
from examsys.bank.interchange.build import Builder
from examsys.bank.interchange.common import MAX_QUESTIONS, ImportOptions, Parsed
from examsys.bank.interchange.duplicates import Duplicate, find
from examsys.bank.models import Question, QuestionVersion, Topic
from examsys.bank.validation import BankDocument
from examsys.bank.yamlio import Problem
from examsys.core.i18n import _

READERS = {"gift": gift.parse, "moodle_xml": moodle_xml.parse, "csv": spreadsheet.parse_csv,
           "xlsx": spreadsheet.parse_xlsx}
IMPORT_FORMATS = ("gift", "moodle_xml", "csv", "xlsx", "yaml")
EXPORT_FORMATS = ("gift", "moodle_xml")
EXTENSIONS = {".gift": "gift", ".txt": "gift", ".xml": "moodle_xml", ".csv": "csv",
              ".xlsx": "xlsx", ".yaml": "yaml", ".yml": "yaml"}
# Questions written per importer.apply() call, so that the CLI can show progress.
BATCH = 100


class DuplicatesFound(Exception):
    def __init__(self, duplicates: list[Duplicate]):
        super().__init__(f"{len(duplicates)} duplicate(s)")
        self.duplicates = duplicates


@dataclass
class Prepared:
    doc: BankDocument
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    unreadable: bool = False


@dataclass
class Upload:
    name: str
    data: bytes
    format: str


class Progress:
    """What prepare() and commit() report to; the CLI shows it as progress bars."""

    def start(self, label: str, total: int) -> None:
        pass

    def update(self, n: int) -> None:
        pass

    def finish(self) -> None:
        pass


def detect_format(filename: str, wanted: str = "auto") -> str | None:
    if wanted and wanted != "auto":
        return wanted if wanted in IMPORT_FORMATS else None
    return EXTENSIONS.get(PurePath(filename or "").suffix.lower())


def prepare(session, uploads: list[Upload], options: ImportOptions,
            progress: Progress | None = None) -> Prepared:
    """Read and check every file without writing: problems (file, line, field), warnings
    (meaning the bank cannot keep) and duplicates, across all files and the bank."""
    progress = progress or Progress()
    builder = Builder(session, options)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    parsed: list[tuple[Upload, Parsed]] = []
    unreadable = False
    for upload in uploads:
        if upload.format == "yaml":
            doc, found = importer.read_upload(upload.name, upload.data)
            builder.doc.extend(doc)
            problems += found
            unreadable |= bool(found) and not (doc.topics or doc.questions
                                               or doc.certifications)
        else:
            one = READERS[upload.format](upload.name, upload.data, options)
            problems += one.problems
            warnings += one.warnings
            unreadable |= one.unreadable
            parsed.append((upload, one))
    total = sum(len(one.items) for _u, one in parsed)
    if total > MAX_QUESTIONS:
        problems.append(Problem(uploads[0].name, 0, "", _(
            "more than %(n)d questions in one import", n=MAX_QUESTIONS)))
        return Prepared(builder.doc, problems, warnings, unreadable=True)
    progress.start(_("Checking"), total)
    for upload, one in parsed:
        problems += builder.add(upload.name, one.items, progress.update)
    progress.finish()
    problems = importer.check(session, builder.doc, problems)
    prepared = Prepared(builder.doc, problems, warnings, unreadable=unreadable)
    if not problems:
        prepared.duplicates = find(session, builder.doc)
    return prepared


def commit(session, now: datetime, prepared: Prepared, actor_id: int | None, *,
           allow_duplicates: bool = False, publish: bool | None = None,
           progress: Progress | None = None) -> importer.ImportReport:
    """Write a prepared import (the caller commits, or rolls back on any exception).

    Raises importer.ImportFailed for problems and DuplicatesFound for unconfirmed
    duplicates; in either case nothing has been written."""
    if prepared.problems:
        raise importer.ImportFailed(prepared.problems)
    if prepared.duplicates and not allow_duplicates:
        raise DuplicatesFound(prepared.duplicates)
    doc = prepared.doc
    progress = progress or Progress()
    progress.start(_("Writing"), len(doc.questions))
    total = importer.ImportReport()
    questions = doc.questions
    chunks = [questions[i:i + BATCH] for i in range(0, len(questions), BATCH)] or [[]]
    for n, chunk in enumerate(chunks):
        part = BankDocument(topics=doc.topics if n == 0 else [], questions=chunk,
                            certifications=doc.certifications if n == len(chunks) - 1 else [])
        report = importer.apply(session, now, part, actor_id, publish=publish)
        for name in ("created", "new_versions", "unchanged", "to_review", "topics",
                     "certifications"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        progress.update(len(chunk))
    progress.finish()
    return total


# Export ------------------------------------------------------------------------------

def export_questions(session, lang: str, topic: str | None = None,
                     status: str | None = None) -> list[answers.ExportQuestion]:
    """The current version of every question (under ``topic``, with ``status``), in topic
    and key order, in a fixed number of queries."""
    names = {t.path: t.name(lang) for t in session.scalars(select(Topic))}
    query = select(Question, QuestionVersion).join(
        QuestionVersion, QuestionVersion.id == Question.current_version_id).join(
        Topic, Topic.id == Question.topic_id)
    if topic:
        query = query.where((Topic.path == topic) | Topic.path.startswith(topic + "/"))
    if status:
        query = query.where(Question.status == status)
    out = []
    for question, version in session.execute(query.order_by(Topic.path,
                                                             Question.external_key)):
        path = question.topic.path
        parts = path.split("/")
        category = [names.get("/".join(parts[:i + 1]), parts[i]) for i in range(len(parts))]
        meta = {"key": question.external_key, "topic": path, "levels": question.level_codes,
                "difficulty": version.difficulty, "status": question.status}
        if version.tags:
            meta["tags"] = version.tags
        if version.reference:
            meta["reference"] = version.reference
        if version.payload.get("scoring"):
            meta["scoring"] = version.payload["scoring"]
        out.append(answers.ExportQuestion(question.external_key, version.type,
                                          version.payload, category, meta))
    return out


def export(session, fmt: str, lang: str, topic: str | None = None,
           status: str | None = None) -> tuple[bytes, list[str]]:
    """The file's bytes and notes on what the format could not carry."""
    questions = export_questions(session, lang, topic, status)
    if fmt == "gift":
        text, notes = gift.write(questions, lang)
        return text.encode("utf-8"), notes
    if fmt == "moodle_xml":
        return moodle_xml.write(questions, lang)
    raise ValueError(_("unknown export format %(fmt)s", fmt=fmt))
