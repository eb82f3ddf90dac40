"""The JSON Schema of the bank format agrees with the importer on real files."""

import json
from pathlib import Path

import pytest
import yaml

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).parent.parent
SCHEMA = json.loads((ROOT / "docs" / "question-format.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_schema_is_valid():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", sorted((ROOT / "question_bank").rglob("*.yaml")) + [
    ROOT / "tests" / "data" / "mini_bank.yaml"], ids=lambda p: p.name)
def test_bundled_files_match_the_schema(path):
    errors = list(VALIDATOR.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
    assert errors == [], [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


EXAMPLES = """questions:
  - {key: S-1, topic: t, type: short_text, levels: [engineer], difficulty: 1,
     stem: {en: S}, answers: [NMP], pattern: "n-?mp"}
  - {key: S-2, topic: t, type: ordering, levels: [engineer], difficulty: 1, stem: {en: S},
     options: [{id: a, text: {en: A}}, {id: b, text: {en: B}}, {id: c, text: {en: C}}]}
  - {key: S-3, topic: t, type: matching, levels: [engineer], difficulty: 1, stem: {en: S},
     pairs: [{id: a, prompt: {en: A}, match: {en: B}}, {id: b, prompt: {en: C}, match: {en: D}}]}
  - {key: S-4, topic: t, type: essay, levels: [engineer], difficulty: 1, stem: {en: S},
     rubric: [{id: a, criterion: {en: A}, points: 2}], word_limit: 100}
  - {key: S-5, topic: t, type: numeric_unit, levels: [engineer], difficulty: 1, stem: {en: S},
     answer: 2.5, unit: Ah, tolerance: {relative: 0.01}, units: {Ah: 1, mAh: 0.001}}
"""


def test_every_new_type_matches_and_stray_fields_do_not():
    doc = yaml.safe_load(EXAMPLES)
    assert list(VALIDATOR.iter_errors(doc)) == []
    doc["questions"][0]["rubric"] = []
    assert list(VALIDATOR.iter_errors(doc))


def test_a_problem_points_at_its_field_and_a_missing_field_at_its_mapping():
    from examsys.bank.yamlio import Problems, load_yaml

    text = """\
questions:
  - key: Q-1
    tolerance:
      relative: -1
    units:
      - Ah
      - {name: x}
"""
    problems = Problems("f.yaml")
    q = load_yaml(text.encode(), problems)["questions"][0]
    assert not problems
    assert q.line_of("key") == 2
    assert q.line_of("tolerance") == 3
    assert q.line_of("tolerance.relative") == 4
    assert q.line_of("units[1]") == 7 and q.line_of("units[1].name") == 7
    assert q.line_of("answer") == 2  # missing: the question's own line
    assert q.line_of("tolerance.absolute") == 3  # the deepest part that exists
    problems.at(q, "tolerance.relative", "must be a number ≥ 0")
    assert (problems.items[0].line, problems.items[0].field) == (4, "tolerance.relative")


def test_field_lines_for_repeated_keys_odd_keys_and_dropped_entries():
    from examsys.bank.validation import parse_document
    from examsys.bank.yamlio import Problems

    text = """\
questions:
  - key: Q-1
    topic: chem
    type: numeric_unit
    levels: [engineer]
    difficulty: 1
    stem: {en: "Energy?", zh: "能量？"}
    answer: 1
    unit: Wh
    answer: "not a number"
    units:
      Wh: 1
      Wh/kg: 0
    7: seven
  - key: Q-2
    topic: chem
    type: single_choice
    levels: [engineer]
    difficulty: 1
    stem: {en: "Pick", zh: "选"}
    options:
      - just text
      - {id: a, correct: true, text: {en: A, zh: 甲}}
      - {id: b, text: {en: B}}
"""
    problems = Problems("f.yaml")
    parse_document("f.yaml", text.encode(), problems)
    found = {(p.field, p.line) for p in problems.items}
    assert ("Q-1.answer", 10) in found  # the value YAML keeps, not the first one
    assert ("Q-1.units.Wh/kg", 13) in found  # a unit name that is not a plain word
    assert ("Q-1.7", 14) in found  # a key that is not text
    # Option "just text" was dropped, so the kept options no longer count the file's: the
    # language problem points at the list, not at the wrong option.
    language = [line for field, line in found if field.startswith("Q-2.options[")
                and field.endswith(".text")]
    assert language == [21]
