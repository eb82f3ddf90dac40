"""Moodle XML: a file written from Moodle's documentation, the round trip, hostile XML."""

from pathlib import Path

import pytest

from examsys.bank.interchange import service
from examsys.bank.interchange.common import ImportOptions
from examsys.core.clock import utcnow
from examsys.extensions import db

DATA = Path(__file__).parent / "data" / "interchange"
OPTIONS = ImportOptions(levels=["skill_4"])


def prepare(data: bytes, name="t.xml", options=OPTIONS):
    return service.prepare(db.session, [service.Upload(name, data, "moodle_xml")], options)


def test_moodle_documentation_file_reads_every_type(app):
    prepared = prepare((DATA / "moodle_docs.xml").read_bytes(), "moodle_docs.xml")
    assert prepared.problems == []
    q = {x.line: x for x in prepared.doc.questions}
    venting = q[10]
    # <idnumber> in the bank's key shape is the key; examsys tags are read back.
    assert (venting.key, venting.levels, venting.difficulty, venting.tags) == (
        "LIB-SAFE-0101", ["engineer"], 4, ["nmc"])
    assert venting.payload["explanation"] == {"en": "Self-heating begins around 80\xa0°C."}
    assert venting.payload["stem"]["en"].startswith("At what temperature")
    assert q[27].type == "multiple_choice"
    assert [o["correct"] for o in q[27].payload["options"]] == [True, True, True, False]
    assert q[40].payload["answer"] is True
    short = q[52]
    assert short.payload["answers"] == ["graphite"] and short.payload["pattern"] == ".*carbon.*"
    energy = q[61]
    assert energy.type == "numeric_unit"
    assert (energy.payload["answer"], energy.payload["unit"]) == (320, "Wh")
    assert energy.payload["units"]["kWh"] == pytest.approx(1000)
    assert q[77].type == "numeric" and q[77].payload["answer"] == 15
    matching = q[83]
    assert [p["match"]["en"] for p in matching.payload["pairs"]] == ["olivine", "spinel",
                                                                     "layered"]
    assert matching.payload["distractors"][0]["text"] == {"en": "perovskite"}
    essay = q[93]
    assert essay.payload["rubric"][0]["points"] == 8
    assert essay.payload["rubric"][0]["criterion"]["en"].startswith("Mentions voltage")
    ordering = q[105]
    assert [o["text"]["en"] for o in ordering.payload["options"]] == [
        "Mixing", "Coating", "Calendering", "Winding"]
    assert ordering.payload["scoring"] == "all_or_nothing"
    assert q[118].payload["stem"] == {"zh": "磷酸铁锂电芯的标称电压是多少？"}
    skipped = [w.message for w in prepared.warnings if "skipped" in w.message]
    assert len(skipped) == 2   # the description and the cloze question


def test_round_trip_keeps_meaning(app):
    first = prepare((DATA / "moodle_docs.xml").read_bytes())
    service.commit(db.session, utcnow(), first, None)
    db.session.commit()
    exported, _notes = service.export(db.session, "moodle_xml", "en")
    again = prepare(exported, "exported.xml", ImportOptions())
    assert again.problems == [] and again.duplicates == []
    before = {q.key: q for q in first.doc.questions}
    after = {q.key: q for q in again.doc.questions}
    assert set(before) == set(after)
    for key, q in before.items():
        other = after[key]
        assert (other.type, other.topic, other.levels, other.difficulty) == (
            q.type, q.topic, q.levels, q.difficulty), key
        if q.type != "essay":  # the rubric's points are written into the grader's notes
            assert other.payload == q.payload, key


@pytest.mark.parametrize(("data", "words"), [
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
     b'"&lol;&lol;&lol;&lol;">]><quiz>&lol2;</quiz>', "DTD"),
    (b'<?xml version="1.0"?><!DOCTYPE quiz SYSTEM "file:///etc/passwd"><quiz/>', "DTD"),
    (b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY x SYSTEM "http://example.com/x">]>'
     b'<quiz>&x;</quiz>', "DTD"),
    (b"<quiz><question type='truefalse'>\n</quiz>", "not well-formed"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not well-formed"),
    (b'<?xml version="1.0" encoding="klingon"?><quiz/>', "XML"),
    (b"<html><body>hi</body></html>", "<quiz>"),
])
def test_hostile_xml_is_refused_as_unreadable(app, data, words):
    prepared = prepare(data)
    assert prepared.unreadable
    assert words in prepared.problems[0].message
    assert prepared.doc.questions == []


def test_a_fraction_that_is_not_a_number_is_a_problem_with_its_line(app):
    """Read as 0 it would quietly turn the right answer into a wrong one."""
    from examsys.bank.models import Question

    data = (DATA / "moodle_docs.xml").read_bytes().replace(
        b'<answer fraction="100" format="html"><text>About 80',
        b'<answer fraction="abc" format="html"><text>About 80', 1)
    prepared = prepare(data, "typo.xml")
    found = [(p.line, p.field, p.message) for p in prepared.problems]
    assert found[0] == (10, "answer", "fraction 'abc' is not a number")
    assert {line for line, _f, _m in found} == {10}  # and what follows from it, same line
    assert db.session.query(Question).count() == 0
