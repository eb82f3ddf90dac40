"""Human marking of essay and practical items: a blind queue, marks against the rubric,
double marking with a tolerance and a third marker, and the final result once all is marked.

Marks are appended, never rewritten; the item's ``fraction``/``awarded``/``marking`` are a
cache of what its marks resolve to.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from examsys.core import audit
from examsys.core.errors import Conflict, Invalid, NotFound
from examsys.exams.delivery import conclude, lock_attempt
from examsys.exams.models import Attempt, AttemptItem, AttemptState, Mark, MarkRole
from examsys.exams.scoring import DONE, PENDING, RECONCILE, rubric_max, set_fraction, tally

MAX_COMMENT = 4000


@dataclass
class Resolution:
    state: str  # pending | reconcile | done
    total: float | None  # rubric points, once done


def resolve(marks: list[Mark], double: bool, tolerance: float) -> Resolution:
    """What an item's marks (oldest first) add up to.

    One mark settles it, or with double marking two within ``tolerance`` (their mean);
    two further apart wait for a third marker, whose mark decides. A mark given on
    appeal overrides everything before it.
    """
    appeal = [m for m in marks if m.role == MarkRole.APPEAL]
    if appeal:
        return Resolution(DONE, appeal[-1].total)
    regular = [m for m in marks if m.role != MarkRole.APPEAL]
    if not double:
        return Resolution(DONE, regular[0].total) if regular else Resolution(PENDING, None)
    if len(regular) < 2:
        return Resolution(PENDING, None)
    if len(regular) >= 3:
        return Resolution(DONE, regular[2].total)
    a, b = regular[0].total, regular[1].total
    if abs(a - b) <= tolerance + 1e-9:
        return Resolution(DONE, round((a + b) / 2, 4))
    return Resolution(RECONCILE, None)


def queue(session, marker_id: int, limit: int = 50) -> list[AttemptItem]:
    """Items waiting for a mark this marker has not given, oldest attempt first.

    Nothing here names the candidate: the page shows only the question and the answer.
    """
    mine = exists().where(Mark.attempt_item_id == AttemptItem.id, Mark.marker_id == marker_id)
    return session.scalars(
        select(AttemptItem).join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(AttemptItem.marking.in_([PENDING, RECONCILE]),
               Attempt.state == AttemptState.MARKING, ~mine)
        .order_by(Attempt.finished_at, AttemptItem.id).limit(limit)).all()


def marks_of(session, item_ids: list[int]) -> dict[int, list[Mark]]:
    out: dict[int, list[Mark]] = {i: [] for i in item_ids}
    if item_ids:
        for mark in session.scalars(select(Mark).where(Mark.attempt_item_id.in_(item_ids))
                                    .order_by(Mark.id)):
            out[mark.attempt_item_id].append(mark)
    return out


def check_scores(payload: dict, scores, comment) -> tuple[dict, float, str | None]:
    """Validate a marker's scores: one number per rubric criterion, within its points."""
    if not isinstance(scores, dict):
        raise Invalid(_("Give a score for every criterion of the rubric."), code="invalid_marks")
    rubric = payload.get("rubric") or []
    problems, clean = [], {}
    for criterion in rubric:
        cid = str(criterion["id"])
        raw = scores.get(cid)
        if isinstance(raw, str):
            try:
                raw = float(raw.strip().replace(",", "."))
            except ValueError:
                raw = None
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            problems.append(_("%(criterion)s: give a number.", criterion=cid))
        elif not 0 <= raw <= criterion["points"]:
            problems.append(_("%(criterion)s: the score must be between 0 and %(max)s.",
                              criterion=cid, max=criterion["points"]))
        else:
            clean[cid] = float(raw)
    unknown = sorted(set(map(str, scores)) - {str(c["id"]) for c in rubric})
    problems += [_("%(criterion)s is not a criterion of this rubric.", criterion=c)
                 for c in unknown]
    if not rubric:
        problems.append(_("This question has no rubric to mark against."))
    if comment is not None and not isinstance(comment, str):
        problems.append(_("The comment must be text."))
    elif comment and len(comment) > MAX_COMMENT:
        problems.append(_("The comment is longer than %(n)d characters.", n=MAX_COMMENT))
    if problems:
        raise Invalid(_("The marks were not recorded."), code="invalid_marks", details=problems)
    return clean, round(sum(clean.values()), 4), (comment or "").strip() or None


def apply_resolution(item: AttemptItem, marks: list[Mark]) -> None:
    blueprint = item.attempt.session.blueprint
    res = resolve(marks, blueprint.double_marking, blueprint.marking_tolerance)
    item.marking = res.state
    if res.total is None:
        item.fraction = item.awarded = None
    else:
        set_fraction(item, res.total / rubric_max(item.scoring_version.payload, item.points))


def settle(session, now: datetime, attempt: Attempt) -> bool:
    """Re-tally an attempt after a mark; a final pass gets its certificate. True if final."""
    session.execute(select(AttemptItem).where(AttemptItem.attempt_id == attempt.id)
                    .options(selectinload(AttemptItem.key_version))).all()
    final = tally(attempt, now)
    if final:
        conclude(session, now, attempt)
        audit.record(session, now, None, "attempt.graded", attempt,
                     {"score": attempt.score, "passed": attempt.passed})
    return final


def record_mark(session, now: datetime, item_id: int, marker_id: int, scores, comment=None,
                *, role: MarkRole | None = None) -> Mark:
    """Append one marker's mark to an item waiting for it and settle the attempt.

    A marker marks an item at most once (double marking needs two different people);
    ``role=APPEAL`` is used by the appeal review and may re-mark a finished item.
    """
    item = session.get(AttemptItem, item_id)
    if item is None:
        raise NotFound(_("No such item to mark."))
    attempt = lock_attempt(session, item.attempt_id)
    session.refresh(item)
    marks = marks_of(session, [item.id])[item.id]
    if role != MarkRole.APPEAL:
        if item.marking not in (PENDING, RECONCILE) or attempt.state != AttemptState.MARKING:
            raise Conflict(_("This item needs no further mark."), code="not_awaiting_mark")
        if any(m.marker_id == marker_id for m in marks):
            raise Conflict(_("You have already marked this item; another examiner must give "
                             "the next mark."), code="already_marked")
        role = [MarkRole.FIRST, MarkRole.SECOND, MarkRole.THIRD][min(len(marks), 2)]
    clean, total, note = check_scores(item.scoring_version.payload, scores, comment)
    mark = Mark(attempt_item_id=item.id, marker_id=marker_id, role=role, scores=clean,
                total=total, comment=note, created_at=now)
    session.add(mark)
    apply_resolution(item, [*marks, mark])
    audit.record(session, now, marker_id, "mark.record", mark,
                 {"attempt_item": item.id, "role": role, "total": total, "state": item.marking})
    if role != MarkRole.APPEAL:
        settle(session, now, attempt)
    return mark
