"""Question types: validation of authored payloads, parsing of candidate responses, grading.

Payloads are built the way the importer builds them (through each type's ``validate``), so
every payload here is one the bank could really hold.
"""

import json
import math
import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from examsys.bank.types import REGISTRY, ResponseError, get_type
from examsys.bank.yamlio import LineDict, Problems

SC, MC, TF, NUM = (get_type(n) for n in ("single_choice", "multiple_choice", "true_false",
                                         "numeric"))


def _line_dict(raw: dict) -> LineDict:
    q = LineDict(raw)
    q.line = 7
    return q


def build(type_name: str, **raw) -> dict:
    """Validate an authored question's type-specific part; return the stored payload."""
    raw.setdefault("stem", {"en": "Stem", "zh": "题干"})
    problems = Problems("t.yaml")
    payload = {"stem": raw["stem"], "explanation": None}
    payload.update(get_type(type_name).validate(_line_dict(raw), problems))
    assert problems.items == [], problems.items
    return payload


def options(correct: set[str], ids: str = "abcd") -> list[dict]:
    return [{"id": i, "correct": i in correct, "text": {"en": f"opt {i}", "zh": f"选项{i}"}}
            for i in ids]


def answer(qtype, payload, order, response):
    """What the candidate sends, parsed and graded like the delivery code does."""
    return qtype.grade(payload, qtype.parse(payload, order, response))


# --- single choice -----------------------------------------------------------------------

SINGLE = build("single_choice", options=options({"c"}))
AUTHORED = ["a", "b", "c", "d"]


def test_single_choice_right_wrong_and_unanswered():
    order = ["c", "a", "d", "b"]  # the right option is shown as A
    assert answer(SC, SINGLE, order, "A") == 1.0
    assert answer(SC, SINGLE, order, "C") == 0.0  # "C" is option d here
    assert answer(SC, SINGLE, order, None) == 0.0
    assert SC.grade(SINGLE, None) == 0.0


def test_single_choice_letters_are_mapped_through_the_attempts_order():
    assert SC.parse(SINGLE, ["d", "c", "b", "a"], "B") == "c"
    assert SC.display(["d", "c", "b", "a"], "c") == "B"
    assert SC.display(AUTHORED, None) is None


@pytest.mark.parametrize("response", ["E", "Z", "a", "", "AB", 0, 1, ["A"], {"id": "A"}, True])
def test_single_choice_invalid_response_raises_response_error(response):
    with pytest.raises(ResponseError):
        SC.parse(SINGLE, AUTHORED, response)


def test_single_choice_validation_rejects_two_correct_options():
    problems = Problems("t.yaml")
    SC.validate(_line_dict({"options": options({"a", "b"})}), problems)
    assert [(p.line, p.field) for p in problems.items] == [(7, "options")]


# --- multiple choice ---------------------------------------------------------------------

ALL_OR_NOTHING = build("multiple_choice", options=options({"a", "b", "c"}, "abcde"))
PARTIAL = build("multiple_choice", options=options({"a", "b", "c"}, "abcde"), scoring="partial")
FIVE = list("abcde")


def test_multiple_choice_defaults_to_all_or_nothing():
    assert ALL_OR_NOTHING["scoring"] == "all_or_nothing"


@pytest.mark.parametrize(("chosen", "expected"), [
    (["A", "B", "C"], 1.0),
    (["C", "A", "B"], 1.0),
    (["A", "B"], 0.0),
    (["A", "B", "C", "D"], 0.0),
    (["D"], 0.0),
    ([], 0.0),
    (None, 0.0),
])
def test_multiple_choice_all_or_nothing(chosen, expected):
    assert answer(MC, ALL_OR_NOTHING, FIVE, chosen) == expected


@pytest.mark.parametrize(("chosen", "expected"), [
    (["A", "B", "C"], 1.0),
    (["A", "B"], 2 / 3),
    (["A"], 1 / 3),
    (["A", "B", "D"], 1 / 3),             # (2 right - 1 wrong) / 3
    (["A", "B", "C", "D"], 2 / 3),        # (3 - 1) / 3
    (["A", "B", "C", "D", "E"], 1 / 3),   # (3 - 2) / 3: choosing everything is not free
    (["A", "D"], 0.0),                    # (1 - 1) / 3
    (["A", "D", "E"], 0.0),               # (1 - 2) / 3 floored at 0
    (["D", "E"], 0.0),
    ([], 0.0),
    (None, 0.0),
])
def test_multiple_choice_partial_is_right_minus_wrong_over_key_size_floored(chosen, expected):
    assert answer(MC, PARTIAL, FIVE, chosen) == pytest.approx(expected)


