"""JSON API for examiners: marking, appeals, regrades, invalidation, accommodations,
live progress (routes on the exams API blueprint)."""

from flask import g
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from examsys.bank.types.base import localised
from examsys.core.api import json_body, ok
from examsys.core.auth import staff_required
from examsys.core.clock import as_utc, utcnow
from examsys.core.errors import Invalid, NotFound
from examsys.exams import appeals, integrity, marking, regrade, results
from examsys.exams.api import _datetime, bp, iso
from examsys.exams.delivery import lock_attempt
from examsys.exams.models import Attempt, AttemptItem, AttemptState, ExamSession
from examsys.extensions import db


def script_json(item: AttemptItem, lang: str) -> dict:
    """An item to mark, blind: the question, rubric and answer; nothing about who wrote it."""
    payload = item.scoring_version.payload
    return {"item_id": item.id, "state": item.marking, "points": item.points,
            "stem": localised(payload["stem"], lang), "response": item.response,
            "rubric": [{"id": c["id"], "criterion": localised(c["criterion"], lang),
                        "points": c["points"]} for c in payload.get("rubric") or []]}


@bp.route("/marking/queue")
@staff_required
def marking_queue():
    items = marking.queue(db.session, current_user.id)
    return ok({"items": [script_json(i, g.lang) for i in items]})


@bp.route("/marking/items/<int:item_id>", methods=["POST"])
@staff_required
def mark_item(item_id):
    body = json_body()
    mark = marking.record_mark(db.session, utcnow(), item_id, current_user.id,
                               body.get("scores"), body.get("comment"))
    db.session.commit()
    item = db.session.get(AttemptItem, item_id)
    return ok({"mark_id": mark.id, "role": mark.role, "total": mark.total,
               "item_state": item.marking}, 201)


@bp.route("/appeals/<int:appeal_id>/decision", methods=["POST"])
@staff_required
def decide_appeal(appeal_id):
    body = json_body()
    if not isinstance(body.get("upheld"), bool):
        raise Invalid(_("upheld must be true or false."), code="invalid_decision")
    remarks = body.get("remarks") or {}
    if not isinstance(remarks, dict):
        raise Invalid(_("remarks must map item ids to scores."), code="invalid_decision")
    appeal, review = appeals.decide(db.session, utcnow(), appeal_id, current_user.id,
                                    upheld=body["upheld"], decision=body.get("decision"),
                                    remarks=remarks)
    db.session.commit()
    return ok({"id": appeal.id, "state": appeal.state, "score_before": appeal.score_before,
               "score_after": appeal.score_after, "certificate_review_needed": review})


@bp.route("/appeals")
@staff_required
def list_appeals():
    return ok({"appeals": [{"id": a.id, "attempt_id": a.attempt_id, "reason": a.reason,
                            "filed_at": iso(a.filed_at), "state": a.state}
                           for a in appeals.open_appeals(db.session)]})


def _regrade_args(body: dict) -> tuple[int, int]:
    version, key = body.get("question_version_id"), body.get("key_version_id")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (version, key)):
        raise Invalid(_("Give question_version_id and key_version_id."), code="invalid_regrade")
    return version, key


def plan_json(p: regrade.Plan) -> dict:
    return dict(p.summary(), attempts=[
        {"attempt_id": a.attempt_id, "old_score": a.old_score, "new_score": a.new_score,
         "old_passed": a.old_passed, "new_passed": a.new_passed,
         "certificate": a.certificate} for a in p.attempts[:500]])


@bp.route("/regrades/preview", methods=["POST"])
@staff_required
def regrade_preview():
    version, key = _regrade_args(json_body())
    return ok(plan_json(regrade.plan(db.session, version, key)))


@bp.route("/regrades", methods=["POST"])
@staff_required
def regrade_apply():
    body = json_body()
    version, key = _regrade_args(body)
    rg, applied = regrade.apply(db.session, utcnow(), version, key, current_user.id,
                                str(body.get("fingerprint") or ""))
    db.session.commit()
    return ok(dict(plan_json(applied), id=rg.id), 201)


@bp.route("/attempts/<int:attempt_id>/invalidate", methods=["POST"])
@staff_required
def invalidate(attempt_id):
    body = json_body()
    now = utcnow()
    attempt = integrity.invalidate(db.session, now, lock_attempt(db.session, attempt_id),
                                   current_user.id, body.get("reason"))
    db.session.commit()
    return ok({"attempt_id": attempt.id, "state": attempt.state,
               "invalidated_at": iso(attempt.invalidated_at)})


@bp.route("/enrollments/<int:enrollment_id>/accommodation", methods=["PUT"])
@staff_required
def accommodation(enrollment_id):
    body = json_body()
    opens = as_utc(_datetime(body, "opens_at")) if body.get("opens_at") else None
    closes = as_utc(_datetime(body, "closes_at")) if body.get("closes_at") else None
    enrollment = integrity.set_accommodation(
        db.session, utcnow(), enrollment_id, current_user.id,
        extra_minutes=body.get("extra_minutes", 0),
        time_multiplier=body.get("time_multiplier", 1.0), opens_at=opens, closes_at=closes)
    db.session.commit()
    running = db.session.scalar(select(Attempt).where(
        Attempt.enrollment_id == enrollment.id, Attempt.state == AttemptState.IN_PROGRESS))
    return ok({"enrollment_id": enrollment.id, "extra_minutes": enrollment.extra_minutes,
               "time_multiplier": enrollment.time_multiplier,
               "opens_at": iso(enrollment.opens_at_override),
               "closes_at": iso(enrollment.closes_at_override),
               "running_attempt_deadline": iso(running.deadline) if running else None})


@bp.route("/exam-sessions/<int:session_id>/progress")
@staff_required
def session_progress(session_id):
    es = db.session.get(ExamSession, session_id)
    if es is None:
        raise NotFound(_("No such exam session."))
    return ok(dict(results.progress(db.session, es, utcnow()), server_time=iso(utcnow())))


@bp.route("/attempts/<int:attempt_id>/events")
@staff_required
def attempt_events(attempt_id):
    events = integrity.events_of(db.session, [attempt_id])[attempt_id]
    return ok({"events": [{"at": iso(e.at), "kind": e.kind, "ip": e.ip,
                           "user_agent": e.user_agent, "data": e.data} for e in events]})

