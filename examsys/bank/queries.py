"""Reading the bank: filtered, paginated lists in a fixed number of queries."""

import json

from sqlalchemy import Text, cast, func, select

from examsys.bank.models import Question, QuestionLevel, QuestionVersion, Topic

PAGE_SIZE = 50


def list_questions(session, *, topic: str | None = None, level: str | None = None,
                   status: str | None = None, qtype: str | None = None, text: str | None = None,
                   page: int = 1, difficulty: int | None = None, tag: str | None = None):
    """A page of questions matching the filters, with the total count."""
    query = select(Question).join(Topic, Question.topic_id == Topic.id)
    if topic:
        query = query.where((Topic.path == topic) | Topic.path.startswith(topic + "/"))
    if level:
        query = query.where(Question.id.in_(
            select(QuestionLevel.question_id).where(QuestionLevel.level == level)))
    if status:
        query = query.where(Question.status == status)
    if qtype:
        query = query.where(Question.type == qtype)
    if difficulty:
        query = query.where(Question.difficulty == difficulty)
    if tag:
        # Tags live on the version (JSON); matched on the current version's JSON text.
        # The tag as JSON text: ASCII-escaped as json.dumps wrote it (SQLite keeps that),
        # or as it reads (PostgreSQL may hand back the characters themselves).
        tags_text = func.lower(cast(QuestionVersion.tags, Text))
        needle = tag.strip().lower()
        query = query.where(Question.current_version_id.in_(
            select(QuestionVersion.id).where(
                tags_text.contains(json.dumps(needle), autoescape=True)
                | tags_text.contains(json.dumps(needle, ensure_ascii=False), autoescape=True))))
    if text:
        needle = text.strip().lower()
        query = query.where(Question.search_text.contains(needle, autoescape=True)
                            | Question.external_key.contains(text.strip().upper(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Question.external_key)
                           .limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)).all()
    versions = {v.id: v for v in session.scalars(select(QuestionVersion).where(
        QuestionVersion.id.in_([q.current_version_id for q in rows])))} if rows else {}
    return [(q, versions.get(q.current_version_id)) for q in rows], total


def topics(session) -> list[Topic]:
    return list(session.scalars(select(Topic).order_by(Topic.path)))
