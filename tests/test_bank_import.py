"""Importing and checking question banks: the importer, the CLI (import-bank, check-bank),
the web import page, and the bank's list and preview pages."""

import html
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from examsys.accounts.models import Role
from examsys.bank import importer
from examsys.bank.models import Question, QuestionLevel, QuestionVersion, Topic
from examsys.cli import BANK_DIR
from examsys.core.audit import AuditEvent
from examsys.core.clock import utcnow
from examsys.exams.models import Blueprint, Certification
from examsys.extensions import db

from .conftest import MINI_BANK, add_user, csrf_from, login_page

MODELS = (Topic, Question, QuestionLevel, QuestionVersion, Certification, Blueprint, AuditEvent)


def snapshot() -> dict[str, int]:
    """Row counts of everything an import may write."""
    db.session.rollback()  # see what is committed, not what a failed command left pending
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
            for m in MODELS}


EMPTY = {m.__tablename__: 0 for m in MODELS}


def line_of(text: str, marker: str) -> int:
    """The 1-based line holding ``marker`` (which must occur once)."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def cli_problems(output: str) -> set[tuple[str, int, str]]:
    """(file, line, field) of every problem the CLI printed."""
    found = re.findall(r"^\s+(.+?\.ya?ml):(\d+): ([^\s:]+): ", output, re.MULTILINE)
    return {(f, int(n), field) for f, n, field in found}


def page_problems(body: str) -> list[tuple[str, int, str, str]]:
    """(file, line, field, message) of every problem listed on the import page."""
    found = re.findall(r"<li><code>(.*?)(?::(\d+))?</code> (?:<strong>(.*?)</strong>: )?(.*?)</li>",
                       body)
    return [(html.unescape(f), int(n or 0), html.unescape(field), html.unescape(msg))
            for f, n, field, msg in found]


def question(key: str) -> Question:
    return db.session.scalar(select(Question).where(Question.external_key == key))


def versions_of(key: str) -> list[QuestionVersion]:
    return list(db.session.scalars(select(QuestionVersion).join(
        Question, QuestionVersion.question_id == Question.id).where(
        Question.external_key == key).order_by(QuestionVersion.number)))


# A small valid document: one topic and one question, used as the base of the bad files.
VALID_DOC = """\
topics:
  - key: chem
    name: {en: Chemistry, zh: 化学}
questions:
  - key: GOOD-0001
    topic: chem
    type: true_false
    levels: [engineer]
    difficulty: 1
    stem: {en: "Lithium is a metal.", zh: "锂是金属。"}
    answer: true
  - key: GOOD-0002
    topic: chem
    type: true_false
    levels: [engineer, skill_3]
    difficulty: 2
    stem: {en: "Graphite is a metal.", zh: "石墨是金属。"}
    answer: false
"""

# Every question after GOOD-0001 is wrong in one way that one file alone can show.
PARSE_ERRORS = VALID_DOC + """\
  - key: BAD-TYPE
    topic: chem
    type: crossword
    levels: [engineer]
    difficulty: 1
    stem: {en: "Write an essay.", zh: "写一篇文章。"}
  - topic: chem          # no key
    type: true_false
    levels: [engineer]
    difficulty: 1
    stem: {en: "No key here.", zh: "没有键。"}
    answer: false
  - key: BAD-LEVELS
    topic: chem
    type: true_false
    levels: [wizard]
    difficulty: 1
    stem: {en: "Levels are wrong.", zh: "级别错误。"}
    answer: true
  - key: TWO-RIGHT
    topic: chem
    type: single_choice
    levels: [engineer]
    difficulty: 2
    stem: {en: "Pick one.", zh: "选一个。"}
    options:
      - {id: a, correct: true, text: {en: "one", zh: "一"}}
      - {id: b, correct: true, text: {en: "two", zh: "二"}}
      - {id: c, text: {en: "three", zh: "三"}}
  - key: NO-TOL
    topic: chem
    type: numeric
    levels: [engineer]
    difficulty: 3
    stem: {en: "Energy of a 2 Ah 3 V cell?", zh: "2 Ah 3 V 电芯的能量？"}
    answer: 6.0
    unit: Wh
  - key: LANG-MIX
    topic: chem
    type: single_choice
    levels: [engineer]
    difficulty: 1
    stem: {en: "Mixed languages.", zh: "混合语言。"}
    options:
      - {id: a, correct: true, text: {en: "yes", zh: "是"}}
      - {id: b, text: {en: "no"}}
