"""The examiner's pages for marking, appeals, regrades, integrity and results export
(routes on the staff blueprint)."""

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from examsys.core.auth import staff_required
from examsys.core.clock import as_utc, utcnow
from examsys.core.errors import DomainError, NotFound
from examsys.core.labels import status_name
from examsys.exams import appeals, integrity, marking, regrade, results
from examsys.exams.api_examiner import script_json
from examsys.exams.delivery import lock_attempt
from examsys.exams.forms import AccommodationForm, ActionForm, ReasonForm, RegradeForm
from examsys.exams.models import (
    Appeal,
    AppealState,
    AttemptItem,
    AttemptState,
    Enrollment,
    ExamSession,
)
from examsys.exams.staff_views import bp
from examsys.extensions import db


@bp.route("/marking")
@staff_required
def marking_queue():
    items = [script_json(i, g.lang) for i in marking.queue(db.session, current_user.id)]
    return render_template("staff/marking_queue.html", items=items)


def _scores_from_form(rubric: list[dict]) -> dict:
    return {str(c["id"]): request.form.get(f"score-{c['id']}", "") for c in rubric}


@bp.route("/marking/<int:item_id>", methods=["GET", "POST"])
@staff_required
def mark(item_id):
    item = db.session.get(AttemptItem, item_id) or abort(404)
    script = script_json(item, g.lang)
    form, errors = ActionForm(), []
    if form.validate_on_submit():
        try:
            marking.record_mark(db.session, utcnow(), item.id, current_user.id,
                                _scores_from_form(script["rubric"]),
                                request.form.get("comment"))
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            errors = [err.message, *(err.details or [])]
        else:
            flash(_("The mark is recorded."), "success")
            return redirect(url_for("staff.marking_queue"))
    return render_template("staff/mark.html", script=script, form=form, errors=errors,
                           values=request.form), 422 if errors else 200


@bp.route("/appeals")
@staff_required
def appeals_list():
    return render_template("staff/appeals.html", appeals=appeals.open_appeals(db.session))


@bp.route("/appeals/<int:appeal_id>", methods=["GET", "POST"])
@staff_required
def appeal(appeal_id):
    appeal = db.session.get(Appeal, appeal_id) or abort(404)
    items = [script_json(i, g.lang) for i in appeal.attempt.items if i.marking is not None]
    form, errors = ActionForm(), []
    if form.validate_on_submit() and appeal.state == AppealState.OPEN:
        upheld = request.form.get("outcome") == "upheld"
        remarks = {}
        for item in items:
            if upheld and request.form.get(f"remark-{item['item_id']}"):
                remarks[item["item_id"]] = {
                    "scores": {str(c["id"]): request.form.get(f"score-{item['item_id']}-{c['id']}",
                                                              "") for c in item["rubric"]},
                    "comment": request.form.get(f"comment-{item['item_id']}")}
        try:
            _appeal, review = appeals.decide(db.session, utcnow(), appeal.id, current_user.id,
                                             upheld=upheld,
                                             decision=request.form.get("decision", ""),
                                             remarks=remarks)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            errors = [err.message, *(err.details or [])]
        else:
            flash(_("The appeal is decided."), "success")
            if review:
                flash(_("The result no longer passes: decide whether to revoke the certificate "
                        "already issued."), "error")
            return redirect(url_for("staff.appeals_list"))
    return render_template("staff/appeal.html", appeal=appeal, items=items, form=form,
                           errors=errors), 422 if errors else 200


@bp.route("/regrade", methods=["GET", "POST"])
@staff_required
def regrade_page():
    form, preview, errors = RegradeForm(), None, []
    if form.validate_on_submit():
        try:
            if request.form.get("apply") and form.fingerprint.data:
                _rg, applied = regrade.apply(db.session, utcnow(), form.question_version_id.data,
                                             form.key_version_id.data, current_user.id,
                                             form.fingerprint.data)
                db.session.commit()
                flash(_("%(n)d attempts were regraded.", n=len(applied.attempts)), "success")
                return render_template("staff/regrade.html", form=form, preview=applied,
                                       applied=True, errors=[])
            preview = regrade.plan(db.session, form.question_version_id.data,
                                   form.key_version_id.data)
            form.fingerprint.data = preview.fingerprint
        except DomainError as err:
            db.session.rollback()
            errors = [err.message, *([f"{k}: {v}" for k, v in err.details.items()]
                                     if isinstance(err.details, dict) else err.details or [])]
    return render_template("staff/regrade.html", form=form, preview=preview, applied=False,
                           errors=errors), 422 if errors else 200


