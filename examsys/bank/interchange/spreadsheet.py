"""Spreadsheets (CSV and XLSX) for examiners who author in Excel: one row per question,
the columns below; and the downloadable template that shows them.

Problems name the row (the header is row 1) and the column.
"""

import csv
import io
import re
import zipfile

from examsys.bank.interchange.common import MAX_FILE_BYTES, MAX_QUESTIONS, Item, Parsed, decode
from examsys.bank.yamlio import Problem
from examsys.core.i18n import _

LETTERS = "abcdefgh"
LANGS = ("en", "zh")
META_COLUMNS = ("key", "topic", "levels", "difficulty", "status", "tags", "reference")
COLUMNS = (*META_COLUMNS[:2], "type", *META_COLUMNS[2:], "stem_en", "stem_zh",
           *[f"option_{x}_{lang}" for x in LETTERS for lang in LANGS],
           "correct", "scoring", "answer", "tolerance", "unit", "pattern",
           "explanation_en", "explanation_zh")
# An XLSX is a zip of XML parts: refuse archives that would inflate past this.
MAX_UNZIPPED = 64 * 1024 * 1024
TRUE_WORDS = {"true", "t", "yes", "y", "1", "对", "正确", "是", "√"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "错", "错误", "否", "×"}
_POINTS = re.compile(r"^(.*?)\s*\((\d+(?:\.\d+)?)\)\s*$", re.DOTALL)


def parse_csv(name: str, data: bytes, options) -> Parsed:
    out = Parsed()
    text = decode(name, data, options.encoding, out.problems)
    if text is None:
        out.unreadable = True
        return out
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        out.problems.append(Problem(name, 0, "", _("not a readable CSV file: %(why)s",
                                                    why=str(exc))))
        out.unreadable = True
        return out
    _rows(name, rows, out)
    return out


def parse_xlsx(name: str, data: bytes, options) -> Parsed:
    out = Parsed()
    rows = _xlsx_rows(name, data, out)
    if rows is None:
        out.unreadable = True
    else:
        _rows(name, rows, out)
    return out


