"""Drawing exam forms from a blueprint (examsys.exams.assembly.draw_form) on the mini bank:
24 active questions, 12 under chem/cells and 12 under safety, all for engineer and skill_3."""

import pytest
from sqlalchemy import select

from examsys.bank.models import Question, Status, Topic
from examsys.core.errors import Conflict
from examsys.exams.assembly import draw_form
from examsys.exams.models import Blueprint, Certification
from examsys.extensions import db


def section(key: str, topics: list[str], count: int, points: float = 1,
            levels: list[str] | None = None) -> dict:
    return {"key": key, "title": {"en": key, "zh": key}, "topics": topics,
            "levels": levels or ["engineer"], "count": count, "points": points,
            "pass_mark": None}


def blueprint(*sections: dict, shuffle_options: bool = True) -> Blueprint:
    """A blueprint as an examiner would author it (not saved: draw_form only reads it)."""
    return Blueprint(time_limit_minutes=30, pass_mark=60, shuffle_options=shuffle_options,
                     sections=list(sections))


def test_cert_blueprint() -> Blueprint:
    return db.session.scalar(select(Certification).where(
        Certification.code == "TEST-CERT")).current_blueprint


test_cert_blueprint.__test__ = False  # a helper, not a test


def fingerprint(form) -> list[tuple]:
    return [(i.position, i.section, i.version.id, i.points,
             None if i.option_order is None else tuple(i.option_order)) for i in form]


def question_ids(form) -> list[int]:
    return [i.version.question_id for i in form]


def keys_under(topic: str) -> dict[int, str]:
    rows = db.session.execute(select(Question.id, Question.external_key).join(
        Topic, Question.topic_id == Topic.id).where(
        (Topic.path == topic) | Topic.path.startswith(topic + "/")))
    return dict(rows.all())


def test_same_seed_draws_an_identical_form(bank):
    bp = test_cert_blueprint()
    first = draw_form(db.session, bp, 123456789)
    db.session.expire_all()
    second = draw_form(db.session, bp, 123456789)
    assert fingerprint(first) == fingerprint(second)
    assert len(first) == 8
    assert [i.section for i in first] == ["chem"] * 4 + ["safety"] * 4
    assert [i.points for i in first] == [2.0] * 4 + [1.0] * 4
    assert [i.position for i in first] == list(range(1, 9))


def test_different_seeds_draw_different_forms(bank):
    bp = test_cert_blueprint()
    forms = {tuple(fingerprint(draw_form(db.session, bp, seed))) for seed in range(1, 7)}
    assert len(forms) > 1
    # Not only the option orders differ: the questions themselves vary between seeds.
    assert len({frozenset(question_ids(draw_form(db.session, bp, s))) for s in range(1, 7)}) > 1


def test_items_come_from_their_sections_topics(bank):
    chem, safety = keys_under("chem"), keys_under("safety")
    for seed in range(10):
        form = draw_form(db.session, test_cert_blueprint(), seed)
        assert all(i.version.question_id in chem for i in form if i.section == "chem")
        assert all(i.version.question_id in safety for i in form if i.section == "safety")


def test_option_orders_are_permutations_of_the_authored_options(bank):
    for item in draw_form(db.session, test_cert_blueprint(), 42):
        authored = [o["id"] for o in item.version.payload.get("options", [])]
        if authored:
            assert sorted(item.option_order) == sorted(authored)
        else:
            assert item.option_order is None


def test_no_question_is_repeated_when_sections_share_topics(bank):
    bp = blueprint(section("cells", ["chem/cells"], 4),
                   section("chem_again", ["chem"], 4),
                   section("everything", ["chem", "safety"], 12))
    for seed in range(25):
        ids = question_ids(draw_form(db.session, bp, seed))
        assert len(ids) == 20
        assert len(set(ids)) == 20, f"seed {seed} repeated a question"


def test_two_identical_sections_take_the_whole_topic_without_repeats(bank):
    bp = blueprint(section("one", ["chem"], 6), section("two", ["chem/cells"], 6))
    for seed in range(5):
        assert set(question_ids(draw_form(db.session, bp, seed))) == set(keys_under("chem"))


def _set_status(keys: list[str], status: Status) -> None:
    for q in db.session.scalars(select(Question).where(Question.external_key.in_(keys))):
        q.status = status
    db.session.commit()


def test_retired_draft_and_review_questions_are_never_drawn(bank):
    chem = keys_under("chem")
    excluded = sorted(chem.values())[:4]
    _set_status(excluded[:2], Status.RETIRED)
    _set_status(excluded[2:3], Status.DRAFT)
    _set_status(excluded[3:], Status.REVIEW)
    active = {qid for qid, key in chem.items() if key not in excluded}
    bp = blueprint(section("chem", ["chem"], 8))  # exactly the active ones are left
    for seed in range(10):
        assert set(question_ids(draw_form(db.session, bp, seed))) == active
    with pytest.raises(Conflict) as raised:
        draw_form(db.session, blueprint(section("chem", ["chem"], 9)), 1)
    assert raised.value.code == "bank_exhausted"


def test_a_bank_too_small_for_a_section_raises_bank_exhausted(bank):
    with pytest.raises(Conflict) as raised:
        draw_form(db.session, blueprint(section("chem", ["chem"], 4),
                                        section("safety", ["safety"], 13)), 7)
    assert raised.value.code == "bank_exhausted"
    assert raised.value.status == 409
    assert "safety" in raised.value.message


def test_overlapping_sections_that_together_need_more_than_the_pool_raise(bank):
    bp = blueprint(section("chem", ["chem"], 8), section("cells", ["chem/cells"], 5))
    with pytest.raises(Conflict) as raised:
        draw_form(db.session, bp, 3)
    assert raised.value.code == "bank_exhausted"


def test_sections_only_draw_their_levels(bank):
    with pytest.raises(Conflict) as raised:
        draw_form(db.session, blueprint(section("senior", ["chem"], 1,
                                                levels=["senior_engineer"])), 1)
    assert raised.value.code == "bank_exhausted"


def test_shuffle_options_false_keeps_the_authored_order(bank):
    bp = blueprint(section("chem", ["chem"], 12), section("safety", ["safety"], 12),
                   shuffle_options=False)
    for seed in (1, 2, 3):
        form = draw_form(db.session, bp, seed)
        with_options = [i for i in form if i.option_order is not None]
        assert with_options
        for item in with_options:
            assert item.option_order == [o["id"] for o in item.version.payload["options"]]


def test_shuffle_options_true_does_reorder_options(bank):
    """The counterpart of the test above, so that it cannot pass by never shuffling."""
    bp = blueprint(section("chem", ["chem"], 12), section("safety", ["safety"], 12))
    form = draw_form(db.session, bp, 1)
    assert any(i.option_order != [o["id"] for o in i.version.payload["options"]]
               for i in form if i.option_order is not None)
