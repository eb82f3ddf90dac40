"""Moodle GIFT: every feature of the format read from a file written from Moodle's
documentation, the round trip GIFT → examsys → GIFT, and GIFT's error cases."""

from pathlib import Path

import pytest

from examsys.bank.interchange import gift, service
from examsys.bank.interchange.common import ImportOptions
from examsys.core.clock import utcnow
from examsys.extensions import db

DATA = Path(__file__).parent / "data" / "interchange"
OPTIONS = ImportOptions(levels=["engineer"], topic=None)


def prepare(text: str | bytes, name="t.gift", options=OPTIONS, fmt="gift"):
    data = text.encode() if isinstance(text, str) else text
    return service.prepare(db.session, [service.Upload(name, data, fmt)], options)


def by_line(prepared) -> dict[int, object]:
    return {q.line: q for q in prepared.doc.questions}


def test_moodle_documentation_file_reads_every_feature(app):
    prepared = prepare((DATA / "moodle_docs.gift").read_bytes(), "moodle_docs.gift")
    assert prepared.problems == []
    q = by_line(prepared)
    # Categories become topics; Moodle's context and "Default for" segments are dropped.
    assert [t.path for t in prepared.doc.topics] == ["safety", "safety/thermal_runaway",
                                                     "fundamentals"]
    tomb = q[8]
    assert tomb.type == "single_choice" and tomb.topic == "safety/thermal_runaway"
    assert [(o["text"]["en"], o["correct"]) for o in tomb.payload["options"]] == [
        ("Grant", False), ("Jefferson", False), ("no one", True)]
    assert q[15].payload["stem"]["en"] == "Grant is _____ in Grant's tomb."   # missing word
    two = q[18]
    assert two.type == "multiple_choice" and two.payload["scoring"] == "partial"
    assert [o["correct"] for o in two.payload["options"]] == [False, True, True, False]
    sun = q[26]
    assert sun.type == "true_false" and sun.payload["answer"] is True
    assert sun.payload["explanation"] == {"en": "The earth turns eastward."}
    assert q[28].payload["answer"] is False
    short = q[33]
    assert short.type == "short_text" and short.topic == "fundamentals"
    assert short.payload["answers"] == ["Grant", "Ulysses S. Grant", "Ulysses Grant"]
    capitals = q[36]
    assert [(p["prompt"]["en"], p["match"]["en"]) for p in capitals.payload["pairs"]] == [
        ("Canada", "Ottawa"), ("Italy", "Rome"), ("Japan", "Tokyo")]
    assert [d["text"]["en"] for d in capitals.payload["distractors"]] == ["Paris"]
    assert (q[44].payload["answer"], q[44].payload["tolerance"]) == (1822, {"absolute": 5})
    assert q[47].payload["answer"] == pytest.approx(3.1415)
    assert q[47].payload["tolerance"]["absolute"] == pytest.approx(0.0005)
    assert q[50].payload["tolerance"] == {"absolute": 0}   # the full-credit answer
    escapes = q[56]
    assert escapes.payload["stem"]["en"] == "Which symbol starts a GIFT answer block: { or }?"
    assert [o["text"]["en"] for o in escapes.payload["options"]] == [
        "{ (an opening brace)", "} (a closing brace)", "~ or = or #"]
    assert q[63].payload["stem"]["en"] == "Which electrode is **negative** during discharge?"
    assert "<b>flattest</b>" in q[65].payload["stem"]["en"]
    chinese = q[68]
    assert chinese.payload["stem"] == {"zh": "磷酸铁锂电芯的标称电压是多少？"}
    assert chinese.payload["options"][0]["text"] == {"zh": "3.2 V"}
    assert q[71].type == "essay"
    assert len(prepared.doc.questions) == 15  # the description is skipped
    notes = {(w.line, w.message) for w in prepared.warnings}
    assert (74, "a description (text without an answer block) is not a question; "
                "skipped") in notes
    assert any(line == 8 and "feedback" in m for line, m in notes)
    assert all(q.status == "draft" and q.levels == ["engineer"] and q.difficulty == 3
               for q in prepared.doc.questions)


