"""Certificates in the JSON API: public verification (one, or many at once) and the
examiner's status changes."""

from flask import Blueprint, g, request
from flask_babel import gettext as _
from flask_login import current_user

from examsys.certs import bulk, lifecycle, services
from examsys.certs.views import bulk_limit, csv_response, verify_limit
from examsys.core.api import json_body, ok
from examsys.core.auth import public, staff_required
from examsys.core.clock import iso, utcnow
from examsys.core.errors import DomainError, Invalid
from examsys.extensions import csrf, db, limiter

bp = Blueprint("certs_api", __name__)


def certificate_json(cert) -> dict:
    return {
        "serial": cert.serial, "holder_name": cert.holder_name,
        "holder_name_en": cert.holder_name_en, "id_number": cert.id_number_masked,
        "certification": cert.certification.name(g.lang),
        "certification_code": cert.certification.code, "level": cert.certification.level,
        "issued_at": iso(cert.issued_at), "expires_at": iso(cert.expires_at),
        "revoked_at": iso(cert.revoked_at), "revocation_reason": cert.revocation_reason,
        "suspended_at": iso(cert.state_at) if cert.state == "suspended" else None,
        "suspension_reason": cert.state_reason if cert.state == "suspended" else None,
        "superseded_by": cert.superseded_by.serial if cert.superseded_by else None}


def verification_json(result: services.Verification) -> dict:
    cert = result.certificate
    return {"status": result.status, "reason": result.reason,
            "certificate": certificate_json(cert) if cert is not None else None}


@bp.route("/certificates/verify")
@public
@limiter.limit(verify_limit)
def verify():
    now = utcnow()
    token = request.args.get("token")
    serial, name = request.args.get("serial"), request.args.get("name")
    # On a connection of its own: the request's session stays unused.
    if token:
        result = services.verify_token(db.engine, now, token)
    elif serial and name:
        result = services.verify_serial(db.engine, now, serial, name)
    else:
        raise Invalid(_("Give token, or serial and name."), code="invalid")
    return ok(verification_json(result))


@bp.route("/certificates/verify", methods=["POST"])
@public
@csrf.exempt  # no cookie gives this request any power: it only reads public answers
@limiter.limit(bulk_limit)
def verify_many():
    """JSON {"certificates": [...]} or a text/csv body; answers JSON, or CSV when asked."""
    _max_rows, max_bytes = bulk.limits()
    if (request.content_length or 0) > max_bytes:
        raise bulk.TooLarge(_("The upload is too large (at most %(n)d KiB).",
                              n=max_bytes // 1024))
    if request.mimetype == "text/csv":
        data = request.get_data(cache=False)
        if len(data) > max_bytes:
            raise bulk.TooLarge(_("The upload is too large (at most %(n)d KiB).",
                                  n=max_bytes // 1024))
        rows = bulk.parse_csv(bulk.decode(data))
    else:
        rows = bulk.parse_json(json_body().get("certificates"))
    rows = bulk.verify(db.session, utcnow(), rows)
    wants_csv = request.args.get("format") == "csv" or \
        request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"
    if wants_csv:
        return csv_response(rows)
    return ok({"results": [
        {"line": r.line, "serial": r.serial or None, "name": r.name or None,
         "status": r.status, "reason": r.reason,
         "certificate": certificate_json(r.result.certificate)
         if r.result and r.result.certificate else None} for r in rows]})


ACTIONS = {"suspend": lifecycle.suspend, "revoke": lifecycle.revoke,
           "reinstate": lifecycle.reinstate}


@bp.route("/certificates/<serial>/<action>", methods=["POST"])
@staff_required
def change(serial, action):
    if action not in ACTIONS:
        raise DomainError(_("Unknown action."), code="not_found", status=404)
    body = json_body()
    reason = body.get("reason")
    cert = ACTIONS[action](db.session, utcnow(), services.normalise_serial(serial),
                           reason if isinstance(reason, str) else "", current_user.id)
    db.session.commit()
    return ok(verification_json(services.verdict(cert, utcnow())))


@bp.route("/certificates/<serial>/renew", methods=["POST"])
@staff_required
def renew(serial):
    body = json_body()
    hours = body.get("hours")
    if isinstance(hours, bool) or not isinstance(hours, int | float):
        raise Invalid(_("Give the hours as a number."), code="invalid_hours")
    new = lifecycle.renew_by_education(db.session, utcnow(), services.normalise_serial(serial),
                                       hours, str(body.get("note") or ""), current_user.id)
    db.session.commit()
    return ok(verification_json(services.verdict(new, utcnow())), 201)


