"""Issuing certificates, signing their tokens, and verifying them."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from examsys.accounts.services import normalise_name
from examsys.certs.models import Certificate
from examsys.core import audit
from examsys.core.errors import Conflict, Invalid, NotFound

# Crockford's base32: no I, L, O or U, so serials survive being read aloud or retyped.
SERIAL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SERIAL_GROUPS = 4  # 4 groups × 4 characters × 5 bits = 80 random bits
TOKEN_SALT = "examsys.certificate.verify.v1"  # noqa: S105 - a namespace, not a secret


def new_serial() -> str:
    chars = "".join(secrets.choice(SERIAL_ALPHABET) for _ in range(4 * SERIAL_GROUPS))
    return "LB-" + "-".join(chars[i:i + 4] for i in range(0, len(chars), 4))


def normalise_serial(text: str) -> str:
    """Accept serials typed with spaces, lower case, or the usual look-alike letters."""
    raw = "".join(ch for ch in text.upper() if ch.isascii() and ch.isalnum())
    raw = raw.removeprefix("LB").translate(str.maketrans("OIL", "011"))
    return "LB-" + "-".join(raw[i:i + 4] for i in range(0, len(raw), 4)) if raw else ""


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                           31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
    return moment.replace(year=year, month=month, day=day)


def serializer() -> URLSafeSerializer:
    """Signs with SECRET_KEY; still accepts tokens signed with SECRET_KEY_FALLBACKS."""
    keys = [*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.secret_key]
    return URLSafeSerializer(keys, salt=TOKEN_SALT)


def token_for(certificate: Certificate) -> str:
    return serializer().dumps({"s": certificate.serial})


def issue(session, now: datetime, attempt) -> Certificate:
    """Issue the certificate a passed attempt earns (once: a second call returns it)."""
    existing = session.scalar(select(Certificate).where(Certificate.attempt_id == attempt.id))
    if existing is not None:
        return existing
    certification = attempt.session.certification
    cert = Certificate(serial=new_serial(), holder_id=attempt.candidate_id,
                       holder_name=attempt.candidate.name, certification_id=certification.id,
                       attempt_id=attempt.id, issued_at=now,
                       expires_at=add_months(now, certification.validity_months))
    session.add(cert)
    audit.record(session, now, None, "certificate.issue", cert, {"serial": cert.serial})
    return cert


def revoke(session, now: datetime, serial: str, reason: str, actor_id: int) -> Certificate:
    cert = session.scalar(select(Certificate).where(Certificate.serial == serial))
    if cert is None:
        raise NotFound(_("No certificate has this serial."))
    if cert.revoked_at is not None:
        raise Conflict(_("This certificate is already revoked."), code="already_revoked")
    if not reason.strip():
        raise Invalid(_("Give a reason for the revocation."))
    cert.revoked_at, cert.revocation_reason = now, reason.strip()
    audit.record(session, now, actor_id, "certificate.revoke", cert, {"reason": reason})
    return cert


@dataclass
class Verification:
    status: str  # valid | revoked | expired | invalid | not_found
    reason: str  # why, in one machine-readable word
    certificate: Certificate | None = None


def verify_token(session, now: datetime, token: str) -> Verification:
    try:
        data = serializer().loads(token)
        serial = data["s"]
    except (BadSignature, KeyError, TypeError):
        return Verification("invalid", "bad_signature")
    cert = session.scalar(select(Certificate).where(Certificate.serial == serial))
    if cert is None:
        return Verification("not_found", "unknown_serial")
    status = cert.status(now)
    return Verification(status, status, cert)


def verify_serial(session, now: datetime, serial: str, name: str) -> Verification:
    serial = normalise_serial(serial)
    cert = session.scalar(select(Certificate).where(Certificate.serial == serial)) \
        if serial else None
    if cert is None:
        return Verification("not_found", "unknown_serial")
    if normalise_name(name) != normalise_name(cert.holder_name):
        # The serial exists, but nothing about it is shown to someone without the name.
        return Verification("not_found", "name_mismatch")
    status = cert.status(now)
    return Verification(status, status, cert)