"""

CROSS_ERRORS = """\
  - key: LOST-TOPIC
    topic: nowhere/at_all
    type: true_false
    levels: [engineer]
    difficulty: 1
    stem: {en: "Where am I?", zh: "我在哪里？"}
    answer: true
"""

SECOND_FILE = """\
questions:
  - key: OTHER-0001
    topic: chem
    type: true_false
    levels: [engineer]
    difficulty: 1
    stem: {en: "Another question.", zh: "另一道题。"}
    answer: true
  - key: GOOD-0002
    topic: chem
    type: true_false
    levels: [engineer]
    difficulty: 1
    stem: {en: "Same key as in the first file.", zh: "与第一个文件同键。"}
    answer: true
"""


def expected_parse_problems(name: str) -> set[tuple[str, int, str]]:
    """Each problem on its field's line; a missing field on its question's line."""
    t = PARSE_ERRORS
    return {
        (name, line_of(t, "type: crossword"), "BAD-TYPE.type"),
        (name, line_of(t, "# no key"), "key"),
        (name, line_of(t, "levels: [wizard]"), "BAD-LEVELS.levels"),
        (name, line_of(t, '{en: "one", zh: "一"}') - 1, "TWO-RIGHT.options"),  # "options:"
        (name, line_of(t, "key: NO-TOL"), "NO-TOL.tolerance"),
        (name, line_of(t, '{id: b, text: {en: "no"}}'), "LANG-MIX.options[1].text"),
    }


# --- the command line --------------------------------------------------------------------

def test_import_creates_questions_versions_topics_and_certification(app, runner):
    result = runner.invoke(args=["import-bank", str(MINI_BANK)])
    assert result.exit_code == 0, result.output
    assert "24 new questions" in result.output
    counts = snapshot()
    assert counts["question"] == counts["question_version"] == 24
    assert counts["question_level"] == 48
    assert {t.path for t in db.session.scalars(select(Topic))} == {"chem", "chem/cells",
                                                                   "safety"}
    assert db.session.scalar(select(Topic).where(Topic.path == "chem/cells")).parent_id == \
        db.session.scalar(select(Topic.id).where(Topic.path == "chem"))
    assert all(v.number == 1 for v in db.session.scalars(select(QuestionVersion)))
    q = question("T-0004")
    assert (q.type, q.topic.path, q.level_codes, q.status) == (
        "numeric", "chem/cells", ["engineer", "skill_3"], "active")
    assert q.current_version.payload["answer"] == 6.0
    assert q.current_version.payload["tolerance"] == {"relative": 0.01}
    cert = db.session.scalar(select(Certification).where(Certification.code == "TEST-CERT"))
    bp = cert.current_blueprint
    assert (cert.level, cert.validity_months) == ("engineer", 24)
    assert (bp.time_limit_minutes, bp.pass_mark, bp.shuffle_options) == (30, 60.0, True)
    assert [(s["key"], s["topics"], s["count"], s["points"]) for s in bp.sections] == [
        ("chem", ["chem"], 4, 2), ("safety", ["safety"], 4, 1)]


def test_reimporting_an_unchanged_bank_changes_nothing(app, runner):
    assert runner.invoke(args=["import-bank", str(MINI_BANK)]).exit_code == 0
    before = snapshot()
    current = {q.external_key: q.current_version_id for q in db.session.scalars(select(Question))}
    again = runner.invoke(args=["import-bank", str(MINI_BANK)])
    assert again.exit_code == 0, again.output
    assert "0 new questions, 0 new versions, 24 unchanged" in again.output
    assert "0 certification updates" in again.output
    assert snapshot() == before
    assert {q.external_key: q.current_version_id
            for q in db.session.scalars(select(Question))} == current


def test_changed_stem_creates_version_2_and_keeps_version_1(app, runner, tmp_path):
    assert runner.invoke(args=["import-bank", str(MINI_BANK)]).exit_code == 0
    original = versions_of("T-0001")[0]
    original_payload, original_id = dict(original.payload), original.id
    changed = MINI_BANK.read_text(encoding="utf-8").replace(
        '"Question 1 stem"', '"Question 1 stem, reworded"')
    result = runner.invoke(args=["import-bank", str(write(tmp_path, "bank.yaml", changed))])
    assert result.exit_code == 0, result.output
    assert "0 new questions, 1 new versions, 23 unchanged" in result.output
    db.session.expire_all()
    v1, v2 = versions_of("T-0001")
    assert (v1.id, v1.number, v1.payload) == (original_id, 1, original_payload)
    assert v2.number == 2 and v2.payload["stem"]["en"] == "Question 1 stem, reworded"
    assert v2.payload["options"] == v1.payload["options"]
    assert question("T-0001").current_version_id == v2.id
    assert "reworded" in question("T-0001").search_text
    assert [len(versions_of(f"T-{n:04d}")) for n in range(2, 25)] == [1] * 23


def test_changed_levels_only_updates_the_question_without_a_new_version(app, runner, tmp_path):
    assert runner.invoke(args=["import-bank", str(MINI_BANK)]).exit_code == 0
    text = MINI_BANK.read_text(encoding="utf-8")
    start = text.index("key: T-0003")
    changed = text[:start] + text[start:].replace("levels: [engineer, skill_3]",
                                                  "levels: [engineer]", 1)
    result = runner.invoke(args=["import-bank", str(write(tmp_path, "bank.yaml", changed))])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert question("T-0003").level_codes == ["engineer"]
    assert len(versions_of("T-0003")) == 1


def test_dry_run_reports_what_would_happen_and_writes_nothing(app, runner):
    result = runner.invoke(args=["import-bank", "--dry-run", str(MINI_BANK)])
    assert result.exit_code == 0, result.output
    assert "Would import: 24 new questions" in result.output
    assert snapshot() == EMPTY


def test_dry_run_of_a_change_creates_no_version(app, bank, runner, tmp_path):
    before = snapshot()
    changed = MINI_BANK.read_text(encoding="utf-8").replace('"Question 2 stem"', '"Changed"')
    result = runner.invoke(args=["import-bank", "--dry-run",
                                 str(write(tmp_path, "bank.yaml", changed))])
    assert result.exit_code == 0, result.output
    assert "1 new versions" in result.output
    assert snapshot() == before
    assert len(versions_of("T-0002")) == 1


def test_parse_problems_are_all_reported_with_file_line_and_field(app, runner, tmp_path):
    path = write(tmp_path, "invalid.yaml", PARSE_ERRORS)
    result = runner.invoke(args=["import-bank", str(path)])
    assert result.exit_code == 1
    assert cli_problems(result.stderr) == expected_parse_problems(str(path))
    assert "6 problem(s); nothing was written." in result.stderr
    assert snapshot() == EMPTY  # not even the valid topic and GOOD-0001


def test_unknown_topic_and_duplicate_key_across_files_are_reported(app, runner, tmp_path):
    first = write(tmp_path, "a.yaml", VALID_DOC + CROSS_ERRORS)
    second = write(tmp_path, "b.yaml", SECOND_FILE)
    result = runner.invoke(args=["import-bank", str(first), str(second)])
    assert result.exit_code == 1
    assert cli_problems(result.stderr) == {
        (str(first), line_of(VALID_DOC + CROSS_ERRORS, "key: LOST-TOPIC"), "LOST-TOPIC.topic"),
        (str(second), line_of(SECOND_FILE, "key: GOOD-0002"), "GOOD-0002.key"),
    }
    first_at = f"{first}:{line_of(VALID_DOC, 'key: GOOD-0002')}"
    assert first_at in result.stderr  # the duplicate names where the key was first used
    assert "'nowhere/at_all'" in result.stderr
    assert snapshot() == EMPTY


def test_a_folder_is_read_recursively_and_reports_the_duplicate(app, runner, tmp_path):
    write(tmp_path, "a.yaml", VALID_DOC)
    (tmp_path / "more").mkdir()
    second = write(tmp_path / "more", "b.yml", SECOND_FILE)
    write(tmp_path, "notes.txt", "not a bank file: {{{")
    result = runner.invoke(args=["import-bank", str(tmp_path)])
    assert result.exit_code == 1
    assert cli_problems(result.stderr) == {
        (str(second), line_of(SECOND_FILE, "key: GOOD-0002"), "GOOD-0002.key")}


def test_every_problem_of_an_invalid_import_is_reported_at_once(app, runner, tmp_path):
    first = write(tmp_path, "a.yaml", PARSE_ERRORS + CROSS_ERRORS)
    second = write(tmp_path, "b.yaml", SECOND_FILE)
    result = runner.invoke(args=["import-bank", str(first), str(second)])
    assert result.exit_code == 1
    expected = expected_parse_problems(str(first)) | {
        (str(first), line_of(PARSE_ERRORS + CROSS_ERRORS, "key: LOST-TOPIC"),
         "LOST-TOPIC.topic"),
        (str(second), line_of(SECOND_FILE, "key: GOOD-0002"), "GOOD-0002.key")}
    assert cli_problems(result.stderr) == expected
    assert snapshot() == EMPTY


def test_a_topic_defined_twice_is_reported_with_its_file_and_line(app, runner, tmp_path):
    first = write(tmp_path, "a.yaml", VALID_DOC)
    second = write(tmp_path, "b.yaml", VALID_DOC.split("questions:")[0])
    result = runner.invoke(args=["import-bank", str(first), str(second)])
    assert result.exit_code == 1
    assert cli_problems(result.stderr) == {
        (str(second), line_of(VALID_DOC, "key: chem"), "topics[chem]")}
    assert snapshot() == EMPTY


HUGE_ANSWER = VALID_DOC + """\
  - key: HUGE-0001
    topic: chem
    type: numeric
    levels: [engineer]
    difficulty: 1
    stem: {en: "How many?", zh: "多少？"}
    answer: """ + "9" * 400 + """
    tolerance: {absolute: 1}
