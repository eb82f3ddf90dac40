"""JSON API for exam sessions and attempts (candidates and examiners)."""

from datetime import datetime

from flask import Blueprint, g, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from examsys.accounts.models import Role
from examsys.accounts.setup import setup_url
from examsys.certs.models import Certificate
from examsys.core.api import json_body, ok
from examsys.core.auth import (
    any_user,
    candidate_required,
    check_roles,
    login_token,
    roles_required,
    staff_required,
)
from examsys.core.clock import iso, utcnow
from examsys.core.errors import DomainError, Invalid, NotFound
from examsys.exams import appeals, delivery, integrity, notifications, presenters, scheduling
from examsys.exams.models import Certification, Enrollment, ExamSession
from examsys.extensions import db

bp = Blueprint("exams_api", __name__)


def _datetime(body: dict, field: str) -> datetime:
    raw = body.get(field)
    try:
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise Invalid(_("%(field)s must be an ISO 8601 time with a zone, e.g. "
                        "2026-12-01T09:00:00Z.", field=field), code="invalid_datetime")
    return value


def client_info() -> dict:
    """Who is asking, for the one-device rule and the integrity log."""
    return {"ip": request.remote_addr, "user_agent": request.headers.get("User-Agent"),
            "login_session_id": current_user.login_token}


def session_json(es: ExamSession) -> dict:
    return {"id": es.id, "title": es.title, "certification": es.certification.code,
            "certification_name": es.certification.name(g.lang),
            "opens_at": iso(es.opens_at), "closes_at": iso(es.closes_at),
            "time_limit_minutes": es.blueprint.time_limit_minutes,
            "items": es.blueprint.item_count, "release": es.release,
            "access_code_required": es.access_code is not None,
            "grace_seconds": es.grace_seconds, "stagger_seconds": es.stagger_seconds,
            "allowed_networks": es.allowed_networks or []}


@bp.route("/certifications")
@staff_required
def certifications():
    rows = db.session.scalars(select(Certification).order_by(Certification.code))
    return ok({"certifications": [
        {"code": c.code, "name": c.name(g.lang), "level": c.level,
         "validity_months": c.validity_months,
         "blueprint": {"time_limit_minutes": c.current_blueprint.time_limit_minutes,
                       "pass_mark": c.current_blueprint.pass_mark,
                       "items": c.current_blueprint.item_count}
         if c.current_blueprint else None} for c in rows]})


@bp.route("/exam-sessions", methods=["GET"])
@any_user
def list_sessions():
    now = utcnow()
    query = select(ExamSession).order_by(ExamSession.opens_at)
    if current_user.role == Role.CANDIDATE:
        query = query.join(Enrollment, Enrollment.session_id == ExamSession.id).where(
            Enrollment.candidate_id == current_user.id,
            func.coalesce(Enrollment.closes_at_override, ExamSession.closes_at) > now)
    return ok({"server_time": iso(now),
               "sessions": [session_json(es) for es in db.session.scalars(query)]})


@bp.route("/exam-sessions", methods=["POST"])
@staff_required
def create_session():
    body = json_body()
    code = body.get("certification")
    if not isinstance(code, str):
        raise Invalid(_("certification must be a certification code."), code="invalid")
    es = scheduling.create_session(
        db.session, utcnow(), certification_code=code, opens_at=_datetime(body, "opens_at"),
        closes_at=_datetime(body, "closes_at"), access_code=body.get("access_code"),
        release=body.get("release", "immediate"), title=body.get("title"),
        actor_id=current_user.id, grace_seconds=body.get("grace_seconds", 30),
        stagger_seconds=body.get("stagger_seconds", 0),
        allowed_networks=body.get("allowed_networks"))
    db.session.commit()
    out = session_json(es)
    out["access_code"] = es.access_code
    return ok(out, 201)


