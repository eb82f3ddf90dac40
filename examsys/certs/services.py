"""Issuing certificates, signing their verification links, and verifying them."""

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from examsys.accounts.services import normalise_name
from examsys.certs import identity, public
from examsys.certs.models import ACTIVE, SUPERSEDED, Certificate, CertificateEvent
from examsys.certs.public import PublicCertificate
from examsys.core import audit

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
    keys = (*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.secret_key)
    try:
        return _serializer(keys)
    except TypeError:  # a key that is no str or bytes (a bytearray): not kept
        return _serializer.__wrapped__(keys)


@lru_cache(maxsize=8)  # one per set of keys: built for every verification otherwise
def _serializer(keys: tuple) -> URLSafeSerializer:
    return URLSafeSerializer(list(keys), salt=TOKEN_SALT)


def token_for(certificate: Certificate) -> str:
    return serializer().dumps({"s": certificate.serial})


def by_serial(session, serial: str) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.serial == serial)) \
        if serial else None


def add_event(session, now: datetime, cert: Certificate, kind: str, actor_id: int | None,
              reason: str | None = None, data: dict | None = None) -> CertificateEvent:
    """Append to the certificate's history and to the audit log (both only ever grow)."""
    session.flush()
    event = CertificateEvent(certificate_id=cert.id, at=now, actor_id=actor_id, kind=kind,
                             reason=reason, data=data)
    session.add(event)
    audit.record(session, now, actor_id, f"certificate.{kind}", cert,
                 {"serial": cert.serial, **({"reason": reason} if reason else {}),
                  **(data or {})})
    return event


def new_certificate(session, now: datetime, *, holder, certification, attempt_id, basis,
                    expires_at: datetime, renews: Certificate | None = None,
                    actor_id: int | None = None) -> Certificate:
    """Create a certificate with the holder's current details and record its issue."""
    details = identity.details_for(session, holder.id)
    name_en = (details.name_en if details else None) or identity.romanise(holder.name)
    cert = Certificate(serial=new_serial(), holder_id=holder.id, holder_name=holder.name,
                       holder_name_en=name_en if name_en != holder.name else None,
                       id_number_hash=details.id_number_hash if details else None,
                       id_number_masked=details.id_number_masked if details else None,
                       certification_id=certification.id, attempt_id=attempt_id,
                       issued_at=now, expires_at=expires_at, basis=basis,
                       renews_id=renews.id if renews else None, state=ACTIVE)
    session.add(cert)
    add_event(session, now, cert, "issued", actor_id,
              data={"basis": basis, **({"renews": renews.serial} if renews else {})})
    return cert


def supersede(session, now: datetime, old: Certificate, new: Certificate,
              actor_id: int | None) -> None:
    old.state, old.state_at, old.superseded_by_id = SUPERSEDED, now, new.id
    old.state_reason = None
    add_event(session, now, old, "superseded", actor_id, data={"by": new.serial})


def issue(session, now: datetime, attempt) -> Certificate:
    """Issue the certificate a passed attempt earns (once: a second call returns it).

    A pass by a holder who already has an active certificate of the same certification is
    a renewal by re-examination: the new certificate supersedes the old one.
    """
    existing = session.scalar(select(Certificate).where(Certificate.attempt_id == attempt.id))
    if existing is not None:
        return existing
    certification = attempt.session.certification
    previous = session.scalars(select(Certificate).where(
        Certificate.holder_id == attempt.candidate_id,
        Certificate.certification_id == certification.id,
        Certificate.state == ACTIVE).order_by(Certificate.issued_at)).all()
    cert = new_certificate(session, now, holder=attempt.candidate, certification=certification,
                           attempt_id=attempt.id, basis="exam",
                           expires_at=add_months(now, certification.validity_months),
                           renews=previous[-1] if previous else None)
    session.flush()
    for old in previous:
        supersede(session, now, old, cert, None)
    return cert


@dataclass
class Verification:
    # valid | suspended | revoked | superseded | expired | invalid | not_found
    status: str
    reason: str  # why, in one machine-readable word
    certificate: PublicCertificate | None = None


def verdict(cert: PublicCertificate | None, now: datetime) -> Verification:
    if cert is None:
        return Verification("not_found", "unknown_serial")
    status = cert.status(now)
    return Verification(status, status, cert)


def verify_token(bind, now: datetime, token: str) -> Verification:
    """``bind``: a Session or an Engine (see ``public.by_serial``)."""
    try:
        data = serializer().loads(token)
        serial = data["s"]
    except (BadSignature, KeyError, TypeError):
        return Verification("invalid", "bad_signature")
    return verdict(public.by_serial(bind, serial) if isinstance(serial, str) else None, now)


def name_matches(cert: PublicCertificate, name: str) -> bool:
    """The name as the exam office entered it, or its pinyin in either order (ZHANG Wei,
    Wei Zhang). Not the English name the holder chose at /certificates/details: nobody has
    confirmed it, and a check by name would otherwise vouch for any name they typed there
    (the certificate still prints it; a check by token or QR code shows both)."""
    typed = normalise_name(name)
    if not typed:
        return False
    pinyin = identity.romanise(cert.holder_name)
    surname, _, given = pinyin.partition(" ")
    return typed in {normalise_name(n) for n in (cert.holder_name, pinyin, f"{given} {surname}")}


def verify_serial(bind, now: datetime, serial: str, name: str,
                  certificate: PublicCertificate | None = None) -> Verification:
    """Serial + the holder's name (as entered by the exam office, or its pinyin; see
    ``name_matches``) → the certificate's status. ``bind``: see ``public.by_serial``.

    ``certificate`` lets a bulk check pass the row it already loaded for this serial.
    """
    cert = certificate or public.by_serial(bind, normalise_serial(serial))
    if cert is None:
        return Verification("not_found", "unknown_serial")
    if not name_matches(cert, name):
        # The serial exists, but nothing about it is shown to someone without the name.
        return Verification("not_found", "name_mismatch")
    return verdict(cert, now)