"""


def test_a_numeric_answer_too_large_is_a_problem_not_a_crash(app, runner, tmp_path):
    path = write(tmp_path, "huge_answer.yaml", HUGE_ANSWER)
    result = runner.invoke(args=["import-bank", str(path)])
    assert result.exit_code == 1
    assert cli_problems(result.stderr) == {
        (str(path), line_of(HUGE_ANSWER, "answer: 999"), "HUGE-0001.answer")}
    assert snapshot() == EMPTY


def test_a_missing_path_is_a_problem(app, runner, tmp_path):
    result = runner.invoke(args=["import-bank", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "nope.yaml" in result.stderr
    assert snapshot() == EMPTY


BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
questions: [*g, *g, *g, *g, *g, *g, *g, *g, *g]
"""
REUSED_LEVELS = VALID_DOC.replace("levels: [engineer]\n", "levels: &lv [engineer]\n", 1) \
    .replace("levels: [engineer, skill_3]", "levels: *lv")
BROKEN_SYNTAX = VALID_DOC.replace("    difficulty: 2\n", "    difficulty: 2: or 3\n")

# name, content, what the problem says, its line (0: the whole file)
UNREADABLE = [
    ("gbk.yaml", VALID_DOC.encode("gbk"), "UTF-8", 0),
    ("huge.yaml", VALID_DOC.encode() + b"#" * (5 * 1024 * 1024) + b"\n", "5 MiB", 0),
    ("laughs.yaml", BILLION_LAUGHS.encode(), "alias", 2),
    ("anchors.yaml", REUSED_LEVELS.encode(), "alias", line_of(REUSED_LEVELS, "*lv")),
    ("list.yaml", b"- key: GOOD-0001\n  topic: chem\n  type: true_false\n", "mapping", 1),
    ("syntax.yaml", BROKEN_SYNTAX.encode(), "YAML", line_of(BROKEN_SYNTAX, "2: or 3")),
]


