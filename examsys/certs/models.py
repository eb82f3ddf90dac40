"""Certificates, their append-only event history, holders' certificate details, and the
Ed25519 keys that sign offline-verifiable credentials.

A certificate row records what was issued, forever; what happened to it afterwards lives in
``CertificateEvent`` rows that are only ever added. ``Certificate.state`` is a cache of the
latest status-changing event, kept so that verification is one indexed read.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys.accounts.models import User
from examsys.core.types import UTCDateTime
from examsys.exams.models import Attempt, Certification
from examsys.extensions import db

# The administrative states an event can set (expiry is a matter of time, not an event).
ACTIVE, SUSPENDED, REVOKED, SUPERSEDED = "active", "suspended", "revoked", "superseded"


class Certificate(db.Model):
    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The holder's names and ID number as they were at issue: what the certificate says.
    holder_name: Mapped[str] = mapped_column(String(200))
    holder_name_en: Mapped[str | None] = mapped_column(String(200))
    id_number_hash: Mapped[str | None] = mapped_column(String(255))
    id_number_masked: Mapped[str | None] = mapped_column(String(40))
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id"))
    # The passed attempt; empty for a renewal by continuing education.
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempt.id"), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # How this certificate came to be: "exam" or "education" (a renewal), and what it renews.
    basis: Mapped[str] = mapped_column(String(16), default="exam")
    renews_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    # Cache of the event history (see CertificateEvent): active | suspended | revoked |
    # superseded, since when, why, and (when superseded) by which certificate.
    state: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    state_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_reason: Mapped[str | None] = mapped_column(String(500))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))

    holder: Mapped[User] = relationship()
    certification: Mapped[Certification] = relationship(lazy="joined")
    attempt: Mapped[Attempt | None] = relationship()
    superseded_by: Mapped["Certificate | None"] = relationship(
        foreign_keys=[superseded_by_id], remote_side=[id])
    renews: Mapped["Certificate | None"] = relationship(foreign_keys=[renews_id],
                                                         remote_side=[id])

    def status(self, now: datetime) -> str:
        """valid | suspended | revoked | superseded | expired, at ``now``."""
        if self.state != ACTIVE:
            return self.state
        if now >= self.expires_at:
            return "expired"
        return "valid"

    # Kept for the verification answers, which name the revocation explicitly.
    @property
    def revoked_at(self) -> datetime | None:
        return self.state_at if self.state == REVOKED else None

    @property
    def revocation_reason(self) -> str | None:
        return self.state_reason if self.state == REVOKED else None


class CertificateEvent(db.Model):
    """Something that happened to a certificate. Rows are only ever added."""

    __tablename__ = "certificate_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # issued | suspended | reinstated | revoked | superseded | reminded
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(500))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()


class HolderDetails(db.Model):
    """What a candidate wants printed on future certificates beside the account's name."""

    __tablename__ = "certificate_holder_details"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    # The ID number itself is never stored: a salted scrypt hash and a masked form.
    id_number_hash: Mapped[str | None] = mapped_column(String(255))
    id_number_masked: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SigningKey(db.Model):
    """An Ed25519 key for credentials. Retired keys still verify; removed keys are gone."""

    __tablename__ = "signing_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    # PKCS#8 PEM; emptied when the key is removed. Never leaves the server.
    private_pem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def state(self) -> str:
        if self.removed_at is not None:
            return "removed"
        return "retired" if self.retired_at is not None else "active"
