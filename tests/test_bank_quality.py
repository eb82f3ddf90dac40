"""check-bank's quality checks: calculations state their result; no duplicate stems; essays
are drawn only by sections that ask for them."""

import textwrap

from examsys.bank.sections import section_types

from .conftest import MINI_BANK

NUMERIC = """\
  - key: CALC-1
    topic: chem/cells
    type: numeric
    levels: [engineer]
    difficulty: 2
    stem: {en: "12 V × 2 Ah = ? Wh", zh: "12 V × 2 Ah = ? Wh"}
    answer: 24
    tolerance: {relative: 0.01}
    explanation: {en: "%s", zh: "%s"}
"""


def check(runner, tmp_path, extra: str):
    path = tmp_path / "extra.yaml"
    path.write_text("questions:\n" + textwrap.dedent(extra), encoding="utf-8")
    return runner.invoke(args=["check-bank", str(MINI_BANK), str(path)])


def test_a_calculation_whose_explanation_states_its_result_passes(runner, tmp_path):
    result = check(runner, tmp_path, NUMERIC % ("E = V × Ah = 24 Wh.", "E = V × Ah = 24 Wh。"))
    assert result.exit_code == 0, result.output


def test_a_calculation_whose_explanation_states_another_result_is_reported(runner, tmp_path):
    result = check(runner, tmp_path, NUMERIC % ("E = V × Ah = 24 Wh.", "E = 12 × 2 = 42 Wh。"))
    assert result.exit_code == 1
    assert "CALC-1.explanation.zh: does not state the keyed result 24" in result.output
    assert "explanation.en" not in result.output


def test_two_questions_with_the_same_stem_are_reported(runner, tmp_path):
    twin = NUMERIC.replace("CALC-1", "CALC-2").replace("12 V × 2 Ah", "12 V x 2 Ah")
    result = check(runner, tmp_path, NUMERIC % ("24", "24") + twin % ("24", "24"))
    assert result.exit_code == 0, result.output  # × and x are different stems
    triplet = NUMERIC.replace("CALC-1", "CALC-3").replace("12 V × 2 Ah = ? Wh",
                                                          "12 v × 2 ah = ?  WH")
    result = check(runner, tmp_path, NUMERIC % ("24", "24") + triplet % ("24", "24"))
    assert result.exit_code == 1
    assert "CALC-3.stem.en: same stem as CALC-1" in result.output


def test_sections_draw_only_auto_graded_types_unless_they_name_others():
    assert "essay" not in section_types({"key": "s"})
    assert "single_choice" in section_types({"key": "s"})
    assert section_types({"key": "s", "types": ["essay"]}) == ["essay"]