@pytest.mark.parametrize(("name", "content", "says", "line"), UNREADABLE,
                         ids=[u[0] for u in UNREADABLE])
def test_unreadable_file_is_a_clear_problem_on_the_cli(app, runner, tmp_path, name, content,
                                                       says, line):
    path = write(tmp_path, name, content)
    for command in ("import-bank", "check-bank"):
        result = runner.invoke(args=[command, str(path)])
        assert result.exit_code == 1, (command, result.output)
        shown = f"{path}:{line}: " if line else f"{path}: "
        assert shown in result.stderr
        assert says in result.stderr
    assert snapshot() == EMPTY


def test_check_bank_writes_nothing_for_a_valid_bank(app, runner):
    result = runner.invoke(args=["check-bank", str(MINI_BANK)])
    assert result.exit_code == 0, result.output
    assert "OK: 24 questions, 3 topics, 1 certifications" in result.output
    assert snapshot() == EMPTY


def test_check_bank_writes_no_new_version_for_a_changed_bank(app, bank, runner, tmp_path):
    before = snapshot()
    changed = MINI_BANK.read_text(encoding="utf-8").replace('"Question 3 stem"', '"Changed"')
    result = runner.invoke(args=["check-bank", str(write(tmp_path, "bank.yaml", changed))])
    assert result.exit_code == 0, result.output
    assert snapshot() == before


