"""Public JSON verification of certificates."""

from flask import Blueprint, g, request
from flask_babel import gettext as _

from examsys.certs import services
from examsys.certs.views import verify_limit
from examsys.core.api import ok
from examsys.core.auth import public
from examsys.core.clock import utcnow
from examsys.core.errors import Invalid
from examsys.exams.presenters import iso
from examsys.extensions import db, limiter

bp = Blueprint("certs_api", __name__)


def verification_json(result: services.Verification) -> dict:
    cert = result.certificate
    body = {"status": result.status, "reason": result.reason, "certificate": None}
    if cert is not None:
        body["certificate"] = {
            "serial": cert.serial, "holder_name": cert.holder_name,
            "certification": cert.certification.name(g.lang),
            "certification_code": cert.certification.code, "level": cert.certification.level,
            "issued_at": iso(cert.issued_at), "expires_at": iso(cert.expires_at),
            "revoked_at": iso(cert.revoked_at), "revocation_reason": cert.revocation_reason}
    return body


@bp.route("/certificates/verify")
@public
@limiter.limit(verify_limit)
def verify():
    now = utcnow()
    token = request.args.get("token")
    serial, name = request.args.get("serial"), request.args.get("name")
    if token:
        result = services.verify_token(db.session, now, token)
    elif serial and name:
        result = services.verify_serial(db.session, now, serial, name)
    else:
        raise Invalid(_("Give token, or serial and name."), code="invalid")
    return ok(verification_json(result))
