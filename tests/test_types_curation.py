"""The curation types: short text, ordering, matching, essay, numeric with units.

Payloads are built through each type's ``validate`` (as the importer builds them); the
properties hold for every type: grades in [0, 1], the key scores full marks, and the
order the options are shown in never changes a grade.
"""

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsys.bank.types import REGISTRY, ResponseError, get_type
from examsys.bank.types.normalise import count_words, normalise
from examsys.bank.validation import parse_document
from examsys.bank.yamlio import LineDict, Problems

ST, ORD, MAT, ESS, NU = (get_type(n) for n in ("short_text", "ordering", "matching", "essay",
                                               "numeric_unit"))


def _q(raw: dict) -> LineDict:
    q = LineDict(raw)
    q.line = 3
    return q


def build(type_name: str, **raw) -> dict:
    problems = Problems("t.yaml")
    payload = {"stem": {"en": "Stem", "zh": "题干"}, "explanation": None}
    payload.update(get_type(type_name).validate(_q(raw), problems))
    assert problems.items == [], problems.items
    return payload


def problems_of(type_name: str, **raw) -> set[str]:
    problems = Problems("t.yaml")
    get_type(type_name).validate(_q(raw), problems)
    return {p.field for p in problems.items}


def answer(qtype, payload, order, response):
    return qtype.grade(payload, qtype.parse(payload, order, response))


def texts(word: str) -> dict:
    return {"en": word, "zh": f"{word}中"}


# --- short text ----------------------------------------------------------------------------

SHORT = build("short_text", answers=["NMP", "N-甲基吡咯烷酮"], pattern="n-?methyl-?2-?pyrrolidone")


@pytest.mark.parametrize("response", ["NMP", " nmp ", "ＮＭＰ", "n m p".replace(" ", ""),
                                      "N-甲基 吡咯烷酮", "N-Methyl-2-Pyrrolidone",
                                      "n methyl 2 pyrrolidone".replace(" ", "-")])
def test_short_text_accepts_normalised_answers_and_the_pattern(response):
    assert answer(ST, SHORT, None, response) == 1.0


@pytest.mark.parametrize("response", ["NMC", "DMC", "NMP solvent", "", None])
def test_short_text_rejects_other_answers(response):
    assert answer(ST, SHORT, None, response) == 0.0


def test_normalise_folds_width_case_and_space_in_both_languages():
    assert normalise("  Ｌｉ  ＦｅＰＯ４ ") == "li fepo4"
    assert normalise("磷酸 铁锂 ") == normalise("磷酸铁锂")
    assert normalise("正极， 负极") == "正极,负极"
    assert normalise("STRASSE") == normalise("straße")


def test_short_text_refuses_long_and_non_text_responses():
    with pytest.raises(ResponseError):
        ST.parse(SHORT, None, "x" * 301)
    with pytest.raises(ResponseError):
        ST.parse(SHORT, None, ["NMP"])


def test_catastrophic_pattern_cannot_stall_grading():
    # Without the pattern's time limit this backtracks for longer than anyone would wait:
    # the test would hang rather than pass.
    payload = build("short_text", answers=["aaa"], pattern="(a+)+$b|(a|aa)+c")
    assert answer(ST, payload, None, "a" * 300) == 0.0


def test_short_text_authoring_problems():
    assert problems_of("short_text", answers=[]) == {"answers"}
    assert problems_of("short_text", answers=["ok", " ", True]) == {"answers[1]", "answers[2]"}
    assert problems_of("short_text", answers=["x"], pattern="(unclosed") == {"pattern"}
    assert problems_of("short_text", answers=["x"], pattern="a" * 201) == {"pattern"}


# --- ordering ------------------------------------------------------------------------------

STEPS = ["mix", "coat", "press", "slit", "wind"]
ORDER_PARTIAL = build("ordering", options=[{"id": s, "text": texts(s)} for s in STEPS])
ORDER_ALL = build("ordering", options=[{"id": s, "text": texts(s)} for s in STEPS],
                  scoring="all_or_nothing")


def shown(order, canonical):
    return [chr(65 + order.index(c)) for c in canonical]