def test_multiple_choice_repeated_letter_counts_once():
    assert MC.parse(PARTIAL, FIVE, ["A", "A", "B"]) == ["a", "b"]
    assert answer(MC, PARTIAL, FIVE, ["A", "A", "A", "D"]) == 0.0


@pytest.mark.parametrize("response", ["A", "A,B", 3, {"A": True}, ["A", "F"], ["a"], [["A"]],
                                      [None], [1], True])
def test_multiple_choice_invalid_response_raises_response_error(response):
    with pytest.raises(ResponseError):
        MC.parse(PARTIAL, FIVE, response)


def test_multiple_choice_validation_needs_two_correct_and_a_known_mode():
    problems = Problems("t.yaml")
    MC.validate(_line_dict({"options": options({"a"}), "scoring": "generous"}), problems)
    assert sorted(p.field for p in problems.items) == ["options", "scoring"]


# --- true/false --------------------------------------------------------------------------

TRUE = build("true_false", answer=True)
FALSE = build("true_false", answer=False)


def test_true_false_right_wrong_and_unanswered():
    assert answer(TF, TRUE, None, True) == 1.0
    assert answer(TF, TRUE, None, False) == 0.0
    assert answer(TF, FALSE, None, False) == 1.0
    assert answer(TF, FALSE, None, True) == 0.0
    assert answer(TF, FALSE, None, None) == 0.0  # unanswered is not "false"


@pytest.mark.parametrize("response", ["true", "false", 0, 1, "yes", [True], {"answer": True}])
def test_true_false_invalid_response_raises_response_error(response):
    with pytest.raises(ResponseError):
        TF.parse(TRUE, None, response)


def test_true_false_validation_rejects_a_non_boolean_answer():
    problems = Problems("t.yaml")
    TF.validate(_line_dict({"answer": "yes"}), problems)
    assert [p.field for p in problems.items] == ["answer"]


# --- numeric -----------------------------------------------------------------------------

ABSOLUTE = build("numeric", answer=10, tolerance={"absolute": 0.5}, unit="V")
RELATIVE = build("numeric", answer=6.0, tolerance={"relative": 0.01}, unit="Wh")
NEGATIVE = build("numeric", answer=-200, tolerance={"relative": 0.05})
EXACT = build("numeric", answer=0.3, tolerance={"absolute": 0})


@pytest.mark.parametrize(("response", "expected"), [
    (10, 1.0), (10.5, 1.0), (9.5, 1.0), ("10.5", 1.0), (" 9.5 ", 1.0),
    (10.5001, 0.0), (9.4999, 0.0), (11, 0.0), (-10, 0.0), (None, 0.0),
])
def test_numeric_absolute_tolerance_boundaries(response, expected):
    assert answer(NUM, ABSOLUTE, None, response) == expected


@pytest.mark.parametrize(("response", "expected"), [
    (6.0, 1.0), (6.06, 1.0), (5.94, 1.0), (6.0601, 0.0), (5.9399, 0.0), (6.1, 0.0),
])
def test_numeric_relative_tolerance_boundaries(response, expected):
    assert answer(NUM, RELATIVE, None, response) == expected


@pytest.mark.parametrize(("response", "expected"), [
    (-200, 1.0), (-210, 1.0), (-190, 1.0), (-210.01, 0.0), (-189.99, 0.0), (200, 0.0),
])
def test_numeric_relative_tolerance_of_a_negative_answer(response, expected):
    assert answer(NUM, NEGATIVE, None, response) == expected


def test_numeric_zero_tolerance_accepts_float_rounding_of_the_exact_key_only():
    assert answer(NUM, EXACT, None, 0.1 + 0.2) == 1.0
    assert answer(NUM, EXACT, None, 0.3001) == 0.0


@pytest.mark.parametrize("response", [True, False, math.nan, math.inf, -math.inf, "nan", "inf",
                                      "-Infinity", "1e400", 1e16, "abc", "", "6,0", [6.0],
                                      {"value": 6}])
def test_numeric_invalid_response_raises_response_error(response):
    with pytest.raises(ResponseError):
        NUM.parse(RELATIVE, None, response)


