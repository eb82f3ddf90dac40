"""The examiner's side: find certificates, see their history, suspend, revoke, reinstate,
and renew by continuing education."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from examsys.accounts.models import User
from examsys.certs import lifecycle
from examsys.certs.access import visible_certificate
from examsys.certs.forms import ReasonForm, RenewForm
from examsys.certs.models import Certificate
from examsys.certs.views import reminder_days, verify_url
from examsys.core.auth import staff_required
from examsys.core.clock import utcnow
from examsys.core.errors import DomainError
from examsys.extensions import db

bp = Blueprint("certs_staff", __name__)

ACTIONS = {"suspend": lifecycle.suspend, "revoke": lifecycle.revoke,
           "reinstate": lifecycle.reinstate}


@bp.route("/staff/certificates")
@staff_required
def index():
    now = utcnow()
    q = (request.args.get("q") or "").strip()
    query = select(Certificate).join(User, Certificate.holder_id == User.id)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Certificate.serial.ilike(like), Certificate.holder_name.ilike(
            like), Certificate.holder_name_en.ilike(like), User.email.ilike(like)))
    certs = db.session.scalars(query.order_by(Certificate.issued_at.desc()).limit(200)).all()
    expiring = lifecycle.expiring(db.session, now, reminder_days())
    return render_template("certs/staff_index.html", certs=certs, q=q, now=now,
                           expiring=expiring, days=reminder_days())


def _detail(cert, status=200, **forms):
    forms.setdefault("reason_form", ReasonForm(formdata=None))
    forms.setdefault("renew_form", RenewForm(formdata=None))
    return render_template("certs/staff_certificate.html", cert=cert, now=utcnow(),
                           status=cert.status(utcnow()), verify_url=verify_url(cert),
                           events=lifecycle.history(db.session, cert), **forms), status


@bp.route("/staff/certificates/<serial>")
@staff_required
def detail(serial):
    return _detail(visible_certificate(serial))


@bp.route("/staff/certificates/<serial>/<action>", methods=["POST"])
@staff_required
def change(serial, action):
    cert = visible_certificate(serial)
    if action not in ACTIONS:
        return _detail(cert, 404)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _detail(cert, 400, reason_form=form)
    try:
        ACTIONS[action](db.session, utcnow(), cert.serial, form.reason.data, current_user.id)
    except DomainError as err:
        db.session.rollback()
        form.reason.errors = [err.message]
        return _detail(visible_certificate(serial), err.status, reason_form=form)
    db.session.commit()
    flash(_("Done: the certificate is now %(status)s.", status=cert.status(utcnow())),
          "success")
    return redirect(url_for("certs_staff.detail", serial=serial))


@bp.route("/staff/certificates/<serial>/renew", methods=["POST"])
@staff_required
def renew(serial):
    cert = visible_certificate(serial)
    form = RenewForm()
    if not form.validate_on_submit():
        return _detail(cert, 400, renew_form=form)
    try:
        new = lifecycle.renew_by_education(db.session, utcnow(), cert.serial,
                                           float(form.hours.data), form.note.data,
                                           current_user.id)
    except DomainError as err:
        db.session.rollback()
        form.hours.errors = [err.message]
        return _detail(visible_certificate(serial), err.status, renew_form=form)
    db.session.commit()
    flash(_("Renewed: %(serial)s supersedes %(old)s.", serial=new.serial, old=serial),
          "success")
    return redirect(url_for("certs_staff.detail", serial=new.serial))
