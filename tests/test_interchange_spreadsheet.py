"""Spreadsheet import (CSV and XLSX) and the downloadable template."""

import csv
import io
import zipfile

from openpyxl import Workbook, load_workbook

from examsys.bank.interchange import service, spreadsheet
from examsys.bank.interchange.common import ImportOptions
from examsys.bank.types import REGISTRY
from examsys.core.clock import utcnow
from examsys.extensions import db

OPTIONS = ImportOptions(levels=["engineer"], topic="chem")


def prepare(data: bytes, fmt: str, name: str | None = None, options=OPTIONS):
    return service.prepare(db.session, [service.Upload(name or f"q.{fmt}", data, fmt)],
                           options)


def to_csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def to_xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HEADER = ["key", "topic", "type", "levels", "difficulty", "stem_en", "stem_zh",
          "option_a_en", "option_b_en", "option_c_en", "correct", "answer", "tolerance",
          "unit"]
ROWS = [
    HEADER,
    ["XL-0001", "chem", "single_choice", "engineer", 2, "Nominal voltage of LFP?", "",
     "3.2 V", "3.7 V", "4.2 V", "A", "", "", ""],
    ["", "", "true_false", "", "", "", "锂是金属。", "", "", "", "", "对", "", ""],
    ["", "", "numeric", "", 4, "Energy of 3.2 V × 100 Ah?", "", "", "", "", "", 320, "1%",
     "Wh"],
    ["", "", "short_text", "", "", "Anode material?", "", "", "", "", "", "graphite | carbon",
     "", ""],
    ["", "", "multiple_choice", "skill_4; skill_3", "", "Which trigger runaway?", "",
     "Overcharge", "Short circuit", "Cooling", "A, B", "", "", ""],
]


def check_rows(prepared):
    assert prepared.problems == []
    q = {x.line: x for x in prepared.doc.questions}
    assert q[2].key == "XL-0001" and q[2].difficulty == 2
    assert q[2].payload["options"][0]["correct"] is True
    assert q[3].payload == {"stem": {"zh": "锂是金属。"}, "explanation": None, "answer": True}
    assert q[3].topic == "chem" and q[3].levels == ["engineer"]   # the import's defaults
    assert q[4].payload["tolerance"] == {"relative": 0.01} and q[4].payload["unit"] == "Wh"
    assert q[5].payload["answers"] == ["graphite", "carbon"]
    assert q[6].levels == ["skill_4", "skill_3"]
    assert [o["correct"] for o in q[6].payload["options"]] == [True, True, False]


def test_csv_rows_become_questions(app, bank):
    check_rows(prepare(to_csv(ROWS), "csv"))


def test_xlsx_rows_become_questions(app, bank):
    check_rows(prepare(to_xlsx(ROWS), "xlsx"))


def test_gb18030_csv_from_chinese_excel(app, bank):
    data = to_csv(ROWS).decode().encode("gb18030")
    refused = prepare(data, "csv")
    assert refused.unreadable and "gb18030" in refused.problems[0].message
    options = ImportOptions(levels=["engineer"], topic="chem", encoding="gb18030")
    check_rows(prepare(data, "csv", options=options))


def test_problems_name_row_and_column(app, bank):
    rows = [HEADER + ["colour"],
            ["", "", "single_choice", "", "", "Q?", "", "a", "b", "", "C", "", "", "", ""],
            ["", "", "true_false", "", "", "Q2?", "", "", "", "", "", "maybe", "", "", ""]]
    prepared = prepare(to_csv(rows), "csv")
    where = {(p.line, p.field) for p in prepared.problems}
    assert (1, "colour") in where
    assert (2, "correct") in where
    assert (3, "answer") in where


def test_the_template_imports_cleanly_in_both_forms(app, bank):
    available = set(REGISTRY)
    xlsx = spreadsheet.template_xlsx(available, spreadsheet.column_notes())
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames == ["questions", "columns"]
    options = ImportOptions()
    for data, fmt in ((xlsx, "xlsx"), (spreadsheet.template_csv(available), "csv")):
        prepared = prepare(data, fmt, options=options)
        # The examples name topics of the real bank; the mini bank has chem and safety.
        assert all("topic" in p.field for p in prepared.problems), prepared.problems
        assert len(prepared.doc.questions) == len(spreadsheet.EXAMPLES)


def test_template_examples_import_into_a_bank_with_their_topics(app):
    from examsys.bank.validation import TopicRecord

    prepared = prepare(spreadsheet.template_csv(set(REGISTRY)), "csv", options=ImportOptions())
    topics = {q.topic for q in prepared.doc.questions}
    prepared.doc.topics = [TopicRecord(p, p.rpartition("/")[0] or None, p, p)
                           for p in sorted({t.split("/")[0] for t in topics} | topics)]
    prepared.problems = []
    report = service.commit(db.session, utcnow(), prepared, None)
    assert report.created == len(spreadsheet.EXAMPLES)


def test_hostile_workbooks_are_unreadable(app):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/big.xml", b"\0" * (spreadsheet.MAX_UNZIPPED + 1))
    for data in (b"not a zip at all", bomb.getvalue(), _zip_with(b"<junk")):
        prepared = prepare(data, "xlsx")
        assert prepared.unreadable and prepared.problems


def _zip_with(content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", content)
    return buffer.getvalue()