def test_numeric_integer_too_large_for_a_float_raises_response_error():
    with pytest.raises(ResponseError):
        NUM.parse(RELATIVE, None, 10**400)


@pytest.mark.parametrize("tolerance", [None, {}, {"absolute": 1, "relative": 0.1},
                                       {"relative": 1.5}, {"absolute": -1}, {"percent": 5}])
def test_numeric_validation_requires_one_sane_tolerance(tolerance):
    raw = {"answer": 6.0}
    if tolerance is not None:
        raw["tolerance"] = tolerance
    problems = Problems("t.yaml")
    NUM.validate(_line_dict(raw), problems)
    assert problems.items and all(p.field.startswith("tolerance") for p in problems.items)


def test_numeric_present_shows_the_unit_but_not_the_answer():
    view = NUM.present(RELATIVE, None, "en")
    assert view == {"stem": "Stem", "unit": "Wh"}


# --- properties over random payloads -----------------------------------------------------

# Texts cannot spell "correct" or "answer", so finding either word in a view means a leak.
TEXT = st.text(alphabet="xyz0123456789 电池安全", min_size=1, max_size=12).filter(str.strip)
BILINGUAL = st.fixed_dictionaries({"en": TEXT, "zh": TEXT})
NUMBER = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def choice_questions(draw, type_name: str | None = None):
    """A valid single- or multiple-choice payload and a random display order."""
    type_name = type_name or draw(st.sampled_from(["single_choice", "multiple_choice"]))
    lo = 2 if type_name == "single_choice" else 3
    ids = draw(st.lists(st.from_regex(r"[a-z0-9_]{1,4}", fullmatch=True), min_size=lo,
                        max_size=8, unique=True))
    if type_name == "single_choice":
        correct = {draw(st.sampled_from(ids))}
        extra = {}
    else:
        correct = set(draw(st.lists(st.sampled_from(ids), min_size=2, unique=True)))
        extra = {"scoring": draw(st.sampled_from(["all_or_nothing", "partial"]))}
    raw_options = [{"id": i, "correct": i in correct, "text": draw(BILINGUAL)} for i in ids]
    payload = build(type_name, stem=draw(BILINGUAL), options=raw_options, **extra)
    order = draw(st.permutations(ids))
    return get_type(type_name), payload, order


@st.composite
def numeric_questions(draw):
    kind = draw(st.sampled_from(["absolute", "relative"]))
    amount = draw(st.floats(min_value=0, max_value=100 if kind == "absolute" else 0.99))
    payload = build("numeric", stem=draw(BILINGUAL), answer=draw(NUMBER),
                    tolerance={kind: amount}, unit=draw(st.none() | st.just("mAh")))
    return NUM, payload, None


@st.composite
def true_false_questions(draw):
    return TF, build("true_false", stem=draw(BILINGUAL), answer=draw(st.booleans())), None


ANY_QUESTION = choice_questions() | numeric_questions() | true_false_questions()


@st.composite
def responses(draw, qtype, order):
    """A response of the right shape (what a well-behaved client sends)."""
    if qtype is TF:
        return draw(st.none() | st.booleans())
    if qtype is NUM:
        return draw(st.none() | NUMBER | NUMBER.map(str))
    letters = [chr(ord("A") + i) for i in range(len(order))]
    if qtype is SC:
        return draw(st.none() | st.sampled_from(letters))
    return draw(st.none() | st.lists(st.sampled_from(letters), unique=True))


JUNK = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=2), inner, max_size=2), max_leaves=6)


@given(data=st.data(), question=ANY_QUESTION)
def test_grades_of_valid_responses_stay_between_0_and_1(data, question):
    qtype, payload, order = question
    response = data.draw(responses(qtype, order))
    assert 0.0 <= answer(qtype, payload, order, response) <= 1.0


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(question=ANY_QUESTION, junk=JUNK)
def test_any_response_is_either_refused_with_response_error_or_graded_in_range(question, junk):
    qtype, payload, order = question
    try:
        canonical = qtype.parse(payload, order, junk)
    except ResponseError:
        return
    assert 0.0 <= qtype.grade(payload, canonical) <= 1.0


@given(question=ANY_QUESTION)
def test_the_key_shown_through_any_option_order_scores_1(question):
    qtype, payload, order = question
    shown = qtype.display(order, qtype.key(payload))
    assert json.loads(json.dumps(shown)) == shown  # it survives the trip to the browser
    assert answer(qtype, payload, order, shown) == 1.0