def test_keys_are_derived_from_the_stem_and_stable(app):
    first = prepare("Is lithium a metal?{T}")
    again = prepare("Is  LITHIUM a metal?\n{T}")
    assert first.doc.questions[0].key == again.doc.questions[0].key
    assert first.doc.questions[0].key.startswith("IMP-")


def test_language_is_detected_or_forced(app):
    assert prepare("锂是金属吗？{T}").doc.questions[0].payload["stem"] == {"zh": "锂是金属吗？"}
    forced = prepare("LFP 是什么？{T}", options=ImportOptions(levels=["engineer"], lang="en"))
    assert set(forced.doc.questions[0].payload["stem"]) == {"en"}


@pytest.mark.parametrize(("text", "field", "words"), [
    ("Q?{=a =b ~c}", "options", "exactly one fully right"),
    ("Q?{~a ~b}", "options", "positive weight"),
    ("Q?{#abc}", "answer", "not a number"),
    ("Q?{=a ~b", "", "unbalanced"),
    ("::T::Q?{T}\nNext?{F}", "", "two answer blocks"),
    ("::title only", "title", "closing ::"),
])
def test_bad_questions_are_reported_with_their_line(app, text, field, words):
    prepared = prepare("// comment\n\n" + text)
    assert prepared.problems, text
    problem = prepared.problems[0]
    assert (problem.file, problem.line, problem.field) == ("t.gift", 3, field)
    assert words in problem.message


def test_missing_defaults_are_problems(app):
    prepared = prepare("Q?{T}", options=ImportOptions())
    fields = {p.field.split(".", 1)[1] for p in prepared.problems}
    assert fields == {"topic", "levels"}
    assert all(p.line == 1 for p in prepared.problems)


def test_unknown_default_topic_is_a_problem(app):
    prepared = prepare("Q?{T}", options=ImportOptions(levels=["engineer"], topic="nowhere"))
    assert any("unknown topic" in p.message for p in prepared.problems)


def test_round_trip_keeps_meaning(app, bank):
    """GIFT → examsys → GIFT → examsys: the same questions, types, keys and keys' meaning."""
    source = (DATA / "moodle_docs.gift").read_bytes()
    first = prepare(source, "moodle_docs.gift")
    service.commit(db.session, utcnow(), first, None, allow_duplicates=True)
    db.session.commit()
    exported, notes = service.export(db.session, "gift", "en", topic="fundamentals")
    exported_safety, _n = service.export(db.session, "gift", "en",
                                         topic="safety/thermal_runaway")
    again = prepare(exported + b"\n\n" + exported_safety, "exported.gift",
                    ImportOptions(topic=None))
    assert again.problems == []
    assert again.duplicates == []   # the same keys: an update, not duplicates
    before = {q.key: q for q in first.doc.questions}
    after = {q.key: q for q in again.doc.questions}
    assert set(after) == set(before)
    for key, q in before.items():
        other = after[key]
        assert (other.type, other.topic, other.levels, other.difficulty, other.status) == (
            q.type, q.topic, q.levels, q.difficulty, q.status), key
        assert other.payload == q.payload, key
    report = service.commit(db.session, utcnow(), again, None)
    assert (report.created, report.new_versions, report.unchanged) == (0, 0, len(before))


def test_export_escapes_and_carries_metadata(app, bank):
    text, _notes = service.export(db.session, "gift", "zh", topic="chem")
    text = text.decode()
    assert "$CATEGORY: $course$/top/化学/电芯" in text
    assert '// examsys: {"difficulty": 1, "key": "T-0001"' in text
    assert "::T-0001::第1题题干{" in text
    assert gift.escape("a{b}:c=d~e#f\\g\nh") == "a\\{b\\}\\:c\\=d\\~e\\#f\\\\g\\nh"

