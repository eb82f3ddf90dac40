"""Appeals: a candidate contests a released result; a different examiner reviews it and may
re-mark the human-marked items. Every step is audited; marks are appended, not rewritten."""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from examsys.core import audit
from examsys.core.clock import iso
from examsys.core.errors import Conflict, Forbidden, Invalid, NotFound
from examsys.exams import notifications
from examsys.exams.delivery import (
    conclude,
    lock_attempt,
    result_released_at,
    results_released,
)
from examsys.exams.marking import marks_of, record_mark
from examsys.exams.models import (
    Appeal,
    AppealState,
    Attempt,
    AttemptItem,
    AttemptState,
    Mark,
    MarkRole,
)
from examsys.exams.scoring import tally

MAX_REASON = 4000


def configured_window() -> timedelta:
    """The configured time to appeal (``EXAMSYS_APPEAL_DAYS``)."""
    return timedelta(days=current_app.config["APPEAL_DAYS"])


def appeal_closes_at(attempt: Attempt, window: timedelta | None = None) -> datetime | None:
    """The end of the time to appeal: ``window`` (by default the configured one) after the
    result was released. A result graded anew (re-marked, regraded) is released anew, and
    can be appealed anew."""
    released = result_released_at(attempt)
    return released + (window or configured_window()) if released else None


def file_appeal(session, now: datetime, attempt_id: int, candidate_id: int,
                reason: str, window: timedelta | None = None) -> Appeal:
    """Open an appeal against a released result, within ``window`` of its release (by
    default the configured one; one open appeal per attempt)."""
    attempt = lock_attempt(session, attempt_id, candidate_id)
    if not results_released(attempt, now):
        raise Conflict(_("You can appeal once your result is released."), code="not_released")
    if now >= (closes_at := appeal_closes_at(attempt, window)):
        raise Conflict(_("The time to appeal this result has ended."),
                       code="appeal_window_closed", details={"closed_at": iso(closes_at)})
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise Invalid(_("Say why you appeal."), code="invalid_reason")
    if len(reason) > MAX_REASON:
        raise Invalid(_("The reason is longer than %(n)d characters.", n=MAX_REASON),
                      code="invalid_reason")
    if session.scalar(select(Appeal.id).where(Appeal.attempt_id == attempt.id,
                                              Appeal.state == AppealState.OPEN)):
        raise Conflict(_("An appeal about this attempt is already open."), code="appeal_open")
    appeal = Appeal(attempt_id=attempt.id, candidate_id=candidate_id, reason=reason,
                    filed_at=now, state=AppealState.OPEN, score_before=attempt.score)
    session.add(appeal)
    audit.record(session, now, candidate_id, "appeal.file", appeal, {"attempt": attempt.id})
    return appeal


def markers_of(session, attempt_id: int) -> set[int]:
    return set(session.scalars(select(Mark.marker_id).join(
        AttemptItem, AttemptItem.id == Mark.attempt_item_id)
        .where(AttemptItem.attempt_id == attempt_id)))


def decide(session, now: datetime, appeal_id: int, reviewer_id: int, *, upheld: bool,
           decision: str, remarks: dict | None = None) -> tuple[Appeal, bool]:
    """Decide an appeal; an upheld one may re-mark human-marked items
    (``remarks`` = {attempt item id: {"scores": {...}, "comment": ...}}).

    The reviewer must not have marked this attempt. A pass that appears issues the
    certificate; a pass that disappears leaves the issued certificate alone and returns
    True (``needs_certificate_review``) so that an examiner decides about revoking it.
    """
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(_("No such appeal."))
    attempt = lock_attempt(session, appeal.attempt_id)
    session.refresh(appeal)
    if appeal.state != AppealState.OPEN:
        raise Conflict(_("This appeal is already decided."), code="appeal_decided")
    if attempt.state == AttemptState.INVALIDATED:
        # An invalidated attempt has no result to correct: deciding would revive it.
        raise Conflict(_("This attempt was invalidated; its appeal cannot change it."),
                       code="attempt_invalidated")
    if reviewer_id in markers_of(session, attempt.id):
        raise Forbidden(_("An examiner who marked this attempt cannot review its appeal."),
                        code="same_examiner")
    decision = (decision or "").strip()
    if not decision:
        raise Invalid(_("Give the reasons for the decision."), code="invalid_decision")
    remarks = remarks or {}
    if remarks and not upheld:
        raise Invalid(_("Only an upheld appeal changes marks."), code="invalid_decision")
    items = {i.id: i for i in attempt.items}
    marks = marks_of(session, list(items))
    for raw_id, remark in remarks.items():
        raw = str(raw_id)
        item = items.get(int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 19 \
            else None
        if item is None or item.marking is None:
            raise Invalid(_("Item %(id)s is not a marked item of this attempt.", id=raw_id),
                          code="invalid_decision")
        if not isinstance(remark, dict):
            raise Invalid(_("Give scores for item %(id)s.", id=raw_id), code="invalid_decision")
        record_mark(session, now, item.id, reviewer_id, remark.get("scores"),
                    remark.get("comment"), role=MarkRole.APPEAL)
        marks[item.id] = marks_of(session, [item.id])[item.id]
    was_passed = attempt.passed
    if remarks:
        tally(attempt, now)
    review = False
    if was_passed and not attempt.passed:
        review = True
        audit.record(session, now, reviewer_id, "certificate.review_needed", attempt,
                     {"appeal": appeal.id, "why": "appeal lowered the result below the pass"})
    elif attempt.passed:
        conclude(session, now, attempt)
    appeal.state = AppealState.UPHELD if upheld else AppealState.DISMISSED
    appeal.reviewer_id, appeal.decided_at, appeal.decision = reviewer_id, now, decision
    appeal.score_after = attempt.score
    audit.record(session, now, reviewer_id, "appeal.decide", appeal,
                 {"state": appeal.state, "score_before": appeal.score_before,
                  "score_after": appeal.score_after, "remarked": sorted(map(str, remarks))})
    notifications.notify(session, now, appeal.candidate_id, "appeal_decided",
                         {"title": attempt.session.title, "decision": decision,
                          "attempt_id": attempt.id})
    return appeal, review


def open_appeals(session) -> list[Appeal]:
    return session.scalars(select(Appeal).where(Appeal.state == AppealState.OPEN)
                           .order_by(Appeal.filed_at)).all()
