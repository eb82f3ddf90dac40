"""What examiners do to issued certificates, and what time does to them: suspension,
revocation, reinstatement, renewal by continuing education, and expiry reminders.

Each change appends a CertificateEvent (and an audit event) and updates the cached state in
the same transaction, so verification shows it at once.
"""

import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select

from examsys.certs.models import (
    ACTIVE,
    REVOKED,
    SUSPENDED,
    Certificate,
    CertificateEvent,
)
from examsys.certs.services import add_event, add_months, by_serial, new_certificate, supersede
from examsys.core import mail
from examsys.core.errors import Conflict, Invalid, NotFound
from examsys.core.i18n import _


def _load(session, serial: str) -> Certificate:
    cert = by_serial(session, serial)
    if cert is None:
        raise NotFound(_("No certificate has this serial."))
    return cert


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give a reason."), code="reason_required")
    if len(reason) > 500:
        raise Invalid(_("The reason is too long (500 characters at most)."),
                      code="reason_too_long")
    return reason


def _set_state(session, now, cert, state, kind, reason, actor_id, *,
               public: bool = True) -> Certificate:
    """``reason`` goes to the certificate's history; verification shows it only if
    ``public`` (state_reason is what the verify page and API print)."""
    cert.state, cert.state_at, cert.state_reason = state, now, reason if public else None
    add_event(session, now, cert, kind, actor_id, reason)
    return cert


def suspend(session, now: datetime, serial: str, reason: str, actor_id: int) -> Certificate:
    """Suspend an active certificate (e.g. while misconduct is investigated)."""
    reason = _reason(reason)
    cert = _load(session, serial)
    if cert.state != ACTIVE:
        raise Conflict(_("Only an active certificate can be suspended."), code="not_active")
    return _set_state(session, now, cert, SUSPENDED, "suspended", reason, actor_id)


def revoke(session, now: datetime, serial: str, reason: str, actor_id: int, *,
           public_reason: bool = True) -> Certificate:
    """Revoke an active or suspended certificate. Revocation is final. Without
    ``public_reason`` the reason stays in the history, and verification gives none."""
    reason = _reason(reason)
    cert = _load(session, serial)
    if cert.state == REVOKED:
        raise Conflict(_("This certificate is already revoked."), code="already_revoked")
    if cert.state not in (ACTIVE, SUSPENDED):
        raise Conflict(_("A superseded certificate cannot be revoked; revoke the one that "
                         "replaced it."), code="not_active")
    return _set_state(session, now, cert, REVOKED, "revoked", reason, actor_id,
                      public=public_reason)


def reinstate(session, now: datetime, serial: str, reason: str, actor_id: int) -> Certificate:
    """End a suspension: the certificate is in force again (until it expires)."""
    reason = _reason(reason)
    cert = _load(session, serial)
    if cert.state != SUSPENDED:
        raise Conflict(_("Only a suspended certificate can be reinstated."),
                       code="not_suspended")
    return _set_state(session, now, cert, ACTIVE, "reinstated", reason, actor_id)


def renew_by_education(session, now: datetime, serial: str, hours: float, note: str,
                       actor_id: int) -> Certificate:
    """Issue the renewal earned by continuing-education hours; it supersedes the old one.

    The new certificate runs one validity period from the old expiry (or from now, if the
    old one has already expired), so renewing early loses no time.
    """
    cert = _load(session, serial)
    required = current_app.config.get("CERT_RENEWAL_HOURS", 40)
    window = timedelta(days=current_app.config.get("CERT_RENEWAL_WINDOW_DAYS", 180))
    if cert.state != ACTIVE:
        raise Conflict(_("Only an active or expired certificate can be renewed."),
                       code="not_active")
    if isinstance(hours, bool) or not isinstance(hours, int | float) \
            or not math.isfinite(hours) or hours < required:
        raise Invalid(_("Renewal needs at least %(n)s hours of continuing education.",
                        n=f"{required:g}"), code="not_enough_hours")
    if now < cert.expires_at - window:
        raise Conflict(_("Renewal opens %(days)d days before expiry.", days=window.days),
                       code="too_early")
    start = max(now, cert.expires_at)
    new = new_certificate(session, now, holder=cert.holder, certification=cert.certification,
                          attempt_id=None, basis="education", renews=cert, actor_id=actor_id,
                          expires_at=add_months(start, cert.certification.validity_months))
    session.flush()
    new.state_reason = None
    supersede(session, now, cert, new, actor_id)
    add_event(session, now, new, "education_recorded", actor_id, (note or "").strip() or None,
              {"hours": hours})
    return new


def expiring(session, now: datetime, days: int) -> list[Certificate]:
    """Active certificates that expire within ``days`` (and have not expired yet)."""
    return list(session.scalars(select(Certificate).where(
        Certificate.state == ACTIVE, Certificate.expires_at > now,
        Certificate.expires_at <= now + timedelta(days=days))
        .order_by(Certificate.expires_at)))


def send_reminders(session, now: datetime, days: int) -> list[Certificate]:
    """Record a reminder for each certificate expiring within ``days`` not yet reminded at
    this horizon; returns them. Safe to run from cron as often as you like."""
    reminded = (select(CertificateEvent.id).where(
        CertificateEvent.certificate_id == Certificate.id,
        CertificateEvent.kind == "reminded",
        CertificateEvent.data["days"].as_integer() == days))
    due = session.scalars(select(Certificate).where(
        Certificate.state == ACTIVE, Certificate.expires_at > now,
        Certificate.expires_at <= now + timedelta(days=days), ~exists(reminded))
        .order_by(Certificate.expires_at)).all()
    for cert in due:
        add_event(session, now, cert, "reminded", None, data={"days": days})
    mail.queue(session, now, "certificate_expiring", [(c.holder_id, c) for c in due],
               _reminder)
    return list(due)


def _reminder(cert: Certificate) -> tuple[str, str]:
    date = cert.expires_at.strftime("%Y-%m-%d")
    return (_("Certificate %(serial)s expires on %(date)s", serial=cert.serial, date=date),
            _("This certificate expires on %(date)s. Renew it by re-examination or with "
              "continuing-education hours.", date=date) + f"\n{cert.serial}")


def history(session, cert: Certificate) -> list[CertificateEvent]:
    return list(session.scalars(select(CertificateEvent).where(
        CertificateEvent.certificate_id == cert.id).order_by(CertificateEvent.id)))
