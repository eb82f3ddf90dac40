"""Certifications, blueprints, exam sessions, enrollments and attempts."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys.accounts.models import User
from examsys.bank.models import QuestionVersion
from examsys.core.types import UTCDateTime
from examsys.extensions import db


class Certification(db.Model):
    __tablename__ = "certification"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(32))
    validity_months: Mapped[int]
    current_blueprint_id: Mapped[int | None] = mapped_column(
        ForeignKey("blueprint.id", use_alter=True, name="fk_certification_current_blueprint"))

    current_blueprint: Mapped["Blueprint"] = relationship(
        foreign_keys=[current_blueprint_id], post_update=True)

    def name(self, lang: str) -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en


class Blueprint(db.Model):
    """How an exam is assembled. Immutable: a changed blueprint is a new row."""

    __tablename__ = "blueprint"

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id"), index=True)
    time_limit_minutes: Mapped[int]
    pass_mark: Mapped[float]
    shuffle_options: Mapped[bool] = mapped_column(default=True)
    # [{key, title: {en, zh}, topics: [...], levels: [...], count, points, pass_mark}]
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    certification: Mapped[Certification] = relationship(foreign_keys=[certification_id])

    @property
    def item_count(self) -> int:
        return sum(s["count"] for s in self.sections)


class ReleasePolicy(enum.StrEnum):
    IMMEDIATE = "immediate"
    AFTER_CLOSE = "after_close"
    MANUAL = "manual"


class ExamSession(db.Model):
    __tablename__ = "exam_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certification.id"), index=True)
    blueprint_id: Mapped[int] = mapped_column(ForeignKey("blueprint.id"))
    title: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    access_code: Mapped[str | None] = mapped_column(String(64))
    release: Mapped[str] = mapped_column(String(16), default=ReleasePolicy.IMMEDIATE.value)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Saves arriving this long after the deadline still count (network latency).
    grace_seconds: Mapped[int] = mapped_column(default=30)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    certification: Mapped[Certification] = relationship(lazy="joined", innerjoin=True)
    blueprint: Mapped[Blueprint] = relationship()


class Enrollment(db.Model):
    __tablename__ = "enrollment"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    extra_minutes: Mapped[int] = mapped_column(default=0)
    attempts_allowed: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    session: Mapped[ExamSession] = relationship(lazy="joined", innerjoin=True)
    candidate: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("session_id", "candidate_id"),)


class AttemptState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    EXPIRED = "expired"
    GRADED = "graded"
    INVALIDATED = "invalidated"


class Attempt(db.Model):
    __tablename__ = "attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    seed: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default=AttemptState.IN_PROGRESS.value)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How the attempt ended: submitted by the candidate, or closed at the deadline.
    finish_reason: Mapped[str | None] = mapped_column(String(16))
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[float | None]
    max_score: Mapped[float | None]
    passed: Mapped[bool | None]
    sections: Mapped[list | None] = mapped_column(JSON)

    enrollment: Mapped[Enrollment] = relationship()
    session: Mapped[ExamSession] = relationship(lazy="joined", innerjoin=True)
    candidate: Mapped[User] = relationship()
    items: Mapped[list["AttemptItem"]] = relationship(
        order_by="AttemptItem.position", back_populates="attempt")

    __table_args__ = (UniqueConstraint("enrollment_id", "number"),)

    @property
    def is_open(self) -> bool:
        return self.state == AttemptState.IN_PROGRESS


class AttemptItem(db.Model):
    """One question of an attempt's form, pinned to the version it was drawn with."""

    __tablename__ = "attempt_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"))
    position: Mapped[int]
    section: Mapped[str] = mapped_column(String(40))
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_version.id"),
                                                     index=True)
    option_order: Mapped[list | None] = mapped_column(JSON)
    points: Mapped[float]
    # The latest saved response (canonical form) and its sequence number: a cache of
    # the newest ResponseEvent, kept so reading a form needs no scan of the log.
    response: Mapped[Any | None] = mapped_column(JSON)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fraction: Mapped[float | None]
    awarded: Mapped[float | None]

    attempt: Mapped[Attempt] = relationship(back_populates="items")
    version: Mapped[QuestionVersion] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (UniqueConstraint("attempt_id", "position"),)


class ResponseEvent(db.Model):
    """Append-only log of every accepted save."""

    __tablename__ = "response_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_item_id: Mapped[int] = mapped_column(ForeignKey("attempt_item.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    response: Mapped[Any | None] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    login_session_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("attempt_item_id", "seq"),)
