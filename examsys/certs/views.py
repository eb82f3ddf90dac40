"""Certificate pages: the holder's own page and the public verification pages."""

from flask import Blueprint, abort, current_app, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from examsys.accounts.models import Role
from examsys.certs import services
from examsys.certs.forms import VerifyForm
from examsys.certs.models import Certificate
from examsys.core.auth import any_user, public
from examsys.core.clock import utcnow
from examsys.exams.delivery import results_released
from examsys.extensions import db, limiter

bp = Blueprint("certs", __name__)


def verify_limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


@bp.route("/certificates/<serial>")
@any_user
def certificate(serial):
    cert = db.session.scalar(select(Certificate).where(Certificate.serial == serial))
    if cert is None:
        abort(404)
    if current_user.role == Role.CANDIDATE and (
            cert.holder_id != current_user.id or not results_released(cert.attempt, utcnow())):
        abort(404)
    token = services.token_for(cert)
    return render_template("certs/certificate.html", cert=cert, status=cert.status(utcnow()),
                           verify_url=url_for("certs.verify_token", token=token, _external=True))


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
