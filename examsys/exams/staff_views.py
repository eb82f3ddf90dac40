"""The examiner's exam pages: sessions, enrollment, attempts, release of results."""

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from examsys.accounts.setup import setup_url
from examsys.certs.models import Certificate
from examsys.core.auth import staff_required
from examsys.core.clock import as_utc, utcnow
from examsys.core.errors import DomainError
from examsys.exams import presenters, scheduling
from examsys.exams.forms import ActionForm, EnrollCsvForm, EnrollForm, SessionForm
from examsys.exams.models import Attempt, AttemptItem, Certification, Enrollment, ExamSession
from examsys.extensions import db

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.route("/sessions")
@staff_required
def sessions():
    rows = db.session.execute(
        select(ExamSession, func.count(Enrollment.id))
        .outerjoin(Enrollment, Enrollment.session_id == ExamSession.id)
        .group_by(ExamSession.id).order_by(ExamSession.opens_at.desc())).all()
    certifications = db.session.scalars(select(Certification).order_by(Certification.code))
    return render_template("staff/sessions.html", rows=rows, certifications=certifications,
                           now=utcnow())


@bp.route("/sessions/new", methods=["GET", "POST"])
@staff_required
def new_session():
    form = SessionForm()
    form.certification.choices = [
        SelectChoice(c.code, f"{c.code} — {c.name(g.lang)}")
        for c in db.session.scalars(select(Certification).order_by(Certification.code))]
    if form.validate_on_submit():
        try:
            es = scheduling.create_session(
                db.session, utcnow(), certification_code=form.certification.data,
                opens_at=as_utc(form.opens_at.data), closes_at=as_utc(form.closes_at.data),
                access_code=form.access_code.data, release=form.release.data,
                title=form.title.data, actor_id=current_user.id,
                grace_seconds=30 if form.grace_seconds.data is None else form.grace_seconds.data,
                stagger_seconds=form.stagger_seconds.data or 0,
                allowed_networks=form.allowed_networks.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            form.form_errors.append(err.message)
        else:
            flash(_("The session is scheduled."), "success")
            return redirect(url_for("staff.session", session_id=es.id))
    return render_template("staff/new_session.html", form=form), 400 if form.errors else 200


def _session_or_404(session_id: int) -> ExamSession:
    return db.session.get(ExamSession, session_id) or abort(404)


def _session_page(es: ExamSession, status: int = 200, **forms):
    answered = (select(AttemptItem.attempt_id, func.count(AttemptItem.id).label("n"))
                .where(AttemptItem.last_seq > 0).group_by(AttemptItem.attempt_id).subquery())
    rows = db.session.execute(
        select(Enrollment, Attempt, answered.c.n)
        .options(selectinload(Enrollment.candidate))
        .outerjoin(Attempt, Attempt.enrollment_id == Enrollment.id)
        .outerjoin(answered, answered.c.attempt_id == Attempt.id)
        .where(Enrollment.session_id == es.id).order_by(Enrollment.id, Attempt.number)).all()
    return render_template(
        "staff/session.html", es=es, rows=rows, now=utcnow(),
        item_count=es.blueprint.item_count,
        enroll_form=forms.get("enroll_form") or EnrollForm(),
        csv_form=forms.get("csv_form") or EnrollCsvForm(),
        action_form=ActionForm(), created=forms.get("created", [])), status


@bp.route("/sessions/<int:session_id>")
@staff_required
def session(session_id):
    return _session_page(_session_or_404(session_id))


def _enroll(es, rows, form):
    try:
        result = scheduling.enroll(db.session, utcnow(), es, rows, current_user.id)
        created = [(u, setup_url(u)) for u, _token in result.created]
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        form.form_errors.append(err.message)
        form.form_errors.extend(err.details or [])
        return None
    flash(_("%(n)d enrolled, %(already)d already enrolled, %(created)d new accounts.",
            n=len(result.enrolled), already=len(result.already), created=len(created)),
          "success")
    return created


@bp.route("/sessions/<int:session_id>/enroll", methods=["POST"])
@staff_required
def enroll(session_id):
    es = _session_or_404(session_id)
    form = EnrollForm()
    if form.validate_on_submit():
        row = scheduling.EnrollRow(form.email.data, form.name.data or None)
        created = _enroll(es, [row], form)
        if created is not None:
            return _session_page(es, created=created)
    return _session_page(es, 422, enroll_form=form)


@bp.route("/sessions/<int:session_id>/enroll-csv", methods=["POST"])
@staff_required
def enroll_csv(session_id):
    es = _session_or_404(session_id)
    form = EnrollCsvForm()
    if form.validate_on_submit():
        rows, problems = scheduling.parse_csv(form.file.data.read())
        if problems:
            form.form_errors.extend([_("Nobody was enrolled."), *problems])
        elif not rows:
            form.form_errors.append(_("The file has no rows."))
        else:
            created = _enroll(es, rows, form)
            if created is not None:
                return _session_page(es, created=created)
    return _session_page(es, 422, csv_form=form)


@bp.route("/sessions/<int:session_id>/release", methods=["POST"])
@staff_required
def release(session_id):
    es = _session_or_404(session_id)
    if ActionForm().validate_on_submit():
        try:
            scheduling.release_results(db.session, utcnow(), es, current_user.id)
            db.session.commit()
            flash(_("Results are released."), "success")
        except DomainError as err:
            db.session.rollback()
            flash(err.message, "error")
    return redirect(url_for("staff.session", session_id=es.id))


@bp.route("/attempts/<int:attempt_id>")
@staff_required
def attempt(attempt_id):
    att = db.session.scalar(select(Attempt).where(Attempt.id == attempt_id)
                            .options(selectinload(Attempt.items))) or abort(404)
    cert = db.session.scalar(select(Certificate).where(Certificate.attempt_id == att.id))
    data = presenters.for_examiner(att, utcnow(), g.lang, cert)
    return render_template("staff/attempt.html", attempt=att, data=data, certificate=cert)


from examsys.exams import staff_marking_views as _marking_views  # noqa: E402, F401  (routes)