@bp.route("/exam-sessions/<int:session_id>/enrollments", methods=["POST"])
@staff_required
def enroll(session_id):
    es = db.session.get(ExamSession, session_id)
    if es is None:
        raise NotFound(_("No such exam session."))
    body = json_body()
    emails, candidates = body.get("emails") or [], body.get("candidates") or []
    if not isinstance(emails, list) or not isinstance(candidates, list):
        raise Invalid(_("Give emails: [...] or candidates: [{email, name}]."), code="invalid")
    rows = []
    for email in emails:
        rows.append(scheduling.EnrollRow(str(email).strip().lower()))
    for cand in candidates:
        if isinstance(cand, dict):
            rows.append(scheduling.EnrollRow(str(cand.get("email", "")).strip().lower(),
                                             cand.get("name") or None))
    if not rows:
        raise Invalid(_("Give emails: [...] or candidates: [{email, name}]."), code="invalid")
    result = scheduling.enroll(db.session, utcnow(), es, rows, current_user.id)
    created = [{"email": u.email, "setup_url": setup_url(u)} for u, _t in result.created]
    db.session.commit()
    return ok({"enrolled": [u.email for u in result.enrolled],
               "already_enrolled": [u.email for u in result.already],
               "created_accounts": created})


@bp.route("/exam-sessions/<int:session_id>/release", methods=["POST"])
@staff_required
def release(session_id):
    es = db.session.get(ExamSession, session_id)
    if es is None:
        raise NotFound(_("No such exam session."))
    scheduling.release_results(db.session, utcnow(), es, current_user.id)
    db.session.commit()
    return ok({"released_at": iso(es.released_at)})


@bp.route("/exam-sessions/<int:session_id>/attempts", methods=["POST"])
@candidate_required
def start(session_id):
    body = json_body() if request.get_data(cache=True) else {}
    now = utcnow()
    try:
        attempt, form = delivery.start_or_resume(
            db.session, now, session_id, current_user.id, body.get("access_code"),
            **client_info())
        if form is not None:
            # The new attempt and its form are in hand: answer from them before the
            # commit expires them (reading the form back decodes every payload again).
            shown = presenters.for_candidate(attempt, now, g.lang, items=form)
            db.session.commit()
            return ok(shown, 201)
        db.session.commit()
    except DomainError:
        db.session.commit()  # keeps an overdue attempt's close, if one happened
        raise
    attempt = delivery.load_attempt(db.session, now, attempt.id, current_user.id)
    return ok(presenters.for_candidate(attempt, now, g.lang), 200)


@bp.route("/attempts/<int:attempt_id>/items/<int:position>", methods=["PUT"])
@roles_required(Role.CANDIDATE, proven_by_view=True)
def save(attempt_id, position):
    now = utcnow()
    ip, user_agent = request.remote_addr, request.headers.get("User-Agent")
    try:
        body = json_body()
        if "response" not in body or "seq" not in body:
            raise Invalid(_("Send response and seq."), code="invalid")
        saved = delivery.plain_save(delivery.plain_save_bind(db), now, attempt_id, position,
                                    body["response"], body["seq"], login_token(), ip,
                                    user_agent)
    except DomainError:
        # Nobody but a logged-in candidate learns what was wrong with the request.
        check_roles(save.allowed_roles)
        raise
    if saved is None:
        check_roles(save.allowed_roles)
        try:
            saved = delivery.save_response(db.session, now, attempt_id, current_user.id,
                                           position, body["response"], body["seq"],
                                           current_user.login_token, ip=ip,
                                           user_agent=user_agent)
        except DomainError:
            db.session.commit()  # keeps an overdue attempt's close; the save wrote nothing
            raise
    if db.session.registry.has():  # none on PostgreSQL's plain path: nothing to commit
        db.session.commit()
    return ok({"position": saved.position, "seq": saved.seq, "saved_at": iso(saved.saved_at),
               "server_time": iso(now), "deadline": iso(saved.deadline)})


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@candidate_required
def submit(attempt_id):
    now = utcnow()
    attempt = delivery.submit(db.session, now, attempt_id, current_user.id)
    # The graded attempt is in hand: answer from it before the commit expires it.
    body = _candidate_body(attempt, now)
    db.session.commit()
    return ok(body)


def _candidate_body(attempt, now: datetime) -> dict:
    cert = None
    if delivery.results_released(attempt, now):
        cert = db.session.scalar(select(Certificate).where(Certificate.attempt_id == attempt.id))
    return presenters.for_candidate(attempt, now, g.lang, cert)