def _xlsx_rows(name: str, data: bytes, out: Parsed) -> list | None:
    def refuse(message: str) -> None:
        out.problems.append(Problem(name, 0, "", message))

    if len(data) > MAX_FILE_BYTES:
        refuse(_("file is larger than %(n)d MiB", n=MAX_FILE_BYTES // (1024 * 1024)))
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNZIPPED:
                refuse(_("the workbook unpacks to more than %(n)d MiB; refused",
                         n=MAX_UNZIPPED // (1024 * 1024)))
                return None
    except (zipfile.BadZipFile, ValueError):
        refuse(_("not an XLSX workbook (save it from Excel as .xlsx, or as CSV UTF-8)"))
        return None
    from openpyxl import load_workbook  # imported late: only workbook imports need it

    try:
        # openpyxl reads the XML parts through defusedxml when it is installed (it is).
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book["questions"] if "questions" in book.sheetnames else book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(["" if v is None else v for v in row])
            if len(rows) > MAX_QUESTIONS + 1:
                break
        book.close()
        return rows
    except Exception as exc:  # noqa: BLE001 - any failure of a hostile workbook is a 400
        refuse(_("not a readable XLSX workbook: %(why)s", why=type(exc).__name__))
        return None


def _cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(name: str, rows: list, out: Parsed) -> None:
    rows = [r for r in rows]
    if not rows:
        out.problems.append(Problem(name, 0, "", _("the file is empty")))
        return
    header = [_cell(h).lower() for h in rows[0]]
    for index, column in enumerate(header):
        if column and column not in COLUMNS:
            out.problems.append(Problem(name, 1, column, _("unknown column (see the template)")))
        elif column and column in header[:index]:
            out.problems.append(Problem(name, 1, column, _("column given twice")))
    if "type" not in header or not {"stem_en", "stem_zh"} & set(header):
        out.problems.append(Problem(name, 1, "", _("the first row names the columns; type "
                                                    "and stem_en or stem_zh are required")))
        return
    if len(rows) - 1 > MAX_QUESTIONS:
        out.problems.append(Problem(name, 0, "", _("more than %(n)d questions in one file",
                                                    n=MAX_QUESTIONS)))
        return
    for number, row in enumerate(rows[1:], start=2):
        values = {column: _cell(row[i]) if i < len(row) else ""
                  for i, column in enumerate(header) if column}
        values.update({column: _cell(row[i]) for i, column in enumerate(header)
                       if column and i < len(row) and isinstance(row[i], bool)})
        if not any(values.values()):
            continue  # blank rows between groups are fine
        if len(row) > len(header) and any(_cell(v) for v in row[len(header):]):
            out.problems.append(Problem(name, number, "", _("values beyond the last named "
                                                            "column")))
        out.items.append(_item(number, values, row, header, name, out))


def _texts(values: dict, prefix: str) -> dict:
    return {lang: values[f"{prefix}_{lang}"] for lang in LANGS if values.get(f"{prefix}_{lang}")}


def _item(number: int, values: dict, row, header, name: str, out: Parsed) -> Item:
    def problem(column: str, message: str) -> None:
        out.problems.append(Problem(name, number, column, message))

    meta = {}
    for column in META_COLUMNS:
        if values.get(column):
            meta[column] = values[column]
    if "levels" in meta:
        meta["levels"] = [v for v in re.split(r"[,;\s]+", meta["levels"]) if v]
    if "tags" in meta:
        meta["tags"] = [v.strip() for v in re.split(r"[,;]", meta["tags"]) if v.strip()]
    if "difficulty" in meta and meta["difficulty"].isdigit():
        meta["difficulty"] = int(meta["difficulty"])
    qtype = values.get("type", "")
    fields: dict = {"type": qtype, "stem": _texts(values, "stem")}
    if explanation := _texts(values, "explanation"):
        fields["explanation"] = explanation
    options = [(x, _texts(values, f"option_{x}")) for x in LETTERS]
    options = [(x, t) for x, t in options if t]
    answer = values.get("answer", "")
    if qtype in ("single_choice", "multiple_choice"):
        correct = {c.lower() for c in re.split(r"[,;\s]+", values.get("correct", "")) if c}
        for c in sorted(correct - {x for x, _t in options}):
            problem("correct", _("%(letter)s names no option", letter=c.upper()))
        fields["options"] = [{"id": x, "text": t, "correct": x in correct} for x, t in options]
        if qtype == "multiple_choice" and values.get("scoring"):
            fields["scoring"] = values["scoring"]
    elif qtype == "true_false":
        word = answer.lower()
        if word in TRUE_WORDS | FALSE_WORDS:
            fields["answer"] = word in TRUE_WORDS
        else:
            problem("answer", _("must be TRUE or FALSE"))
    elif qtype in ("numeric", "numeric_unit"):
        _numeric(values, fields, problem)
    elif qtype == "short_text":
        fields["answers"] = [a.strip() for a in answer.split("|") if a.strip()]
        if values.get("pattern"):
            fields["pattern"] = values["pattern"]
    elif qtype == "ordering":
        fields["options"] = [{"id": x, "text": t} for x, t in options]
        if values.get("scoring"):
            fields["scoring"] = values["scoring"]
    elif qtype == "matching":
        fields["pairs"], fields["distractors"] = [], []
        for x, texts in options:
            split = {lang: t.split("->", 1) for lang, t in texts.items()}
            if any(len(parts) != 2 for parts in split.values()):
                problem(f"option_{x}", _("a matching row is 'prompt -> match' "
                                         "('-> match' for an extra match)"))
                continue
            prompts = {lang: p[0].strip() for lang, p in split.items() if p[0].strip()}
            matches = {lang: p[1].strip() for lang, p in split.items()}
            if prompts:
                fields["pairs"].append({"id": x, "prompt": prompts, "match": matches})
            else:
                fields["distractors"].append({"id": x, "text": matches})
    elif qtype == "essay":
        rubric = []
        for x, texts in options:
            found = {lang: _POINTS.match(t) for lang, t in texts.items()}
            points = next((float(m.group(2)) for m in found.values() if m), None)
            if points is None:
                problem(f"option_{x}", _("a rubric criterion ends with its points, e.g. "
                                         "'Names the hazard (4)'"))
                continue
            rubric.append({"id": x, "points": int(points) if points.is_integer() else points,
                           "criterion": {lang: (m.group(1) if m else texts[lang]).strip()
                                         for lang, m in found.items()}})
        fields["rubric"] = rubric
        if answer:
            fields["model_answer"] = {next(iter(fields["stem"]), "en"): answer}
    return Item(line=number, fields=fields, meta=meta)


def _numeric(values: dict, fields: dict, problem) -> None:
    try:
        fields["answer"] = float(values.get("answer", "").replace(",", "."))
    except ValueError:
        problem("answer", _("must be a number"))
    tolerance = values.get("tolerance", "") or "0"
    try:
        if tolerance.endswith("%"):
            fields["tolerance"] = {"relative": float(tolerance[:-1]) / 100}
        else:
            fields["tolerance"] = {"absolute": float(tolerance)}
    except ValueError:
        problem("tolerance", _("must be a number (absolute) or a percentage such as 2%"))
    if values.get("unit"):
        fields["unit"] = values["unit"]


# The template ---------------------------------------------------------------------------

EXAMPLES = [
    {"key": "", "topic": "materials/cathode", "type": "single_choice",
     "levels": "assistant_engineer, skill_4", "difficulty": 2, "status": "draft",
     "tags": "lfp", "reference": "GB/T 31486-2015, 6.3.4",
     "stem_en": "What is the nominal voltage of a LiFePO4/graphite cell?",
     "stem_zh": "磷酸铁锂/石墨电芯的标称电压是多少？",
     "option_a_en": "3.2 V", "option_a_zh": "3.2 V", "option_b_en": "3.7 V",
     "option_b_zh": "3.7 V", "option_c_en": "4.2 V", "option_c_zh": "4.2 V", "correct": "A",
     "explanation_en": "LFP cells are rated at 3.2 V.",
     "explanation_zh": "磷酸铁锂电芯标称3.2 V。"},
    {"topic": "safety", "type": "multiple_choice", "levels": "engineer", "difficulty": 3,
     "stem_en": "Which conditions can trigger thermal runaway?",
     "option_a_en": "Overcharge", "option_b_en": "Internal short circuit",
     "option_c_en": "Storage at 20 °C", "option_d_en": "Nail penetration",
     "correct": "A, B, D", "scoring": "partial"},
    {"topic": "fundamentals", "type": "true_false", "levels": "skill_5", "difficulty": 1,
     "stem_zh": "锂离子电池放电时，锂离子从负极移向正极。", "answer": "TRUE"},
    {"topic": "fundamentals", "type": "numeric", "levels": "engineer", "difficulty": 3,
     "stem_en": "A 3.2 V, 100 Ah cell stores how many watt-hours?", "answer": 320,
     "tolerance": "1%", "unit": "Wh"},
]


def template_rows(available: set[str]) -> list[list]:
    """The header and one example per type the bank has."""
    rows = [list(COLUMNS)]
    for example in EXAMPLES:
        if example["type"] in available:
            rows.append([example.get(c, "") for c in COLUMNS])
    return rows


def template_csv(available: set[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(template_rows(available))
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def template_xlsx(available: set[str], notes: list[tuple[str, str]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "questions"
    for row in template_rows(available):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    help_sheet = book.create_sheet("columns")
    help_sheet.append(["column", "meaning"])
    for column, meaning in notes:
        help_sheet.append([column, meaning])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def column_notes() -> list[tuple[str, str]]:
    """What each column holds (the template's second sheet and docs/interchange.md)."""
    return [
        ("key", _("optional: LIB-CATH-0001 style; empty = derived from the stem")),
        ("topic", _("topic path such as materials/cathode (or the import's default topic)")),
        ("type", _("single_choice, multiple_choice, true_false, numeric, numeric_unit, "
                   "short_text, ordering, matching or essay")),
        ("levels", _("comma-separated level codes, e.g. engineer, skill_4")),
        ("difficulty", _("1 (easy) to 5 (hard)")),
        ("status", _("draft, review, active or retired")),
        ("tags", _("comma-separated words")),
        ("reference", _("standard and clause, e.g. GB/T 31486-2015, 6.3.4")),
        ("stem_en, stem_zh", _("the question in English and/or Chinese")),
        ("option_a_en … option_h_zh", _("options (choice), steps in the right order "
                                        "(ordering), 'prompt -> match' (matching) or "
                                        "'criterion (points)' (essay)")),
        ("correct", _("letters of the right options, e.g. A or A, C")),
        ("scoring", _("partial or all_or_nothing (multiple choice, ordering)")),
        ("answer", _("TRUE/FALSE, a number, accepted answers separated by | (short text), "
                     "or a model answer (essay)")),
        ("tolerance", _("absolute (0.05) or relative (2%)")),
        ("unit", _("unit of a numeric answer, e.g. Wh")),
        ("pattern", _("optional regular expression for short text")),
        ("explanation_en, explanation_zh", _("shown with results")),
    ]
