"""The candidate's pages: dashboard, the exam room, results."""

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from examsys.certs.models import Certificate
from examsys.core.auth import candidate_required
from examsys.core.clock import utcnow
from examsys.core.database import begin_write
from examsys.core.errors import DomainError
from examsys.exams import appeals, delivery, notifications, presenters
from examsys.exams.forms import ActionForm, AppealForm, StartForm
from examsys.exams.integrity import claim_device
from examsys.exams.models import Appeal, Attempt, Enrollment, ExamSession
from examsys.extensions import db

bp = Blueprint("candidate", __name__)


@bp.route("/dashboard")
@candidate_required
def dashboard():
    now = utcnow()
    enrollments = db.session.scalars(
        select(Enrollment).join(ExamSession, Enrollment.session_id == ExamSession.id)
        .where(Enrollment.candidate_id == current_user.id)
        .order_by(ExamSession.opens_at.desc())).all()
    attempts = db.session.scalars(select(Attempt).where(
        Attempt.candidate_id == current_user.id).order_by(Attempt.id)).all()
    by_enrollment: dict[int, list[Attempt]] = {}
    for att in attempts:
        by_enrollment.setdefault(att.enrollment_id, []).append(att)
    released_ids = [a.id for a in attempts if delivery.results_released(a, now)]
    certificates = db.session.scalars(select(Certificate).where(
        Certificate.attempt_id.in_(released_ids)).order_by(Certificate.issued_at.desc())
    ).all() if released_ids else []
    unread = notifications.unread_count(db.session, current_user.id)
    return render_template("candidate/dashboard.html", enrollments=enrollments, unread=unread,
                           by_enrollment=by_enrollment, certificates=certificates, now=now,
                           released_ids=set(released_ids), start_form=StartForm(),
                           is_overdue=delivery.is_overdue)


@bp.route("/sessions/<int:session_id>/start", methods=["POST"])
@candidate_required
def start(session_id):
    form = StartForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("candidate.dashboard"))
    try:
        attempt, _form = delivery.start_or_resume(
            db.session, utcnow(), session_id, current_user.id, form.access_code.data,
            ip=request.remote_addr, user_agent=request.headers.get("User-Agent"),
            login_session_id=current_user.login_token)
        db.session.commit()
    except DomainError as err:
        db.session.commit()  # keeps an overdue attempt's close, if one happened
        flash(err.message, "error")
        return redirect(url_for("candidate.dashboard"))
    return redirect(url_for("candidate.exam", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>")
@candidate_required
def exam(attempt_id):
    now = utcnow()
    attempt = delivery.load_attempt(db.session, now, attempt_id, current_user.id)
    if not attempt.is_open:
        return redirect(url_for("candidate.result", attempt_id=attempt.id))
    ip, agent = request.remote_addr, request.headers.get("User-Agent")
    if (attempt.device_session_id != current_user.login_token or attempt.last_ip != ip
            or attempt.last_user_agent != (agent or "")[:300]):
        # Opening the exam page makes this browser the attempt's one active device.
        begin_write(db.session)
        try:
            delivery.check_network(attempt.session, ip)
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
            return redirect(url_for("candidate.dashboard"))
        claim_device(db.session, now, delivery.lock_attempt(db.session, attempt_id),
                     current_user.login_token, ip, agent)
        db.session.commit()
        attempt = delivery.load_attempt(db.session, now, attempt_id, current_user.id)
    data = presenters.for_candidate(attempt, now, g.lang)
    return render_template("candidate/exam.html", attempt=attempt, data=data,
                           submit_form=ActionForm())


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@candidate_required
def submit(attempt_id):
    if ActionForm().validate_on_submit():
        delivery.submit(db.session, utcnow(), attempt_id, current_user.id)
        db.session.commit()
    return redirect(url_for("candidate.result", attempt_id=attempt_id))


@bp.route("/attempts/<int:attempt_id>/result")
@candidate_required
def result(attempt_id):
    return _result_page(attempt_id, AppealForm(formdata=None))


def _result_page(attempt_id: int, appeal_form: AppealForm, status: int = 200):
    now = utcnow()
    attempt = delivery.load_attempt(db.session, now, attempt_id, current_user.id)
    if attempt.is_open:
        return redirect(url_for("candidate.exam", attempt_id=attempt.id))
    released = delivery.results_released(attempt, now)
    cert = db.session.scalar(select(Certificate).where(Certificate.attempt_id == attempt.id)) \
        if released else None
    data = presenters.for_candidate(attempt, now, g.lang, cert, with_items=False)
    appeal = db.session.scalar(select(Appeal).where(Appeal.attempt_id == attempt.id)
                               .order_by(Appeal.id.desc()).limit(1))
    appeal_until = appeals.appeal_closes_at(attempt) if released else None
    return render_template("candidate/result.html", attempt=attempt, data=data,
                           certificate=cert, appeal=appeal, appeal_form=appeal_form,
                           appeal_until=appeal_until,
                           appeal_open=appeal_until is not None and now < appeal_until), status


@bp.route("/attempts/<int:attempt_id>/appeal", methods=["POST"])
@candidate_required
def appeal(attempt_id):
    form = AppealForm()
    if form.validate_on_submit():
        try:
            appeals.file_appeal(db.session, utcnow(), attempt_id, current_user.id,
                                form.reason.data)
            db.session.commit()
            flash(_("Your appeal is filed. An examiner who did not mark your exam will review "
                    "it."), "success")
        except DomainError as err:  # no appeal possible (any more): the page says why
            db.session.rollback()
            flash(err.message, "error")
        return redirect(url_for("candidate.result", attempt_id=attempt_id))
    # The page again, with the message beside the reason and the reason as it was typed.
    return _result_page(attempt_id, form, 400)


@bp.route("/notifications")
@candidate_required
def notifications_page():
    notes = notifications.recent(db.session, current_user.id, limit=50)
    page = render_template("candidate/notifications.html", notes=notes,
                           message=notifications.message)
    begin_write(db.session)
    notifications.mark_read(db.session, utcnow(), current_user.id)
    db.session.commit()
    return page