def test_ordering_partial_credit_counts_adjacent_pairs():
    order = ORD.shuffle(ORDER_PARTIAL, random.Random(1), True)
    assert answer(ORD, ORDER_PARTIAL, order, shown(order, STEPS)) == 1.0
    # "wind" moved to the front: pairs mix-coat, coat-press, press-slit still right (3 of 4)
    moved = ["wind", "mix", "coat", "press", "slit"]
    assert answer(ORD, ORDER_PARTIAL, order, shown(order, moved)) == 0.75
    assert answer(ORD, ORDER_ALL, order, shown(order, moved)) == 0.0
    assert answer(ORD, ORDER_PARTIAL, order, shown(order, STEPS[::-1])) == 0.0


def test_ordering_is_never_shown_in_the_key_order():
    for seed in range(200):
        assert ORD.shuffle(ORDER_PARTIAL, random.Random(seed), False) != STEPS
    assert ORD.shuffle(ORDER_PARTIAL, None, False) != STEPS  # the examiner's preview too


@pytest.mark.parametrize("response", [["A", "B"], ["A", "A", "B", "C", "D"], "ABCDE",
                                      ["A", "B", "C", "D", "Z"]])
def test_ordering_refuses_responses_that_are_not_a_permutation(response):
    order = ORD.shuffle(ORDER_PARTIAL, random.Random(1), True)
    with pytest.raises(ResponseError):
        ORD.parse(ORDER_PARTIAL, order, response)


def test_ordering_authoring_problems():
    assert problems_of("ordering", options=[{"id": "a", "text": texts("a")}]) == {"options"}
    three = [{"id": i, "text": texts(i)} for i in "abc"]
    assert problems_of("ordering", options=three, scoring="some") == {"scoring"}
    assert problems_of("ordering", options=[*three[:2], {"id": "a", "text": texts("x"),
                                                         "correct": True}]) == {
        "options[2].id", "options[2].correct"}


# --- matching ------------------------------------------------------------------------------

PAIRS = [("lfp", "olivine"), ("lmo", "spinel"), ("lco", "layered")]
MATCH = build("matching", pairs=[{"id": i, "prompt": texts(i.upper()), "match": texts(m)}
                                 for i, m in PAIRS],
              distractors=[{"id": "flu", "text": texts("Fluorite")}])


def match_response(order, canonical: dict) -> dict:
    prompts, matches = order
    return {str(prompts.index(p) + 1): chr(65 + matches.index(m)) for p, m in canonical.items()}


def test_matching_partial_credit_per_pair_and_view_hides_the_key():
    order = MAT.shuffle(MATCH, random.Random(3), True)
    key = {"lfp": "lfp", "lmo": "lmo", "lco": "lco"}
    assert answer(MAT, MATCH, order, match_response(order, key)) == 1.0
    two = {"lfp": "lfp", "lmo": "lmo", "lco": "flu"}
    assert answer(MAT, MATCH, order, match_response(order, two)) == pytest.approx(2 / 3)
    assert answer(MAT, MATCH, order, match_response(order, {"lfp": "lfp"})) == \
        pytest.approx(1 / 3)
    assert answer(MAT, MATCH, order, {}) == 0.0
    view = MAT.present(MATCH, order, "en")
    assert [c["id"] for c in view["choices"]] == ["A", "B", "C", "D"]
    assert not any(pid in json.dumps(view) for pid in ('"lfp"', '"lmo"', '"flu"'))
    assert MAT.display(order, MAT.parse(MATCH, order, {"1": "B"})) == {"1": "B"}


@pytest.mark.parametrize("response", [["A"], {"9": "A"}, {"1": "Z"}, {"x": "A"}, {"1": 2}])
def test_matching_refuses_unknown_prompts_and_letters(response):
    order = MAT.shuffle(MATCH, random.Random(3), True)
    with pytest.raises(ResponseError):
        MAT.parse(MATCH, order, response)


def test_matching_authoring_problems():
    assert problems_of("matching", pairs=[{"id": "a", "prompt": texts("a"),
                                           "match": texts("b")}]) == {"pairs"}
    assert problems_of("matching", pairs=[{"id": "a", "prompt": texts("a")},
                                          {"id": "a", "prompt": texts("b"),
                                           "match": texts("c")}]) == {
        "pairs[0].match", "pairs[1].id"}


# --- essay ---------------------------------------------------------------------------------

ESSAY = build("essay", rubric=[{"id": "isolate", "criterion": texts("isolate"), "points": 2},
                               {"id": "report", "criterion": texts("report"), "points": 1}],
              word_limit=50)


