"""The question bank: topics, questions and their immutable versions."""

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from examsys.core.types import UTCDateTime
from examsys.extensions import db


class Status(enum.StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    ACTIVE = "active"
    RETIRED = "retired"


LEVELS = ("assistant_engineer", "engineer", "senior_engineer",
          "skill_5", "skill_4", "skill_3", "skill_2", "skill_1")


class Topic(db.Model):
    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(200), unique=True)  # e.g. materials/cathode
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))
    name_en: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))

    def name(self, lang: str) -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en


class Question(db.Model):
    """A question's stable identity; its content lives in versions."""

    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_key: Mapped[str] = mapped_column(String(64), unique=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_version.id", use_alter=True, name="fk_question_current_version"))
    # Denormalised from the current version for filtering and drawing without a join.
    type: Mapped[str] = mapped_column(String(32), index=True)
    difficulty: Mapped[int] = mapped_column(index=True)
    search_text: Mapped[str] = mapped_column(db.Text, default="")

    topic: Mapped[Topic] = relationship(lazy="joined")
    current_version: Mapped["QuestionVersion"] = relationship(
        foreign_keys=[current_version_id], post_update=True)
    levels: Mapped[list["QuestionLevel"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")

    @property
    def level_codes(self) -> list[str]:
        return sorted((lv.level for lv in self.levels), key=LEVELS.index)


class QuestionLevel(db.Model):
    __tablename__ = "question_level"

    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(32), primary_key=True)

    __table_args__ = (Index("ix_question_level_level", "level", "question_id"),)


class BankGeneration(db.Model):
    """A number that changes whenever the drawable bank may have changed: every insert,
    update or delete of a question, its levels or a topic moves it on, by database
    triggers in the same transaction (migration 0007), so no code path can forget it.

    Exam starts cache the pools they draw from under it (``exams.assembly``): one row
    read instead of the whole bank's eligible questions per start.
    """

    __tablename__ = "bank_generation"

    id: Mapped[int] = mapped_column(primary_key=True)  # the one row: 1
    number: Mapped[int] = mapped_column(db.BigInteger, default=0)
    # PostgreSQL: the transaction that moved it last, so that one import of thousands of
    # rows moves it once (the trigger updates the row only if another transaction did).
    last_xact: Mapped[int | None] = mapped_column(db.BigInteger)


# What a version says: two versions (or a version and an authored record) with these
# equal are the same content, and an edit or import that changes none of them adds none.
CONTENT_FIELDS = ("type", "difficulty", "payload", "reference", "tags")


def content_of(source) -> dict:
    """The content of a QuestionVersion or of a QuestionRecord (bank.validation)."""
    return {field: getattr(source, field) for field in CONTENT_FIELDS}


class QuestionVersion(db.Model):
    """Immutable content of one version of a question. Never updated once written."""

    __tablename__ = "question_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    number: Mapped[int]
    type: Mapped[str] = mapped_column(String(32))
    difficulty: Mapped[int]
    # stem, options, key and everything type-specific, already validated (see bank.types)
    payload: Mapped[dict] = mapped_column(JSON)
    reference: Mapped[str | None] = mapped_column(String(300))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("question_id", "number"),)


class ReviewAction(enum.StrEnum):
    """What a workflow entry records: a plain comment or a status change."""

    COMMENT = "comment"
    SUBMIT = "submit"  # draft → review
    APPROVE = "approve"  # review → active (a reviewer other than the version's author)
    REJECT = "reject"  # review → draft, with the reason
    RETIRE = "retire"  # active → retired
    REOPEN = "reopen"  # retired → draft
    EDIT = "edit"  # a new version (back to draft when it was in review or active)


class QuestionComment(db.Model):
    """The review thread of a question: comments and status changes, appended only."""

    __tablename__ = "question_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    version_number: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(db.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    author = relationship("User", lazy="joined")