def _attempt_json(attempt_id: int, now: datetime, candidate_id: int | None):
    attempt = delivery.load_attempt(db.session, now, attempt_id, candidate_id)
    if candidate_id is not None:
        return ok(_candidate_body(attempt, now))
    cert = db.session.scalar(select(Certificate).where(Certificate.attempt_id == attempt.id))
    return ok(presenters.for_examiner(attempt, now, g.lang, cert))


@bp.route("/attempts/<int:attempt_id>")
@any_user
def get_attempt(attempt_id):
    candidate_id = current_user.id if current_user.role == Role.CANDIDATE else None
    return _attempt_json(attempt_id, utcnow(), candidate_id)


def _write(attempt_id: int, change):
    """Run a candidate's write to a running attempt from its active device, then commit."""
    now = utcnow()
    try:
        attempt = delivery.open_for_write(db.session, now, attempt_id, current_user.id,
                                          current_user.login_token, request.remote_addr,
                                          request.headers.get("User-Agent"))
        out = change(attempt, now)
        db.session.commit()
    except DomainError:
        db.session.commit()  # keeps an overdue attempt's close; the change wrote nothing
        raise
    return ok(dict(out, server_time=iso(now), deadline=iso(attempt.deadline)))


@bp.route("/attempts/<int:attempt_id>/items/<int:position>/flag", methods=["PUT"])
@candidate_required
def flag(attempt_id, position):
    body = json_body()
    if not isinstance(body.get("flagged"), bool):
        raise Invalid(_("flagged must be true or false."), code="invalid")

    def change(attempt, now):
        item = delivery.item_at(db.session, attempt, position)
        item.flagged = body["flagged"]
        return {"position": position, "flagged": item.flagged}
    return _write(attempt_id, change)


@bp.route("/attempts/<int:attempt_id>/position", methods=["PUT"])
@candidate_required
def move(attempt_id):
    """Sequential exams: move forward to an item (never back)."""
    position = json_body().get("position")

    def change(attempt, now):
        delivery.advance(attempt, delivery.item_at(db.session, attempt, position).position)
        return {"current_position": attempt.current_position}
    return _write(attempt_id, change)


@bp.route("/attempts/<int:attempt_id>/events", methods=["POST"])
@candidate_required
def report_event(attempt_id):
    body = json_body()

    def change(attempt, now):
        integrity.client_event(db.session, now, attempt, body.get("kind"),
                               current_user.login_token, request.remote_addr,
                               request.headers.get("User-Agent"), body.get("detail"))
        return {"recorded": True}
    return _write(attempt_id, change)


@bp.route("/attempts/<int:attempt_id>/clock")
@roles_required(Role.CANDIDATE, proven_by_view=True)
def clock(attempt_id):
    """The server's time and the attempt's deadline: the page re-synchronises its countdown
    (a deadline moved by an accommodation shows at once)."""
    now = utcnow()
    token = login_token()
    attempt = delivery.plain_clock(db, now, attempt_id, token)
    if attempt is None:
        # Not a candidate's live login (refused here), or not their running attempt in
        # time: not found, to be closed, or over, as the attempt's page would load it.
        check_roles(clock.allowed_roles)
        attempt = delivery.load_attempt(db.session, now, attempt_id, current_user.id)
    superseded = attempt.device_session_id not in (None, token)
    return ok({"server_time": iso(now), "deadline": iso(attempt.deadline),
               "state": attempt.state, "superseded": superseded})


@bp.route("/attempts/<int:attempt_id>/appeals", methods=["POST"])
@candidate_required
def file_appeal(attempt_id):
    body = json_body()
    appeal = appeals.file_appeal(db.session, utcnow(), attempt_id, current_user.id,
                                 body.get("reason"))
    db.session.commit()
    return ok({"id": appeal.id, "state": appeal.state, "filed_at": iso(appeal.filed_at)}, 201)


@bp.route("/notifications")
@any_user
def list_notifications():
    notes = notifications.recent(db.session, current_user.id)
    return ok({"unread": notifications.unread_count(db.session, current_user.id),
               "notifications": [{"id": n.id, "kind": n.kind, "message": notifications.message(n),
                                  "created_at": iso(n.created_at), "read": n.read_at is not None,
                                  "attempt_id": (n.data or {}).get("attempt_id")}
                                 for n in notes]})


from examsys.exams import api_examiner as _api_examiner  # noqa: E402, F401  (registers routes)