@bp.route("/attempts/<int:attempt_id>/invalidate", methods=["POST"])
@staff_required
def invalidate(attempt_id):
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            integrity.invalidate(db.session, utcnow(), lock_attempt(db.session, attempt_id),
                                 current_user.id, form.reason.data)
            db.session.commit()
            flash(_("The attempt is invalidated; the candidate is told."), "success")
            return redirect(url_for("staff.attempt", attempt_id=attempt_id))
        except NotFound:
            raise
        except DomainError as err:
            db.session.rollback()
            form.reason.errors = [*form.reason.errors, err.message]
    elif not form.reason.errors:
        form.reason.errors = [_("Give a reason for invalidating the attempt.")]
    # The log again, with the message beside the reason and the reason as it was typed.
    return _integrity_page(attempt_id, form, 400)


@bp.route("/enrollments/<int:enrollment_id>/accommodation", methods=["GET", "POST"])
@staff_required
def accommodation(enrollment_id):
    enrollment = db.session.get(Enrollment, enrollment_id) or abort(404)
    form = AccommodationForm(obj=None if request.method == "POST" else _accommodation_data(
        enrollment))
    if form.validate_on_submit():
        try:
            integrity.set_accommodation(
                db.session, utcnow(), enrollment.id, current_user.id,
                extra_minutes=form.extra_minutes.data,
                time_multiplier=float(form.time_multiplier.data),
                opens_at=as_utc(form.opens_at.data) if form.opens_at.data else None,
                closes_at=as_utc(form.closes_at.data) if form.closes_at.data else None)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            form.form_errors.extend([err.message, *(err.details or [])])
        else:
            flash(_("The accommodation is saved."), "success")
            return redirect(url_for("staff.session", session_id=enrollment.session_id))
    return render_template("staff/accommodation.html", form=form, enrollment=enrollment), \
        422 if form.errors or form.form_errors else 200


def _accommodation_data(enrollment: Enrollment):
    class Data:
        extra_minutes = enrollment.extra_minutes
        time_multiplier = enrollment.time_multiplier
        opens_at = enrollment.opens_at_override
        closes_at = enrollment.closes_at_override
    return Data


@bp.route("/sessions/<int:session_id>/dashboard")
@staff_required
def dashboard(session_id):
    es = db.session.get(ExamSession, session_id) or abort(404)
    # The script refreshes the table from the progress API, whose states are codes.
    return render_template("staff/dashboard.html", es=es,
                           data=results.progress(db.session, es, utcnow()),
                           state_names={s.value: status_name(s.value) for s in AttemptState})


@bp.route("/sessions/<int:session_id>/results.csv", defaults={"fmt": "csv"})
@bp.route("/sessions/<int:session_id>/results.xlsx", defaults={"fmt": "xlsx"})
@staff_required
def export(session_id, fmt):
    es = db.session.get(ExamSession, session_id) or abort(404)
    rows = results.result_rows(db.session, es)
    name = f"results-session-{es.id}.{fmt}"
    if fmt == "csv":
        body, mime = results.to_csv(rows), "text/csv; charset=utf-8"
    else:
        body = results.to_xlsx(rows, es.title)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/attempts/<int:attempt_id>/integrity")
@staff_required
def attempt_integrity(attempt_id):
    return _integrity_page(attempt_id, ReasonForm(formdata=None))


def _integrity_page(attempt_id: int, form: ReasonForm, status: int = 200):
    events = integrity.events_of(db.session, [attempt_id])[attempt_id]
    return render_template("staff/integrity.html", attempt_id=attempt_id, events=events,
                           form=form), status