def test_check_bank_reports_problems_and_exits_1(app, runner, tmp_path):
    path = write(tmp_path, "invalid.yaml", PARSE_ERRORS)
    result = runner.invoke(args=["check-bank", str(path)])
    assert result.exit_code == 1
    assert cli_problems(result.stderr) == expected_parse_problems(str(path))
    assert snapshot() == EMPTY


def certification_yaml(code: str, sections: str) -> str:
    """A certifications list of one, ``code``, with a 20-minute blueprint of ``sections``
    (YAML list items, indented as a blueprint's)."""
    return f"""\
certifications:
  - code: {code}
    name: {{en: "{code} test", zh: "{code} 测试"}}
    level: engineer
    validity_months: 12
    blueprint:
      time_limit_minutes: 20
      pass_mark: 70
      sections:
""" + sections


POOL_CERT = certification_yaml("POOL-CERT", """\
        - key: fine
          title: {en: Chemistry, zh: 化学}
          topics: [chem]
          levels: [engineer]
          count: 4
        - key: greedy
          title: {en: Safety, zh: 安全}
          topics: [safety]
          levels: [skill_3]
          count: 5
""")


def test_pool_check_reports_a_section_without_three_times_its_count(app, runner, tmp_path):
    path = write(tmp_path, "pool.yaml", POOL_CERT)
    result = runner.invoke(args=["check-bank", str(MINI_BANK), str(path)])
    assert result.exit_code == 1
    assert cli_problems(result.stderr) == {
        (str(path), line_of(POOL_CERT, "key: greedy"), "POOL-CERT.blueprint.sections.greedy")}
    assert "only 12 active items" in result.stderr and "at least 15" in result.stderr


BAD_FIELDS = VALID_DOC.replace("""    name: {en: Chemistry, zh: 化学}
""", """    name: {en: Chemistry, zh: 化学}
  - key: safety
    name:
      en: Safety
    children: nope
""") + certification_yaml("FIELD-CERT", """\
        - key: fine
          title: {en: Chemistry, zh: 化学}
          topics: [chem]
          levels: [engineer, wizard]
          count: 0
          points: -1
          types: [crossword]
""")


def test_section_and_topic_problems_point_at_their_fields_lines(app, runner, tmp_path):
    path = write(tmp_path, "fields.yaml", BAD_FIELDS)
    result = runner.invoke(args=["check-bank", str(path)])
    assert result.exit_code == 1
    where = "FIELD-CERT.blueprint.sections[0]"
    assert cli_problems(result.stderr) == {
        # The name without zh is reported where the name starts, not the topic.
        (str(path), BAD_FIELDS.splitlines().index("    name:") + 1, "topics[safety].name"),
        (str(path), line_of(BAD_FIELDS, "children: nope"), "topics[safety].children"),
        (str(path), line_of(BAD_FIELDS, "wizard"), f"{where}.levels"),
        (str(path), line_of(BAD_FIELDS, "count: 0"), f"{where}.count"),
        (str(path), line_of(BAD_FIELDS, "points: -1"), f"{where}.points"),
        (str(path), line_of(BAD_FIELDS, "crossword"), f"{where}.types")}


PLAIN_ITEMS = VALID_DOC.replace("""  - key: chem
""", """  - just a word
  - key: chem
""") + """\
  - key: SHORT-0001
    topic: chem
    type: short_text
    levels: [engineer]
    difficulty: 1
    stem: {en: "Name the anode.", zh: "说出负极。"}
    answers:
      - graphite
      - ""
  - key: PICK-0001
    topic: chem
    type: single_choice
    levels: [engineer]
    difficulty: 1
    stem: {en: "Pick one.", zh: "选一个。"}
    options:
      - {id: a, text: {en: A, zh: 甲}, correct: true}
      - not a mapping
      - {id: c, text: {en: C, zh: 丙}}
"""


