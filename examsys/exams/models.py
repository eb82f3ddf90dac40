"""Certifications, blueprints, exam sessions, enrollments and attempts."""

import enum
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
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
    # Retake policy across every session of this certification.
    max_attempts: Mapped[int | None] = mapped_column(default=None)
    retake_cooldown_hours: Mapped[int] = mapped_column(default=0, server_default="0")
    avoid_seen_items: Mapped[bool] = mapped_column(default=True, server_default="1")
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
    # One item at a time, forward only: a candidate cannot go back to an earlier item.
    sequential: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Human-marked items get two independent marks; beyond the tolerance (in rubric
    # points) a third marker reconciles.
    double_marking: Mapped[bool] = mapped_column(default=False, server_default="0")
    marking_tolerance: Mapped[float] = mapped_column(default=0.0, server_default="0")
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


def last_window_close(closes_at: datetime, own_windows_close_at: datetime | None) -> datetime:
    """When a session's window and every candidate's own window have closed: no attempt's
    deadline is later."""
    own = own_windows_close_at
    return closes_at if own is None or own <= closes_at else own


def all_closed_at(closes_at: datetime, own_windows_close_at: datetime | None,
                  grace_seconds: int) -> datetime:
    """When no candidate can write to a session any more: every window closed
    (``last_window_close``) and the grace period for saves still on their way after a
    deadline passed."""
    return last_window_close(closes_at, own_windows_close_at) + timedelta(seconds=grace_seconds)


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
    # Exam-centre networks (CIDR strings) a candidate must sit from; None = anywhere.
    allowed_networks: Mapped[list | None] = mapped_column(JSON)
    # Spread the opening minute: each candidate may start up to this many seconds late.
    stagger_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the last of its candidates' own windows closes (accommodations; None: nobody
    # has one), kept by integrity.set_accommodation: an after-close release waits for it.
    own_windows_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    certification: Mapped[Certification] = relationship(lazy="joined")
    blueprint: Mapped[Blueprint] = relationship()

    @property
    def last_window_close(self) -> datetime:
        return last_window_close(self.closes_at, self.own_windows_close_at)

    @property
    def all_closed_at(self) -> datetime:
        return all_closed_at(self.closes_at, self.own_windows_close_at, self.grace_seconds)


class Enrollment(db.Model):
    __tablename__ = "enrollment"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Accommodations: extra minutes, a multiplier of the time limit, an own window.
    extra_minutes: Mapped[int] = mapped_column(default=0)
    time_multiplier: Mapped[float] = mapped_column(default=1.0, server_default="1")
    opens_at_override: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at_override: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts_allowed: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    session: Mapped[ExamSession] = relationship(lazy="joined")
    candidate: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("session_id", "candidate_id"),)

    @property
    def opens_at(self) -> datetime:
        return self.opens_at_override or self.session.opens_at

    @property
    def closes_at(self) -> datetime:
        return self.closes_at_override or self.session.closes_at


class AttemptState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    EXPIRED = "expired"
    # Closed, objective items scored, some items still waiting for a human marker.
    MARKING = "marking"
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
    # Integrity: the login session that holds the attempt (one device at a time), and
    # where the last request came from.
    device_session_id: Mapped[str | None] = mapped_column(String(64))
    last_ip: Mapped[str | None] = mapped_column(String(64))
    last_user_agent: Mapped[str | None] = mapped_column(String(300))
    # Sequential navigation: the furthest item reached.
    current_position: Mapped[int] = mapped_column(default=1, server_default="1")
    invalidated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalidation_reason: Mapped[str | None] = mapped_column(String(500))
    results_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # PostgreSQL: what an autosave needs to know of every item, written once at the start
    # (see delivery._FORM_FACTS); deferred, as only that read wants it.
    form_facts: Mapped[list | None] = mapped_column(JSON(none_as_null=True), deferred=True)

    enrollment: Mapped[Enrollment] = relationship()
    session: Mapped[ExamSession] = relationship(lazy="joined")
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
    flagged: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Human marking of this item: None (scored by its type), pending, reconcile, done.
    marking: Mapped[str | None] = mapped_column(String(16), index=True)
    # The version whose key scores this item, once a regrade has corrected the key.
    key_version_id: Mapped[int | None] = mapped_column(ForeignKey("question_version.id"))

    attempt: Mapped[Attempt] = relationship(back_populates="items")
    version: Mapped[QuestionVersion] = relationship(lazy="joined",
                                                    foreign_keys=[question_version_id])
    key_version: Mapped[QuestionVersion | None] = relationship(foreign_keys=[key_version_id])

    @property
    def scoring_version(self) -> QuestionVersion:
        return self.key_version or self.version

    # Free room on each page for the row's new versions: see migration 0006_hot_updates.
    __table_args__ = (UniqueConstraint("attempt_id", "position"),
                      {"postgresql_with": {"fillfactor": 70}})


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


class AttemptEvent(db.Model):
    """Append-only integrity log of one attempt: devices, focus loss, address changes."""

    __tablename__ = "attempt_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    login_session_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict | None] = mapped_column(JSON)


class MarkRole(enum.StrEnum):
    FIRST = "first"
    SECOND = "second"
    THIRD = "third"  # reconciles two marks further apart than the tolerance
    APPEAL = "appeal"  # a re-mark by the examiner who reviews an appeal


class Mark(db.Model):
    """One marker's judgement of one item against its rubric. Never rewritten."""

    __tablename__ = "mark"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_item_id: Mapped[int] = mapped_column(ForeignKey("attempt_item.id"), index=True)
    marker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    scores: Mapped[dict] = mapped_column(JSON)  # {criterion id: points}
    total: Mapped[float]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    marker: Mapped[User] = relationship()


class AppealState(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class Appeal(db.Model):
    __tablename__ = "appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempt.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default=AppealState.OPEN.value)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(Text)
    score_before: Mapped[float | None]
    score_after: Mapped[float | None]

    attempt: Mapped[Attempt] = relationship()


class Regrade(db.Model):
    """A key correction applied to every closed attempt of one question version."""

    __tablename__ = "regrade"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_version_id: Mapped[int] = mapped_column(ForeignKey("question_version.id"))
    key_version_id: Mapped[int] = mapped_column(ForeignKey("question_version.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[dict] = mapped_column(JSON)


class RegradeChange(db.Model):
    """What one regrade did to one item: the old and new points (history, not a cache)."""

    __tablename__ = "regrade_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    regrade_id: Mapped[int] = mapped_column(ForeignKey("regrade.id"), index=True)
    attempt_item_id: Mapped[int] = mapped_column(ForeignKey("attempt_item.id"), index=True)
    old_awarded: Mapped[float | None]
    new_awarded: Mapped[float | None]


class Notification(db.Model):
    """An in-app message to one user (results released, attempt invalidated, appeal)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict | None] = mapped_column(JSON)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
