"""Drawing an exam form from a blueprint: reproducible from the attempt's seed."""

import random
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import or_, select

from examsys.bank.models import Question, QuestionLevel, QuestionVersion, Status, Topic
from examsys.bank.sections import section_types
from examsys.bank.types import get_type
from examsys.core.errors import Conflict
from examsys.exams.models import Blueprint


@dataclass
class DrawnItem:
    position: int
    section: str
    version: QuestionVersion
    points: float
    option_order: list[str] | None


def _pool(session, section: dict) -> list[int]:
    """Ids of the current versions of active questions a section may draw, in id order.

    Only the section's question types: human-marked ones only where it names them.
    """
    topic_match = or_(*[or_(Topic.path == t, Topic.path.startswith(t + "/"))
                        for t in section["topics"]])
    levels = select(QuestionLevel.question_id).where(QuestionLevel.level.in_(section["levels"]))
    rows = session.execute(
        select(Question.id, Question.current_version_id)
        .join(Topic, Question.topic_id == Topic.id)
        .where(Question.status == Status.ACTIVE, topic_match, Question.id.in_(levels),
               Question.type.in_(section_types(section)))
        .order_by(Question.id))
    return [(qid, vid) for qid, vid in rows]


def draw_form(session, blueprint: Blueprint, seed: int,
              avoid: set[int] | frozenset[int] = frozenset()) -> list[DrawnItem]:
    """Draw every section's items without repeats, shuffle options, all from ``seed``.

    Questions in ``avoid`` (seen in the candidate's last attempt) are left out where the
    section's pool is large enough without them, else as few as needed are drawn again.
    The same seed, bank and ``avoid`` give the same form; queries are one per section plus one.
    """
    rng = random.Random(seed)
    taken: set[int] = set()
    picks: list[tuple[dict, int]] = []
    for section in blueprint.sections:
        pool = [(q, v) for q, v in _pool(session, section) if q not in taken]
        if len(pool) < section["count"]:
            raise Conflict(_("The question bank cannot fill the section %(section)s of this "
                             "exam: it needs %(count)d active items and has %(found)d.",
                             section=section["key"], count=section["count"], found=len(pool)),
                           code="bank_exhausted")
        fresh = [(q, v) for q, v in pool if q not in avoid]
        if avoid and len(fresh) < section["count"]:
            seen = [(q, v) for q, v in pool if q in avoid]
            fresh += rng.sample(seen, section["count"] - len(fresh))
        for qid, vid in rng.sample(fresh if avoid else pool, section["count"]):
            taken.add(qid)
            picks.append((section, vid))
    versions = {v.id: v for v in session.scalars(
        select(QuestionVersion).where(QuestionVersion.id.in_([vid for _, vid in picks])))}
    items = []
    for position, (section, vid) in enumerate(picks, start=1):
        version = versions[vid]
        order = get_type(version.type).shuffle(version.payload, rng, blueprint.shuffle_options)
        items.append(DrawnItem(position, section["key"], version, float(section["points"]),
                               order))
    return items