def test_problems_with_items_of_a_list_point_at_the_items_lines(app, runner, tmp_path):
    path = write(tmp_path, "items.yaml", PLAIN_ITEMS)
    result = runner.invoke(args=["check-bank", str(path)])
    assert result.exit_code == 1
    assert cli_problems(result.stderr) == {
        (str(path), line_of(PLAIN_ITEMS, "just a word"), "topics"),
        (str(path), line_of(PLAIN_ITEMS, '- ""'), "SHORT-0001.answers[1]"),
        (str(path), line_of(PLAIN_ITEMS, "not a mapping"), "PICK-0001.options[1]")}


def test_pool_check_counts_questions_already_in_the_bank(app, bank, runner, tmp_path):
    fits = POOL_CERT.replace("count: 5", "count: 4")
    ok = runner.invoke(args=["import-bank", str(write(tmp_path, "fits.yaml", fits))])
    assert ok.exit_code == 0, ok.output
    assert db.session.scalar(select(Certification).where(Certification.code == "POOL-CERT"))
    too_many = runner.invoke(args=["check-bank", str(write(tmp_path, "pool.yaml", POOL_CERT))])
    assert too_many.exit_code == 1
    assert "POOL-CERT.blueprint.sections.greedy" in too_many.stderr


def test_pool_check_does_not_count_questions_retired_by_the_same_import(app, runner, tmp_path):
    text = MINI_BANK.read_text(encoding="utf-8")
    start = text.index("key: T-0013")  # a safety question
    retired = text[:start] + text[start:].replace("difficulty:", "status: retired\n    difficulty:",
                                                  1)
    path = write(tmp_path, "bank.yaml", retired)
    result = runner.invoke(args=["import-bank", str(path)])
    assert result.exit_code == 1
    assert "TEST-CERT.blueprint.sections.safety" in result.stderr
    assert "only 11 active items" in result.stderr
    assert snapshot() == EMPTY


def test_bundled_question_bank_passes_check_bank(app, runner):
    result = runner.invoke(args=["check-bank", str(BANK_DIR)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: ")
    assert snapshot() == EMPTY


# --- the web import page -----------------------------------------------------------------

@pytest.fixture
def owner(app):
    """An administrator: imports by examiners go to review (test_bank_import_review.py)."""
    return add_user(Role.ADMIN, "bank-owner@example.com.cn")


@pytest.fixture
def staff(app, owner):
    client = app.test_client()
    assert login_page(client, owner.email).status_code == 302
    return client


def upload(client, name: str, content: bytes, dry_run: bool = False):
    page = client.get("/bank/import")
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)),
            "file": (io.BytesIO(content), name)}
    if dry_run:
        data["dry_run"] = "y"
    return client.post("/bank/import", data=data, content_type="multipart/form-data")


def test_web_import_creates_and_reimport_changes_nothing(staff, owner):
    first = upload(staff, "mini_bank.yaml", MINI_BANK.read_bytes())
    assert first.status_code == 200
    assert "Imported: 24 new questions, 0 new versions, 0 unchanged." in first.get_data(
        as_text=True)
    counts = snapshot()
    assert counts["question"] == 24 and counts["certification"] == 1
    assert {v.author_id for v in db.session.scalars(select(QuestionVersion))} == {owner.id}
    again = upload(staff, "mini_bank.yaml", MINI_BANK.read_bytes())
    assert again.status_code == 200
    assert "0 new questions, 0 new versions, 24 unchanged." in again.get_data(as_text=True)
    assert snapshot() == counts


def test_web_dry_run_writes_nothing(staff):
    response = upload(staff, "mini_bank.yaml", MINI_BANK.read_bytes(), dry_run=True)
    assert response.status_code == 200
    assert "Nothing was imported" in response.get_data(as_text=True)
    assert snapshot()["question"] == 0 and snapshot()["topic"] == 0