@given(data=st.data(), question=choice_questions())
def test_option_order_never_changes_the_grade_of_the_same_answer(data, question):
    qtype, payload, order = question
    ids = [o["id"] for o in payload["options"]]
    if qtype is SC:
        canonical = data.draw(st.sampled_from(ids))
    else:
        canonical = sorted(data.draw(st.lists(st.sampled_from(ids), unique=True)))
    other_order = data.draw(st.permutations(ids))
    first = qtype.parse(payload, order, qtype.display(order, canonical))
    second = qtype.parse(payload, other_order, qtype.display(other_order, canonical))
    assert first == second == canonical
    assert qtype.grade(payload, first) == qtype.grade(payload, second)


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@given(question=ANY_QUESTION, lang=st.sampled_from(["en", "zh", "zh_CN"]))
def test_present_never_includes_the_key(question, lang):
    qtype, payload, order = question
    view = qtype.present(payload, order, lang)
    assert not _keys(view) & {"correct", "answer", "scoring", "tolerance", "explanation"}
    text = json.dumps(view, ensure_ascii=False)
    assert "correct" not in text and "answer" not in text
    if qtype.has_options:
        # The candidate sees opaque letters, never the authored option ids.
        assert [o["id"] for o in view["options"]] == [chr(65 + i) for i in range(len(order))]


@given(question=choice_questions(), data=st.data())
def test_present_is_the_same_whichever_option_is_correct(question, data):
    qtype, payload, order = question
    ids = [o["id"] for o in payload["options"]]
    if qtype is SC:
        correct = {data.draw(st.sampled_from(ids))}
    else:
        correct = set(data.draw(st.lists(st.sampled_from(ids), min_size=2, unique=True)))
    assume(correct != set(qtype.key(payload)) if qtype is MC else correct != {qtype.key(payload)})
    other = {**payload, "options": [{**o, "correct": o["id"] in correct}
                                    for o in payload["options"]]}
    assert qtype.present(other, order, "en") == qtype.present(payload, order, "en")


@given(question=numeric_questions(), other=NUMBER)
def test_numeric_present_is_the_same_whatever_the_answer(question, other):
    qtype, payload, _ = question
    assert qtype.present({**payload, "answer": other}, None, "zh") == qtype.present(
        payload, None, "zh")


def test_registry_holds_every_type_and_only_essays_are_human_marked():
    assert set(REGISTRY) == {"single_choice", "multiple_choice", "true_false", "numeric",
                             "short_text", "ordering", "matching", "essay", "numeric_unit"}
    assert {name for name, t in REGISTRY.items() if not t.auto_graded} == {"essay"}


def _outcome(qtype, payload, order, response):
    try:
        return "parsed", qtype.parse(payload, order, response)
    except ResponseError as exc:
        return "refused", str(exc)


@pytest.fixture(scope="module")
def bundled_questions():
    from pathlib import Path

    from examsys.bank.importer import read_files

    doc, problems = read_files([Path(__file__).resolve().parent.parent / "question_bank"])
    assert not problems
    return doc.questions


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_parse_reads_the_payload_only_where_the_type_says_so(bundled_questions, type_name):
    """Autosave fetches a question's payload only for ``parse_reads_payload`` types: every
    other type must parse each response the same without it (the bundled bank's questions
    of the type, their model answers as a candidate sends them, and malformed answers)."""
    qtype = get_type(type_name)
    questions = [q for q in bundled_questions if q.type == type_name]
    assert questions
    rng = random.Random(type_name)
    differs = False
    for q in questions:
        order = qtype.shuffle(q.payload, rng, True)
        model = qtype.model_answer(q.payload)
        sent = qtype.display(order, model) if model is not None else "电池 text"
        for response in (sent, None, "A", "Z", ["A", "B"], {"1": "A"}, 3.5, "4.2",
                         {"value": 3.2, "unit": "V"}, {"value": "1", "unit": "mAh"}, True):
            with_payload = _outcome(qtype, q.payload, order, response)
            try:
                without = _outcome(qtype, None, order, response)
            except (TypeError, KeyError, AttributeError):
                without = "needs the payload"
            if qtype.parse_reads_payload:
                differs |= without != with_payload
            else:
                assert without == with_payload, (q.key, response)
    # A type that declares it reads the payload does (else the fetch is wasted).
    assert differs == qtype.parse_reads_payload
