"""Certificate pages: the holder's own pages (printable page, PDF, credential, details) and
the public verification pages (one certificate, or many from a CSV)."""

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from examsys.certs import bulk, credentials, identity, lifecycle, pdf, qr, services
from examsys.certs.access import visible_certificate
from examsys.certs.forms import BulkVerifyForm, HolderDetailsForm, VerifyForm
from examsys.certs.models import Certificate
from examsys.certs.public_views import ensure_signing_key
from examsys.core.auth import any_user, candidate_required, public
from examsys.core.clock import utcnow
from examsys.core.errors import DomainError
from examsys.exams.delivery import results_released
from examsys.extensions import db, limiter

bp = Blueprint("certs", __name__)


@bp.record_once
def _template_globals(state) -> None:
    from examsys.certs.labels import TEMPLATE_GLOBALS

    state.app.jinja_env.globals.update(TEMPLATE_GLOBALS)


def verify_limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


def bulk_limit() -> str:
    return current_app.config.get("BULK_VERIFY_RATE_LIMIT", "10 per minute")


def verify_url(cert: Certificate) -> str:
    return url_for("certs.verify_token", token=services.token_for(cert), _external=True)


def reminder_days() -> int:
    return current_app.config.get("CERT_REMINDER_DAYS", 90)


@bp.route("/certificates/")
@candidate_required
def mine():
    now = utcnow()
    certs = [c for c in db.session.scalars(select(Certificate).where(
        Certificate.holder_id == current_user.id).order_by(Certificate.issued_at.desc()))
        # A certificate earned in an exam shows once that exam's results are released.
        if c.attempt_id is None or results_released(c.attempt, now)]
    soon = now + timedelta(days=reminder_days())
    return render_template("certs/mine.html", certs=certs, now=now, soon=soon,
                           details=identity.details_for(db.session, current_user.id))


@bp.route("/certificates/<serial>")
@any_user
def certificate(serial):
    cert = visible_certificate(serial)
    now = utcnow()
    url = verify_url(cert)
    expiring = cert.status(now) == "valid" and \
        cert.expires_at <= now + timedelta(days=reminder_days())
    return render_template("certs/certificate.html", cert=cert, status=cert.status(now),
                           verify_url=url, qr_uri=qr.svg_data_uri(url), expiring=expiring,
                           events=lifecycle.history(db.session, cert)
                           if current_user.is_staff else None)


@bp.route("/certificates/<serial>.pdf")
@any_user
def certificate_pdf(serial):
    cert = visible_certificate(serial)
    body = pdf.render(cert, verify_url(cert), utcnow())
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{cert.serial}.pdf"'})


@bp.route("/certificates/<serial>/credential.jwt")
@any_user
def credential(serial):
    cert = visible_certificate(serial)
    ensure_signing_key()
    token = credentials.issue_jwt(db.session, utcnow(), visible_certificate(serial))
    return Response(token, mimetype="application/vc+jwt", headers={
        "Content-Disposition": f'attachment; filename="{cert.serial}.jwt"'})


@bp.route("/certificates/details", methods=["GET", "POST"])
@candidate_required
def details():
    stored = identity.details_for(db.session, current_user.id)
    form = HolderDetailsForm(obj=stored if request.method == "GET" else None)
    if request.method == "GET":
        form.id_number.data = ""
    if form.validate_on_submit():
        try:
            identity.save_details(db.session, utcnow(), current_user._get_current_object(),
                                  name_en=form.name_en.data,
                                  id_number=form.id_number.data, actor_id=current_user.id)
        except DomainError as err:
            db.session.rollback()
            form.id_number.errors = [*form.id_number.errors, err.message]
        else:
            db.session.commit()
            flash(_("Saved. Certificates issued from now on will show these details."),
                  "success")
            return redirect(url_for("certs.mine"))
    return render_template("certs/details.html", form=form, stored=stored,
                           romanised=identity.romanise(current_user.name)), \
        400 if form.errors else 200


@bp.route("/verify", methods=["GET", "POST"])
@public
@limiter.limit(verify_limit, methods=["POST"])
def verify():
    form = VerifyForm()
    result = None
    if form.validate_on_submit():
        result = services.verify_serial(db.session, utcnow(), form.serial.data, form.name.data)
    return render_template("certs/verify.html", form=form, result=result), \
        400 if form.errors else 200


@bp.route("/verify/<token>")
@public
@limiter.limit(verify_limit)
def verify_token(token):
    result = services.verify_token(db.session, utcnow(), token)
    return render_template("certs/verify.html", form=VerifyForm(formdata=None), result=result)


@bp.route("/verify/bulk", methods=["GET", "POST"])
@public
@limiter.limit(bulk_limit, methods=["POST"])
def verify_bulk():
    _max_rows, max_bytes = bulk.limits()
    if request.method == "POST" and (request.content_length or 0) > max_bytes + 16 * 1024:
        abort(413)  # refused before the body is read (16 KiB for the form around the file)
    form = BulkVerifyForm()
    rows, problem = None, None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(max_bytes + 1) if upload else (form.text.data or "").encode()
        if len(data) > max_bytes:
            abort(413)
        try:
            rows = bulk.verify(db.session, utcnow(), bulk.parse_csv(bulk.decode(data)))
        except bulk.TooLarge as err:
            return render_template("error.html", status=413, message=err.message), 413
        except DomainError as err:
            problem = err.message
        else:
            if not rows:
                problem = _("The file has no rows. Give one serial,name per line.")
            elif request.form.get("download"):
                return csv_response(rows)
    return render_template("certs/bulk.html", form=form, rows=rows, problem=problem,
                           max_bytes=max_bytes), 400 if (form.errors or problem) else 200


def csv_response(rows) -> Response:
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(bulk.to_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="verification-{stamp}.csv"'})