def test_essay_is_human_marked_and_keeps_the_text():
    assert ESS.auto_graded is False
    text = "Isolate the cell.\n隔离电芯。"
    canonical = ESS.parse(ESSAY, None, text)
    assert canonical == text
    assert ESS.grade(ESSAY, canonical) is None
    assert ESS.parse(ESSAY, None, "   ") is None
    assert ESS.max_points(ESSAY) == 3.0
    view = ESS.present(ESSAY, None, "zh")
    assert view["word_limit"] == 50 and "rubric" not in view
    with pytest.raises(ResponseError):
        ESS.parse(ESSAY, None, 42)


def test_words_count_chinese_characters_and_latin_words():
    assert count_words("Isolate the cell, 隔离电芯。") == 3 + 4


def test_essay_authoring_problems():
    assert problems_of("essay", rubric=[]) == {"rubric"}
    assert problems_of("essay", rubric=[{"id": "a", "criterion": texts("a"), "points": 0}],
                       word_limit=0) == {"rubric[0].points", "word_limit"}


# --- numeric with units --------------------------------------------------------------------

CAP = build("numeric_unit", answer=2.5, unit="Ah", tolerance={"relative": 0.01})
ENERGY = build("numeric_unit", answer=1.2, unit="kWh", tolerance={"absolute": 0.05},
               units=["kWh", "Wh"])


@pytest.mark.parametrize(("payload", "response", "fraction"), [
    (CAP, {"value": 2.5, "unit": "Ah"}, 1.0),
    (CAP, {"value": 2500, "unit": "mAh"}, 1.0),
    (CAP, {"value": "2 490", "unit": "mAh"}, 0.0),  # not a number: refused below instead
    (CAP, {"value": 2490, "unit": "mAh"}, 1.0),     # within 1 %
    (CAP, {"value": 2400, "unit": "mAh"}, 0.0),
    (CAP, {"value": 2.5, "unit": "mAh"}, 0.0),
    (CAP, {"value": 2.5, "unit": None}, 0.0),
    (ENERGY, {"value": 1200, "unit": "Wh"}, 1.0),
    (ENERGY, {"value": "1,2", "unit": "kwh"}, 1.0),
    (ENERGY, {"value": 1.3, "unit": "kWh"}, 0.0),
])
def test_numeric_unit_converts_before_comparing(payload, response, fraction):
    try:
        assert answer(NU, payload, None, response) == fraction
    except ResponseError:
        assert response["value"] == "2 490"


def test_numeric_unit_reads_typed_units_and_refuses_unknown_ones():
    resistance = build("numeric_unit", answer=0.5, unit="mΩ", tolerance={"absolute": 0.1})
    assert NU.parse(resistance, None, {"value": 500, "unit": "uohm"})["unit"] == "µΩ"
    assert answer(NU, resistance, None, {"value": 500, "unit": "uohm"}) == 1.0
    for bad in ({"value": 1, "unit": "Wh"}, {"value": 1, "unit": "parsec"}, [1, "Ah"],
                {"value": "lots", "unit": "Ah"}, {"value": 1, "unit": "Ah", "x": 1}):
        with pytest.raises(ResponseError):
            NU.parse(CAP, None, bad)
    assert NU.parse(CAP, None, {"value": None, "unit": None}) is None


def test_numeric_unit_view_lists_units_alphabetically_without_the_answer():
    view = NU.present(ENERGY, None, "en")
    assert view["units"] == ["kWh", "Wh"]
    assert "1.2" not in json.dumps(view)


def test_numeric_unit_authoring_problems():
    assert problems_of("numeric_unit", answer=1, tolerance={"absolute": 0}) == {"unit"}
    assert problems_of("numeric_unit", answer=1, unit="Ah", tolerance={"absolute": 0},
                       units=["Wh"]) == {"units[0]"}
    assert problems_of("numeric_unit", answer=1, unit="cycles", tolerance={"absolute": 0},
                       units={"kcycles": -1}) == {"units.kcycles"}
    custom = build("numeric_unit", answer=500, unit="cycles", tolerance={"absolute": 0},
                   units={"kcycles": 1000})
    assert answer(NU, custom, None, {"value": 0.5, "unit": "kcycles"}) == 1.0


# --- a bank file with every new type ---------------------------------------------------------

FILE = """questions:
  - key: T-SHORT
    topic: chem
    type: short_text
    levels: [engineer]
    difficulty: 1
    stem: {en: "Solvent?"}
    answers: [NMP]
    options: []
  - key: T-MATCH
    topic: chem
    type: matching
    levels: [engineer]
    difficulty: 1
    stem: {en: "Match", zh: "配对"}
    pairs:
      - {id: a, prompt: {en: A}, match: {en: B, zh: 乙}}
      - {id: b, prompt: {en: C, zh: 丙}, match: {en: D, zh: 丁}}
"""