def test_web_invalid_file_gets_422_listing_every_parse_problem(staff):
    response = upload(staff, "invalid.yaml", PARSE_ERRORS.encode())
    assert response.status_code == 422
    listed = page_problems(response.get_data(as_text=True))
    assert {(f, n, field) for f, n, field, _ in listed} == expected_parse_problems(
        "invalid.yaml")
    assert "6 problem(s); nothing was imported." in response.get_data(as_text=True)
    assert snapshot()["question"] == 0 and snapshot()["topic"] == 0


def test_web_unknown_topic_and_duplicate_key_get_422(staff):
    content = VALID_DOC + CROSS_ERRORS + SECOND_FILE.replace("questions:\n", "")
    response = upload(staff, "cross.yaml", content.encode())
    assert response.status_code == 422
    listed = {(f, n, field) for f, n, field, _ in page_problems(response.get_data(as_text=True))}
    second_use = [n for n, text in enumerate(content.splitlines(), start=1)
                  if "key: GOOD-0002" in text][1]
    assert listed == {
        ("cross.yaml", line_of(content, "key: LOST-TOPIC"), "LOST-TOPIC.topic"),
        ("cross.yaml", second_use, "GOOD-0002.key"),
    }
    assert snapshot()["question"] == 0


@pytest.mark.parametrize(("name", "content", "says", "line"), UNREADABLE,
                         ids=[u[0] for u in UNREADABLE])
def test_web_unreadable_file_gets_422_with_a_clear_problem(staff, name, content, says, line):
    response = upload(staff, name, content)
    assert response.status_code == 422
    listed = page_problems(response.get_data(as_text=True))
    assert len(listed) == 1
    file, at, _, message = listed[0]
    assert (file, at) == (name, line)
    assert says in message
    assert snapshot()["question"] == 0 and snapshot()["topic"] == 0


def test_web_import_rejects_a_file_that_is_not_yaml(staff):
    response = upload(staff, "bank.txt", VALID_DOC.encode())
    assert response.status_code == 400
    assert snapshot()["question"] == 0


def test_web_import_without_csrf_token_is_refused(staff):
    response = staff.post("/bank/import", data={"file": (io.BytesIO(VALID_DOC.encode()),
                                                         "bank.yaml")},
                          content_type="multipart/form-data")
    assert response.status_code == 400
    assert snapshot()["question"] == 0


def test_candidates_cannot_use_the_bank_pages(app, bank, candidate):
    client = app.test_client()
    login_page(client, candidate.email)
    qid = question("T-0001").id
    assert client.get("/bank/").status_code == 403
    assert client.get("/bank/import").status_code == 403
    assert client.get(f"/bank/questions/{qid}").status_code == 403


# --- the bank list and preview -----------------------------------------------------------

