"""Regrading every attempt of a question version after its key is corrected.

Set-based: a handful of queries whatever the number of attempts; each distinct response is
graded once. An examiner first previews the changes (scores, pass/fail, certificates
affected) and applies exactly that preview (its fingerprint must still match).

Certificates: an attempt that now passes gets its certificate; an issued certificate whose
attempt now fails is NOT revoked silently: it is listed for an examiner's decision (and the
audit log records the list), because revoking a credential someone already relies on is a
decision with consequences outside this system.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import insert, select, update

from examsys.bank.models import QuestionVersion
from examsys.bank.types import get_type
from examsys.certs.models import Certificate
from examsys.core import audit
from examsys.core.errors import Conflict, Invalid, NotFound
from examsys.exams import notifications
from examsys.exams.delivery import session_released
from examsys.exams.models import (
    Attempt,
    AttemptItem,
    AttemptState,
    Blueprint,
    ExamSession,
    Notification,
    Regrade,
    RegradeChange,
    all_closed_at,
)
from examsys.exams.scoring import decide

CLOSED = (AttemptState.GRADED, AttemptState.MARKING)


@dataclass
class AttemptChange:
    attempt_id: int
    candidate_id: int
    old_score: float | None
    new_score: float | None
    old_passed: bool | None
    new_passed: bool | None
    sections: list | None
    certificate: str | None  # serial of the certificate already issued, if any
    title: str = ""


@dataclass
class Plan:
    version_id: int
    key_version_id: int
    # (item id, attempt id, old points, new fraction, new points, section)
    items: list[tuple] = field(default_factory=list)
    attempts: list[AttemptChange] = field(default_factory=list)
    examined: int = 0

    @property
    def fingerprint(self) -> str:
        text = json.dumps([self.version_id, self.key_version_id,
                           [(i[0], i[2], i[4]) for i in self.items]])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def summary(self) -> dict:
        newly_passed = [a for a in self.attempts if a.new_passed and not a.old_passed]
        newly_failed = [a for a in self.attempts if a.old_passed and not a.new_passed]
        return {"fingerprint": self.fingerprint, "items_examined": self.examined,
                "items_changed": len(self.items), "attempts_changed": len(self.attempts),
                "newly_passed": len(newly_passed), "newly_failed": len(newly_failed),
                "certificates_to_review": [a.certificate for a in newly_failed
                                           if a.certificate]}


def _versions(session, version_id: int, key_version_id: int):
    old, new = session.get(QuestionVersion, version_id), session.get(QuestionVersion,
                                                                     key_version_id)
    if old is None or new is None:
        raise NotFound(_("No such question version."))
    if old.question_id != new.question_id or old.type != new.type:
        raise Invalid(_("The corrected key must be a version of the same question and type."),
                      code="invalid_regrade")
    if not get_type(new.type).auto_graded:
        raise Invalid(_("Human-marked questions are re-marked, not regraded."),
                      code="invalid_regrade")
    return old, new


def plan(session, version_id: int, key_version_id: int) -> Plan:
    """What regrading every closed attempt of ``version_id`` with the key of
    ``key_version_id`` would change, without changing anything."""
    _old, new = _versions(session, version_id, key_version_id)
    qtype = get_type(new.type)
    rows = session.execute(
        select(AttemptItem.id, AttemptItem.attempt_id, AttemptItem.response,
               AttemptItem.points, AttemptItem.awarded, AttemptItem.section)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(AttemptItem.question_version_id == version_id, Attempt.state.in_(CLOSED))
        .order_by(AttemptItem.id)).all()
    result = Plan(version_id, key_version_id, examined=len(rows))
    graded: dict[str, float] = {}
    delta: dict[int, float] = {}
    for item_id, attempt_id, response, points, awarded, section in rows:
        key = json.dumps(response, sort_keys=True)
        if key not in graded:  # grade each distinct response once
            graded[key] = min(1.0, max(0.0, qtype.grade(new.payload, response)))
        fraction = graded[key]
        new_awarded = round(points * fraction, 4)
        if awarded is None or abs(new_awarded - awarded) > 1e-9:
            result.items.append((item_id, attempt_id, awarded, fraction, new_awarded, section))
            sec = delta.setdefault(attempt_id, {})
            sec[section] = sec.get(section, 0.0) + new_awarded - (awarded or 0.0)
    if not delta:
        return result
    attempts = session.execute(
        select(Attempt.id, Attempt.candidate_id, Attempt.state, Attempt.score, Attempt.passed,
               Attempt.sections, Blueprint, Certificate.serial, ExamSession.title)
        .join(ExamSession, ExamSession.id == Attempt.session_id)
        .join(Blueprint, Blueprint.id == ExamSession.blueprint_id)
        .outerjoin(Certificate, Certificate.attempt_id == Attempt.id)
        .where(Attempt.id.in_(select(AttemptItem.attempt_id).where(
            AttemptItem.question_version_id == version_id)), Attempt.state.in_(CLOSED))
        .order_by(Attempt.id)).all()
    for aid, cid, state, score, passed, sections, blueprint, serial, title in attempts:
        if aid not in delta:
            continue
        if state != AttemptState.GRADED or sections is None:
            # Still being marked: the items change now, the result is decided when final.
            result.attempts.append(AttemptChange(aid, cid, None, None, None, None, None, None,
                                                 title))
            continue
        rows = [dict(s, score=s["score"] + delta[aid].get(s["key"], 0.0)) for s in sections]
        new_score, _max, new_passed, new_sections = decide(blueprint, rows)
        result.attempts.append(AttemptChange(aid, cid, score, new_score, passed, new_passed,
                                             new_sections, serial, title))
    return result


def apply(session, now: datetime, version_id: int, key_version_id: int, actor_id: int,
          fingerprint: str) -> tuple[Regrade, Plan]:
    """Apply the previewed regrade (refused if anything changed since the preview)."""
    from examsys.certs import services as certs  # local: certs imports exams

    # Every attempt holding the version, running ones too, locked before planning: a submit
    # grading with the old key right now would otherwise commit after the plan was made,
    # be left out of it, and have its items marked as corrected below (PostgreSQL; SQLite
    # runs one writer at a time). The submit commits first and the plan sees its result.
    session.execute(select(Attempt.id).where(Attempt.id.in_(
        select(AttemptItem.attempt_id).where(AttemptItem.question_version_id == version_id)))
        .order_by(Attempt.id).with_for_update())
    current = plan(session, version_id, key_version_id)
    if current.fingerprint != fingerprint:
        raise Conflict(_("The attempts changed since the preview; preview again."),
                       code="preview_stale", details={"fingerprint": current.fingerprint})
    summary = current.summary()
    regrade = Regrade(question_version_id=version_id, key_version_id=key_version_id,
                      actor_id=actor_id, created_at=now, summary=summary)
    session.add(regrade)
    session.flush()
    # Items still to be graded (running attempts) will use the corrected key too.
    session.execute(update(AttemptItem).where(AttemptItem.question_version_id == version_id)
                    .values(key_version_id=key_version_id)
                    .execution_options(synchronize_session=False))
    if current.items:
        session.execute(insert(RegradeChange), [
            {"regrade_id": regrade.id, "attempt_item_id": i, "old_awarded": old,
             "new_awarded": new} for i, _a, old, _f, new, _s in current.items])
        session.execute(update(AttemptItem), [
            {"id": i, "fraction": f, "awarded": new} for i, _a, _o, f, new, _s in current.items])
    final = [a for a in current.attempts if a.sections is not None]
    if final:
        session.execute(update(Attempt), [
            {"id": a.attempt_id, "score": a.new_score, "passed": a.new_passed,
             "sections": a.sections, "graded_at": now} for a in final])
        changed = [a for a in final if a.new_score != a.old_score]
        # Only candidates whose results are released hear of a change before the release.
        shown = _released(session, now, [a.attempt_id for a in changed])
        notices = [{"user_id": a.candidate_id, "created_at": now, "kind": "result_changed",
                    "data": {"attempt_id": a.attempt_id, "title": a.title}}
                   for a in changed if a.attempt_id in shown]
        if notices:
            session.execute(insert(Notification), notices)
            notifications.email_each(session, now, "result_changed",
                                     [(n["user_id"], n["data"]) for n in notices])
    session.expire_all()
    # A pass not released yet gets its certificate with the release (delivery.release_results).
    passed = [a.attempt_id for a in final
              if a.new_passed and not a.old_passed and a.certificate is None]
    released = _released(session, now, passed)
    for attempt_id in passed:
        if attempt_id in released:
            certs.issue(session, now, session.get(Attempt, attempt_id))
    audit.record(session, now, actor_id, "regrade.apply", regrade, summary)
    return regrade, current


def _released(session, now, attempt_ids: list[int]) -> set[int]:
    """The attempts among ``attempt_ids`` whose session has released its results."""
    shown = set()
    for start in range(0, len(attempt_ids), 5000):
        rows = session.execute(
            select(Attempt.id, ExamSession.release, ExamSession.closes_at,
                   ExamSession.own_windows_close_at, ExamSession.grace_seconds,
                   ExamSession.released_at)
            .join(ExamSession, Attempt.session_id == ExamSession.id)
            .where(Attempt.id.in_(attempt_ids[start:start + 5000])))
        shown |= {aid for aid, release, closes_at, own_close, grace, released_at in rows
                  if session_released(release, all_closed_at(closes_at, own_close, grace),
                                      released_at, now)}
    return shown