def test_a_bank_file_reports_unknown_fields_and_language_mismatches_by_line():
    problems = Problems("f.yaml")
    parse_document("f.yaml", FILE.encode(), problems)
    # Each on the line of the field at fault: "options: []" and the first pair.
    assert {(p.line, p.field) for p in problems.items} == {
        (9, "T-SHORT.options"), (17, "T-MATCH.pairs[0].prompt")}


# --- properties shared by every auto-graded type ---------------------------------------------

def _candidates(qtype, payload, rng: random.Random):
    """Canonical responses a candidate could give: the model answer, nothing, and noise."""
    model = qtype.model_answer(payload)
    yield model
    yield None
    if qtype.name == "ordering":
        ids = list(model)
        rng.shuffle(ids)
        yield ids
    elif qtype.name == "matching":
        choices = [p["id"] for p in payload["pairs"]] + [d["id"] for d in payload["distractors"]]
        yield {p: rng.choice(choices) for p in model if rng.random() < 0.7}
    elif qtype.name == "short_text":
        yield rng.choice(["", "x", model.upper(), " " + model + " "])
    elif qtype.name == "numeric_unit":
        unit = rng.choice(list(payload["units"]))
        yield {"value": model["value"] / payload["units"][unit], "unit": unit}
        yield {"value": rng.uniform(-1e6, 1e6), "unit": unit}


@st.composite
def payloads(draw):
    name = draw(st.sampled_from(["short_text", "ordering", "matching", "numeric_unit"]))
    if name == "short_text":
        words = draw(st.lists(st.text(min_size=1, max_size=30).filter(lambda s: normalise(s)),
                              min_size=1, max_size=5))
        return name, build(name, answers=words)
    if name == "ordering":
        n = draw(st.integers(3, 10))
        return name, build(name, options=[{"id": f"s{i}", "text": texts(f"s{i}")}
                                          for i in range(n)],
                           scoring=draw(st.sampled_from(["partial", "all_or_nothing"])))
    if name == "matching":
        n = draw(st.integers(2, 12))
        d = draw(st.integers(0, 6))
        return name, build(name, pairs=[{"id": f"p{i}", "prompt": texts(f"p{i}"),
                                         "match": texts(f"m{i}")} for i in range(n)],
                           distractors=[{"id": f"d{i}", "text": texts(f"d{i}")}
                                        for i in range(d)])
    value = draw(st.floats(min_value=1e-3, max_value=1e6))
    unit = draw(st.sampled_from(["Ah", "mAh", "kWh", "Wh", "V", "mΩ", "g"]))
    return name, build(name, answer=value, unit=unit, tolerance={"relative": 0.001})


@settings(max_examples=150)
@given(question=payloads(), seeds=st.tuples(st.integers(0, 2**32), st.integers(0, 2**32)))
def test_grades_are_fractions_the_key_scores_full_and_shown_order_never_matters(question,
                                                                               seeds):
    name, payload = question
    qtype = REGISTRY[name]
    assert qtype.grade(payload, qtype.model_answer(payload)) == pytest.approx(1.0)
    order_a = qtype.shuffle(payload, random.Random(seeds[0]), True)
    order_b = qtype.shuffle(payload, random.Random(seeds[1]), True)
    for canonical in _candidates(qtype, payload, random.Random(seeds[0])):
        fraction = qtype.grade(payload, canonical)
        assert 0.0 <= fraction <= 1.0
        # What the candidate sends depends on the shown order; the grade must not.
        for order in (order_a, order_b):
            sent = qtype.display(order, canonical)
            assert json.loads(json.dumps(sent)) == sent  # the API carries it as JSON
            assert qtype.grade(payload, qtype.parse(payload, order, sent)) == fraction


@settings(max_examples=60)
@given(question=payloads(), seed=st.integers(0, 2**32))
def test_candidate_view_never_carries_the_key(question, seed):
    name, payload = question
    qtype = REGISTRY[name]
    view = json.dumps(qtype.present(payload, qtype.shuffle(payload, random.Random(seed), True),
                                    "en"))
    for field in ("answers", "pattern", "correct", "pairs", "answer", "match"):
        assert f'"{field}"' not in view
