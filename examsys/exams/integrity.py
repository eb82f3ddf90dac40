"""Integrity of an attempt: one active device, a log of what the browser and network did,
invalidation by an examiner, and accommodations that move a running attempt's deadline."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from examsys.core import audit
from examsys.core.errors import Conflict, Invalid, NotFound
from examsys.exams import notifications
from examsys.exams.models import (
    Attempt,
    AttemptEvent,
    AttemptState,
    Enrollment,
    ExamSession,
    ReleasePolicy,
)

# What the exam page may report about itself (anything else is refused).
CLIENT_EVENTS = frozenset({"focus_lost", "focus_returned", "hidden", "visible", "offline",
                           "online", "fullscreen_exit"})
MAX_EXTRA_MINUTES = 24 * 60
MAX_MULTIPLIER = 4.0


def stored_user_agent(user_agent: str | None) -> str | None:
    """A browser's User-Agent as the integrity log keeps it: at most 300 characters."""
    return (user_agent or "")[:300] or None


def log_event(session, now: datetime, attempt: Attempt, kind: str, *,
              login_session_id: str | None = None, ip: str | None = None,
              user_agent: str | None = None, data: dict | None = None) -> None:
    session.add(AttemptEvent(attempt_id=attempt.id, at=now, kind=kind, ip=ip,
                             user_agent=stored_user_agent(user_agent),
                             login_session_id=login_session_id, data=data))


def claim_device(session, now: datetime, attempt: Attempt, login_session_id: str | None,
                 ip: str | None = None, user_agent: str | None = None) -> bool:
    """Make this login session the attempt's one active device (a locked, open attempt).

    A different session taking over is logged; the one it replaced is refused from then on
    (``superseded_device``) and its page says so. Returns True on a take-over.
    """
    track_client(session, now, attempt, login_session_id, ip, user_agent)
    if login_session_id is None or attempt.device_session_id == login_session_id:
        return False
    previous = attempt.device_session_id
    attempt.device_session_id = login_session_id
    if previous is None:
        return False
    log_event(session, now, attempt, "device_takeover", login_session_id=login_session_id,
              ip=ip, user_agent=user_agent, data={"previous": previous[:8]})
    audit.record(session, now, attempt.candidate_id, "attempt.device_takeover", attempt,
                 {"ip": ip})
    return True


def device_allowed(device_session_id: str | None, login_session_id: str | None) -> bool:
    """Whether a request of ``login_session_id`` may write to an attempt held by
    ``device_session_id`` (no holder yet, the holder itself, or no login to compare)."""
    return (login_session_id is None or device_session_id is None
            or device_session_id == login_session_id)


def check_device(attempt: Attempt, login_session_id: str | None) -> None:
    if not device_allowed(attempt.device_session_id, login_session_id):
        raise Conflict(_("This exam was opened on another device or browser; answers are "
                         "saved there now. Reload this page to continue here."),
                       code="superseded_device")


def track_client(session, now: datetime, attempt: Attempt, login_session_id: str | None,
                 ip: str | None, user_agent: str | None) -> None:
    """Log a change of the attempt's address or browser (only changes: saves stay cheap)."""
    user_agent = stored_user_agent(user_agent)
    if ip and attempt.last_ip and ip != attempt.last_ip:
        log_event(session, now, attempt, "ip_change", login_session_id=login_session_id,
                  ip=ip, user_agent=user_agent, data={"from": attempt.last_ip})
    if user_agent and attempt.last_user_agent and user_agent != attempt.last_user_agent:
        log_event(session, now, attempt, "user_agent_change",
                  login_session_id=login_session_id, ip=ip, user_agent=user_agent,
                  data={"from": attempt.last_user_agent})
    attempt.last_ip = ip or attempt.last_ip
    attempt.last_user_agent = user_agent or attempt.last_user_agent


def client_event(session, now: datetime, attempt: Attempt, kind, login_session_id, ip,
                 user_agent, detail=None) -> None:
    """Record what the exam page reports (focus loss, tab hidden) for a locked attempt."""
    if not isinstance(kind, str) or kind not in CLIENT_EVENTS:
        raise Invalid(_("Unknown event."), code="invalid_event")
    data = {"detail": detail[:200]} if isinstance(detail, str) and detail else None
    log_event(session, now, attempt, kind, login_session_id=login_session_id, ip=ip,
              user_agent=user_agent, data=data)


def events_of(session, attempt_ids: list[int]) -> dict[int, list[AttemptEvent]]:
    out: dict[int, list[AttemptEvent]] = {i: [] for i in attempt_ids}
    if attempt_ids:
        for event in session.scalars(select(AttemptEvent).where(
                AttemptEvent.attempt_id.in_(attempt_ids)).order_by(AttemptEvent.id)):
            out[event.attempt_id].append(event)
    return out


