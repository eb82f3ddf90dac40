"""Issued certificates. A row is never rewritten except to record a revocation."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys.accounts.models import User
from examsys.core.types import UTCDateTime
from examsys.exams.models import Attempt, Certification
from examsys.extensions import db


class Certificate(db.Model):
    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The holder's name as it was at issue: what the certificate says, forever.
    holder_name: Mapped[str] = mapped_column(String(200))
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id"))
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str | None] = mapped_column(String(500))

    holder: Mapped[User] = relationship()
    certification: Mapped[Certification] = relationship(lazy="joined", innerjoin=True)
    attempt: Mapped[Attempt] = relationship()

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None and self.revoked_at <= now:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "valid"
