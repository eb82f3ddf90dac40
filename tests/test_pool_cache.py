"""Exam starts draw from pools cached per bank generation (examsys.exams.assembly): every
write to the drawable bank must move the generation on, by whatever path it comes, and a
draw after a change must see it. Runs on SQLite and on PostgreSQL (different triggers)."""

import pytest
from sqlalchemy import select, text

from examsys.bank.models import BankGeneration, Question, Status, Topic
from examsys.core.errors import Conflict
from examsys.exams.assembly import draw_form, pool_cache
from examsys.extensions import db

from .test_assembly import blueprint, fingerprint, keys_under, question_ids, section
from .test_query_counts import counting


def generation() -> int:
    db.session.rollback()  # a fresh read, outside any transaction the test left open
    return db.session.scalar(select(BankGeneration.number).where(BankGeneration.id == 1))


def pool_reads(statements: list[str]) -> list[str]:
    """The statements that read the bank's pools (questions with their topic and level)."""
    return [s for s in statements if "topic.path" in s and "question_level.level" in s]


CHEM = blueprint(section("chem", ["chem"], 8))


def test_the_pools_are_read_once_per_generation(bank):
    with counting() as statements:
        first = draw_form(db.session, CHEM, 1)
        again = draw_form(db.session, CHEM, 1)
        draw_form(db.session, CHEM, 2)
        assert len(pool_reads(statements)) == 1
        assert fingerprint(again) == fingerprint(first)  # the cache changes no draw
        _retire(sorted(keys_under("chem").values())[:1])
        draw_form(db.session, CHEM, 3)
        assert len(pool_reads(statements)) == 2
        pool_cache().clear()  # a cold start again (what test_query_counts measures)
        draw_form(db.session, CHEM, 4)
        assert len(pool_reads(statements)) == 3


def _retire(keys: list[str]) -> None:
    for q in db.session.scalars(select(Question).where(Question.external_key.in_(keys))):
        q.status = Status.RETIRED
    db.session.commit()


def test_a_draw_after_a_status_change_never_draws_the_retired_question(bank):
    chem = keys_under("chem")
    draw_form(db.session, CHEM, 1)  # fills the cache
    retired = sorted(chem.values())[:3]
    _retire(retired)
    gone = {qid for qid, key in chem.items() if key in retired}
    left = blueprint(section("chem", ["chem"], len(chem) - len(retired)))
    for seed in range(6):
        assert gone.isdisjoint(question_ids(draw_form(db.session, left, seed)))


def test_a_draw_sees_levels_and_topics_changed_by_hand(bank):
    """Writes that bypass the ORM (psql, a script) move the generation too: triggers."""
    chem = keys_under("chem")
    senior = blueprint(section("senior", ["chem"], 1, levels=["senior_engineer"]))
    with pytest.raises(Conflict, match="cannot fill"):
        draw_form(db.session, senior, 1)
    qid = min(chem)
    db.session.execute(text("INSERT INTO question_level (question_id, level) "
                            "VALUES (:q, 'senior_engineer')"), {"q": qid})
    db.session.commit()
    assert question_ids(draw_form(db.session, senior, 1)) == [qid]

    moved = blueprint(section("moved", ["moved"], 1, levels=["senior_engineer"]))
    with pytest.raises(Conflict, match="cannot fill"):
        draw_form(db.session, moved, 1)
    db.session.execute(text("UPDATE topic SET path = 'moved' WHERE id = "
                            "(SELECT topic_id FROM question WHERE id = :q)"), {"q": qid})
    db.session.commit()
    assert question_ids(draw_form(db.session, moved, 1)) == [qid]

    db.session.execute(text("DELETE FROM question_level WHERE question_id = :q "
                            "AND level = 'senior_engineer'"), {"q": qid})
    db.session.commit()
    with pytest.raises(Conflict, match="cannot fill"):
        draw_form(db.session, moved, 1)


@pytest.mark.parametrize("statement", [
    "UPDATE question SET difficulty = difficulty WHERE id = (SELECT MIN(id) FROM question)",
    "DELETE FROM question_level WHERE question_id = (SELECT MIN(id) FROM question)",
    "UPDATE topic SET name_en = name_en",
    "INSERT INTO topic (path, name_en, name_zh) VALUES ('new', 'New', '新')",
])
def test_every_write_to_the_drawable_bank_moves_the_generation(bank, statement):
    before = generation()
    db.session.execute(text(statement))
    db.session.commit()
    assert generation() > before


def test_a_rolled_back_write_leaves_the_generation(bank):
    before = generation()
    db.session.execute(text("UPDATE question SET status = 'retired'"))
    db.session.rollback()
    assert generation() == before


def test_writes_elsewhere_leave_the_generation(bank):
    before = generation()
    db.session.execute(text("UPDATE question_version SET reference = reference"))
    db.session.commit()
    assert generation() == before


def test_a_large_write_moves_it_once_on_postgresql(bank):
    """PostgreSQL's trigger updates the row once per transaction, not once per row (an
    import of thousands of questions); SQLite's moves it per row, which costs nothing
    there."""
    rows = db.session.scalar(select(db.func.count()).select_from(Question))
    before = generation()
    db.session.execute(text("UPDATE question SET difficulty = difficulty"))
    db.session.commit()
    moved = generation() - before
    assert moved == (1 if db.engine.dialect.name == "postgresql" else rows)


def test_emptying_the_bank_moves_the_generation(bank):
    before = generation()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE question_level"))
    else:
        db.session.execute(text("DELETE FROM question_level"))
    db.session.commit()
    assert generation() > before


def test_a_topic_row_counts_like_a_question(bank):
    topic = db.session.scalar(select(Topic).where(Topic.path == "chem"))
    before = generation()
    topic.name_zh = "化学（改）"
    db.session.commit()
    assert generation() > before