def invalidate(session, now: datetime, attempt: Attempt, actor_id: int, reason: str) -> Attempt:
    """Invalidate a (locked) attempt with a reason: it counts for nothing, its certificate
    is revoked (the reason kept in its history, not shown to the public), the candidate is
    told and the audit log records it."""
    from examsys.certs import lifecycle  # local: certs imports exams
    from examsys.certs.models import Certificate

    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give a reason for invalidating the attempt."), code="invalid_reason")
    if len(reason) > 500:
        raise Invalid(_("The reason is longer than 500 characters."), code="invalid_reason")
    if attempt.state == AttemptState.INVALIDATED:
        raise Conflict(_("This attempt is already invalidated."), code="already_invalidated")
    if attempt.finished_at is None:
        attempt.finished_at, attempt.finish_reason = now, "invalidated"
    attempt.state = AttemptState.INVALIDATED
    attempt.passed = None
    attempt.invalidated_at, attempt.invalidation_reason = now, reason
    cert = session.scalar(select(Certificate).where(Certificate.attempt_id == attempt.id))
    if cert is not None and cert.state in ("active", "suspended"):
        # The reason is the examiners' (a proctor's report, a case number): the public
        # verifying the certificate learns that it is revoked, not why.
        lifecycle.revoke(session, now, cert.serial, reason, actor_id, public_reason=False)
    log_event(session, now, attempt, "invalidated", data={"reason": reason})
    audit.record(session, now, actor_id, "attempt.invalidate", attempt, {"reason": reason})
    notifications.notify(session, now, attempt.candidate_id, "attempt_invalidated",
                         {"title": attempt.session.title, "reason": reason,
                          "attempt_id": attempt.id})
    return attempt


def set_accommodation(session, now: datetime, enrollment_id: int, actor_id: int, *,
                      extra_minutes: int = 0, time_multiplier: float = 1.0,
                      opens_at: datetime | None = None,
                      closes_at: datetime | None = None) -> Enrollment:
    """Set a candidate's extra time and own window; a running attempt's deadline moves now.

    An attempt whose time (and grace) had already run out is closed as it stood, not
    reopened (the sweeper may not have been by yet); a deadline moved before now becomes
    now, so that no answer saved meanwhile lies after the close. An attempt in its grace
    (its deadline passed, its close not yet) keeps its deadline unless the new one is
    later: moving it to now would start the grace afresh, more time for less.
    """
    from examsys.exams.delivery import close_if_overdue, compute_deadline, lock_attempt

    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None:
        raise NotFound(_("No such enrollment."))
    problems = []
    if isinstance(extra_minutes, bool) or not isinstance(extra_minutes, int) \
            or not 0 <= extra_minutes <= MAX_EXTRA_MINUTES:
        problems.append(_("Extra minutes must be a whole number from 0 to %(n)d.",
                          n=MAX_EXTRA_MINUTES))
    if isinstance(time_multiplier, bool) or not isinstance(time_multiplier, int | float) \
            or not 1.0 <= time_multiplier <= MAX_MULTIPLIER:
        problems.append(_("The time multiplier must be from 1 to %(n)s.", n=MAX_MULTIPLIER))
    if (opens_at is None) != (closes_at is None):
        problems.append(_("Give both ends of the candidate's own window, or neither."))
    elif opens_at is not None and closes_at <= opens_at:
        problems.append(_("The window must close after it opens."))
    if problems:
        raise Invalid(_("The accommodation was not changed."), code="invalid_accommodation",
                      details=problems)
    es = _locked_session(session, enrollment.session_id)
    last_close = es.last_window_close
    if (closes_at is not None and es.release == ReleasePolicy.AFTER_CLOSE
            and now >= es.all_closed_at and closes_at > last_close):
        # The results are out (notices and certificates too): a later window would take
        # them back from the candidates who have them.
        raise Conflict(_("This session's results are released: a candidate's own window "
                         "can no longer close after %(time)s.",
                         time=last_close.strftime("%Y-%m-%d %H:%M UTC")),
                       code="results_released")
    before = {"extra_minutes": enrollment.extra_minutes,
              "time_multiplier": enrollment.time_multiplier}
    enrollment.extra_minutes, enrollment.time_multiplier = extra_minutes, float(time_multiplier)
    enrollment.opens_at_override, enrollment.closes_at_override = opens_at, closes_at
    _keep_own_windows_close(session, es)
    data = {"before": before, "extra_minutes": extra_minutes,
            "time_multiplier": float(time_multiplier),
            "opens_at": opens_at.isoformat() if opens_at else None,
            "closes_at": closes_at.isoformat() if closes_at else None}
    running = session.scalar(select(Attempt.id).where(
        Attempt.enrollment_id == enrollment.id, Attempt.state == AttemptState.IN_PROGRESS))
    if running is not None and not close_if_overdue(session, now, running):
        attempt = lock_attempt(session, running)
        old = attempt.deadline
        new = max(compute_deadline(enrollment.session, enrollment, attempt.started_at),
                  min(old, now))
        if new != old:
            attempt.deadline = new
            data["deadline"] = {"attempt": attempt.id, "from": old.isoformat(),
                                "to": new.isoformat()}
            log_event(session, now, attempt, "deadline_moved", data=data["deadline"])
    audit.record(session, now, actor_id, "enrollment.accommodation", enrollment, data)
    return enrollment


def _locked_session(session, exam_session_id: int) -> ExamSession:
    """The session, its row locked before an own window changes, so that two changes at
    once cannot each keep a latest close that leaves out the other's window (FOR NO KEY
    UPDATE: attempts can be started meanwhile, their foreign key only shares the key)."""
    return session.scalars(select(ExamSession).where(ExamSession.id == exam_session_id)
                           .with_for_update(of=ExamSession, key_share=True)
                           .execution_options(populate_existing=True)).one()


def _keep_own_windows_close(session, es: ExamSession) -> None:
    """The session's ``own_windows_close_at`` after an own window changed: the latest."""
    es.own_windows_close_at = session.scalar(
        select(func.max(Enrollment.closes_at_override))
        .where(Enrollment.session_id == es.id))
