"""Notices to candidates (results released, attempt invalidated, appeal decided): in the
app, and by email where mail is configured (core.mail)."""

from datetime import datetime

from sqlalchemy import func, insert, select, update

from examsys.core import mail
from examsys.core.i18n import _
from examsys.exams.models import (
    Attempt,
    AttemptState,
    ExamSession,
    Notification,
)


def notify(session, now: datetime, user_id: int, kind: str, data: dict | None = None) -> None:
    """A notice in the app, and by email where mail is configured (core.mail)."""
    session.add(Notification(user_id=user_id, created_at=now, kind=kind, data=data or {}))
    email_each(session, now, kind, [(user_id, data or {})])


def email_each(session, now: datetime, kind: str, told) -> None:
    """The email twin of notices of ``kind`` written in bulk: ``told`` is (user id, data)
    pairs, one email per user (core.mail; nothing when mail is not configured)."""
    mail.queue(session, now, kind, {uid: (kind, data) for uid, data in told}.items(), _email)


def message(note: Notification) -> str:
    """The notification's text in the reader's language (stored as a kind, not a text)."""
    return text(note.kind, note.data or {})


def _email(what: tuple[str, dict]) -> tuple[str, str]:
    line = text(*what)
    return line, line


def text(kind: str, data: dict) -> str:
    title = data.get("title", "")
    return {
        "results_released": _("Your result for %(title)s is available.", title=title),
        "result_changed": _("Your result for %(title)s was corrected after a review of the "
                            "answer key.", title=title),
        "attempt_invalidated": _("Your attempt at %(title)s was invalidated: %(reason)s",
                                 title=title, reason=data.get("reason", "")),
        "appeal_decided": _("Your appeal about %(title)s was decided: %(decision)s",
                            title=title, decision=data.get("decision", "")),
    }.get(kind, kind)


def released_now(attempt: Attempt, now: datetime) -> bool:
    # Local import: delivery imports this module.
    from examsys.exams.delivery import results_released

    return results_released(attempt, now)


def result_final(session, now: datetime, attempt: Attempt) -> None:
    """Tell the candidate their result once it is final and its release allows it."""
    if attempt.results_notified_at is None and released_now(attempt, now):
        attempt.results_notified_at = now
        notify(session, now, attempt.candidate_id, "results_released",
               {"title": attempt.session.title, "attempt_id": attempt.id})


def release_session(session, now: datetime, exam_session_id: int) -> int:
    """Notify every graded, not yet notified attempt of a session at once (set-based)."""
    es = session.get(ExamSession, exam_session_id)
    rows = session.execute(select(Attempt.id, Attempt.candidate_id).where(
        Attempt.session_id == exam_session_id, Attempt.state == AttemptState.GRADED,
        Attempt.results_notified_at.is_(None))).all()
    if rows:
        session.execute(insert(Notification), [
            {"user_id": cid, "created_at": now, "kind": "results_released",
             "data": {"title": es.title, "attempt_id": aid}} for aid, cid in rows])
        session.execute(update(Attempt).where(Attempt.id.in_([r[0] for r in rows]))
                        .values(results_notified_at=now)
                        .execution_options(synchronize_session=False))
        email_each(session, now, "results_released",
                   [(cid, {"title": es.title}) for _aid, cid in rows])
    return len(rows)


def unread_count(session, user_id: int) -> int:
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def recent(session, user_id: int, limit: int = 20) -> list[Notification]:
    return session.scalars(select(Notification).where(Notification.user_id == user_id)
                           .order_by(Notification.id.desc()).limit(limit)).all()


def mark_read(session, now: datetime, user_id: int) -> None:
    session.execute(update(Notification).where(Notification.user_id == user_id,
                                               Notification.read_at.is_(None))
                    .values(read_at=now).execution_options(synchronize_session=False))