def _list_bank() -> str:
    """60 questions: topics alpha, alpha/inner, beta; levels, statuses and types vary."""
    lines = ["topics:",
             "  - key: alpha", "    name: {en: Alpha, zh: 甲}",
             "    children:", "      - key: inner", "        name: {en: Inner, zh: 内}",
             "  - key: beta", "    name: {en: Beta, zh: 乙}",
             "questions:"]
    for i in range(1, 61):
        topic = ("alpha/inner", "alpha", "beta")[i % 3]
        level = "engineer" if i % 2 == 0 else "skill_3"
        status = "draft" if i <= 5 else "retired" if i <= 8 else "active"
        word = "Electrolyte" if i % 10 == 0 else "Separator"
        zh = "电解液" if i % 10 == 0 else "隔膜"
        lines += [f"  - key: LIST-{i:03d}", f"    topic: {topic}", f"    levels: [{level}]",
                  "    difficulty: 1", f"    status: {status}",
                  f'    stem: {{en: "{word} statement {i}", zh: "{zh}陈述{i}"}}']
        if i % 4 == 0:
            lines += ["    type: numeric", f"    answer: {i}", "    tolerance: {absolute: 0}"]
        else:
            lines += ["    type: true_false", "    answer: true"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def list_bank(app, tmp_path):
    doc, problems = importer.read_files([write(tmp_path, "list.yaml", _list_bank())])
    assert problems == []
    importer.apply(db.session, utcnow(), doc, None)
    db.session.commit()


def listed_keys(client, **query) -> list[str]:
    response = client.get("/bank/", query_string=query)
    assert response.status_code == 200
    return re.findall(r">(LIST-\d{3})</a>", response.get_data(as_text=True))


def keys(numbers) -> list[str]:
    return [f"LIST-{i:03d}" for i in numbers]


def test_bank_list_paginates_50_per_page(staff, list_bank):
    page1 = staff.get("/bank/").get_data(as_text=True)
    assert "60 questions" in page1 and "Page 1 of 2" in page1
    assert listed_keys(staff) == keys(range(1, 51))
    assert listed_keys(staff, page=2) == keys(range(51, 61))
    assert listed_keys(staff, page=3) == []


def test_bank_list_filters_by_topic_including_subtopics(staff, list_bank):
    assert listed_keys(staff, topic="alpha/inner") == keys(i for i in range(1, 61) if i % 3 == 0)
    assert listed_keys(staff, topic="beta") == keys(i for i in range(1, 61) if i % 3 == 2)
    alpha = [i for i in range(1, 61) if i % 3 != 2]
    assert listed_keys(staff, topic="alpha") == keys(alpha)  # 40 rows: one page


def test_bank_list_filters_by_level_status_and_type(staff, list_bank):
    assert listed_keys(staff, level="skill_3") == keys(range(1, 61, 2))
    assert listed_keys(staff, level="senior_engineer") == []
    assert listed_keys(staff, status="draft") == keys(range(1, 6))
    assert listed_keys(staff, status="retired") == keys(range(6, 9))
    assert listed_keys(staff, type="numeric") == keys(range(4, 61, 4))


def test_bank_list_searches_text_in_both_languages_and_keys(staff, list_bank):
    tens = keys(range(10, 61, 10))
    assert listed_keys(staff, q="electrolyte") == tens
    assert listed_keys(staff, q="ELECTROLYTE") == tens
    assert listed_keys(staff, q="电解液") == tens
    assert listed_keys(staff, q="list-007") == ["LIST-007"]
    assert listed_keys(staff, q="statement 5") == keys([5] + list(range(50, 60)))


def test_bank_list_combines_filters(staff, list_bank):
    expected = [i for i in range(9, 61) if i % 3 == 2 and i % 2 == 0 and i % 4 == 0]
    assert listed_keys(staff, topic="beta", level="engineer", status="active",
                       type="numeric") == keys(expected)


def test_bank_list_pager_keeps_the_filters(staff, list_bank):
    body = staff.get("/bank/", query_string={"status": "active"}).get_data(as_text=True)
    assert "52 questions" in body and "Page 1 of 2" in body
    nxt = html.unescape(re.search(r'<a href="([^"]+)">Next</a>', body).group(1))
    assert "status=active" in nxt and "page=2" in nxt
    assert re.findall(r">(LIST-\d{3})</a>", staff.get(nxt).get_data(as_text=True)) == keys(
        range(59, 61))


@pytest.mark.parametrize(("key", "shown"), [
    ("T-0001", "A"), ("T-0002", "A, B"), ("T-0003", "True"), ("T-0004", "6 Wh (± 1 %)")])
def test_preview_shows_the_key_to_staff(staff, bank, key, shown):
    response = staff.get(f"/bank/questions/{question(key).id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f'<p class="key">{shown}</p>' in body
    number = int(key[2:])
    assert f"Question {number} stem" in body


def test_preview_shows_older_versions(app, staff, bank, runner, tmp_path):
    changed = MINI_BANK.read_text(encoding="utf-8").replace('"Question 1 stem"',
                                                            '"Question 1 new stem"')
    assert runner.invoke(args=["import-bank", str(write(tmp_path, "b.yaml", changed))]
                         ).exit_code == 0
    qid = question("T-0001").id
    latest = staff.get(f"/bank/questions/{qid}").get_data(as_text=True)
    assert "Question 1 new stem" in latest and "version 2" in latest
    old = staff.get(f"/bank/questions/{qid}", query_string={"version": 1}).get_data(as_text=True)
    assert "Question 1 new stem" not in old and "Question 1 stem" in old


def test_preview_of_a_missing_question_is_404(staff, bank):
    assert staff.get("/bank/questions/999999").status_code == 404


def test_admin_sees_the_bank_too(app, bank):
    add_user(Role.ADMIN, "admin@example.com", "Admin")
    client = app.test_client()
    login_page(client, "admin@example.com")
    assert client.get("/bank/").status_code == 200
