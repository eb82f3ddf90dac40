"""Curating questions in the browser: new versions, the review workflow, bulk actions.

Every function takes the session, ``now`` and the acting user, writes an audit event for
each change, and leaves committing to the caller. Versions are appended, never changed.
"""

from dataclasses import dataclass

from sqlalchemy import select

from examsys.bank.importer import search_text
from examsys.bank.models import (
    Question,
    QuestionComment,
    QuestionLevel,
    QuestionVersion,
    ReviewAction,
    Status,
    Topic,
    content_of,
)
from examsys.bank.validation import QuestionRecord
from examsys.core import audit
from examsys.core.errors import Conflict, Forbidden, Invalid
from examsys.core.i18n import _
from examsys.core.labels import status_name

# action → (statuses it may start from, status it leads to)
TRANSITIONS = {
    ReviewAction.SUBMIT: ({Status.DRAFT}, Status.REVIEW),
    ReviewAction.APPROVE: ({Status.REVIEW}, Status.ACTIVE),
    ReviewAction.REJECT: ({Status.REVIEW}, Status.DRAFT),
    ReviewAction.RETIRE: ({Status.DRAFT, Status.REVIEW, Status.ACTIVE}, Status.RETIRED),
    ReviewAction.REOPEN: ({Status.RETIRED}, Status.DRAFT),
}
BULK_ACTIONS = ("submit", "retire", "move")


def _versions(session, question: Question) -> list[QuestionVersion]:
    return list(session.scalars(select(QuestionVersion).where(
        QuestionVersion.question_id == question.id).order_by(QuestionVersion.number)))


def _topic(session, path: str) -> Topic:
    topic = session.scalar(select(Topic).where(Topic.path == path))
    if topic is None:
        raise Invalid(_("unknown topic %(topic)s", topic=repr(path)), code="unknown_topic")
    return topic


def _set_identity(session, question: Question, rec: QuestionRecord) -> None:
    question.topic_id = _topic(session, rec.topic).id
    question.type, question.difficulty = rec.type, rec.difficulty
    question.search_text = search_text(rec.payload, rec.type)
    wanted = set(rec.levels)
    question.levels = [lv for lv in question.levels if lv.level in wanted] + [
        QuestionLevel(level=lv) for lv in sorted(wanted - set(question.level_codes))]


def _note(session, now, actor_id, question, number, action, body="") -> None:
    session.add(QuestionComment(question_id=question.id, version_number=number,
                                author_id=actor_id, action=action, body=body,
                                created_at=now))


def create_question(session, now, actor_id: int, rec: QuestionRecord) -> Question:
    """A new question in draft with version 1 (``rec`` validated by bank.validation)."""
    if session.scalar(select(Question.id).where(Question.external_key == rec.key)):
        raise Conflict(_("A question with the ID %(key)s exists already.", key=rec.key),
                       code="duplicate_key")
    question = Question(external_key=rec.key, status=Status.DRAFT)
    _set_identity(session, question, rec)
    session.add(question)
    session.flush()
    version = QuestionVersion(question_id=question.id, number=1, author_id=actor_id,
                              created_at=now, **content_of(rec))
    session.add(version)
    session.flush()
    question.current_version_id = version.id
    audit.record(session, now, actor_id, "question.create", question, {"version": 1})
    return question


def edit_question(session, now, actor_id: int, question: Question,
                  rec: QuestionRecord) -> QuestionVersion | None:
    """Append a version when the content changed (None when nothing did).

    Attempts keep the version they were drawn with. A changed question in review or active
    goes back to draft: the new content has not been reviewed by a second person yet.
    """
    current = question.current_version
    changed = current is None or content_of(current) != content_of(rec)
    identity_before = (question.topic_id, sorted(question.level_codes))
    _set_identity(session, question, rec)
    session.flush()
    if not changed:
        if identity_before != (question.topic_id, sorted(question.level_codes)):
            audit.record(session, now, actor_id, "question.classify", question,
                         {"topic": rec.topic, "levels": rec.levels})
        return None
    number = (current.number if current else 0) + 1
    version = QuestionVersion(question_id=question.id, number=number, author_id=actor_id,
                              created_at=now, **content_of(rec))
    session.add(version)
    session.flush()
    question.current_version_id = version.id
    before = question.status
    if question.status in (Status.REVIEW, Status.ACTIVE):
        question.status = Status.DRAFT
    _note(session, now, actor_id, question, number, ReviewAction.EDIT)
    audit.record(session, now, actor_id, "question.version", question,
                 {"version": number, "status_before": before, "status": question.status})
    return version


def transition(session, now, actor_id: int, question: Question, action: str,
               comment: str = "") -> None:
    """Move a question through draft → review → active → retired.

    Approving and rejecting need a reviewer other than the author of the version under
    review (four eyes); rejecting needs a reason.
    """
    try:
        action = ReviewAction(action)
        sources, target = TRANSITIONS[action]
    except (ValueError, KeyError):
        raise Invalid(_("Unknown action."), code="invalid_action") from None
    if question.status not in sources:
        raise Conflict(_("This action is not possible for a question that is %(status)s.",
                         status=status_name(question.status)),
                       code="invalid_transition")
    version = question.current_version
    if action in (ReviewAction.APPROVE, ReviewAction.REJECT) and version.author_id == actor_id:
        raise Forbidden(_("Another examiner must review this version: you wrote it."),
                        code="four_eyes")
    comment = (comment or "").strip()
    if action == ReviewAction.REJECT and not comment:
        raise Invalid(_("Say what needs to change when sending a question back."),
                      code="comment_required")
    before = question.status
    question.status = target
    _note(session, now, actor_id, question, version.number, action, comment)
    audit.record(session, now, actor_id, f"question.{action.value}", question,
                 {"from": before, "to": target, "version": version.number})


def add_comment(session, now, actor_id: int, question: Question, body: str) -> None:
    body = (body or "").strip()
    if not body:
        raise Invalid(_("Write a comment first."), code="comment_required")
    _note(session, now, actor_id, question, question.current_version.number,
          ReviewAction.COMMENT, body)
    audit.record(session, now, actor_id, "question.comment", question, None)


@dataclass
class BulkResult:
    changed: int = 0
    skipped: int = 0


def bulk(session, now, actor_id: int, ids: list[int], action: str,
         topic_path: str | None = None) -> BulkResult:
    """Submit for review, retire, or move to a topic, every question in ``ids`` that can
    be; the others are counted as skipped (e.g. retiring an already retired one)."""
    if action not in BULK_ACTIONS:
        raise Invalid(_("Unknown action."), code="invalid_action")
    topic = _topic(session, topic_path or "") if action == "move" else None
    result = BulkResult()
    questions = session.scalars(select(Question).where(Question.id.in_(ids))).all()
    for question in questions:
        if action == "move":
            if question.topic_id == topic.id:
                result.skipped += 1
                continue
            question.topic_id = topic.id
            audit.record(session, now, actor_id, "question.move", question,
                         {"topic": topic.path})
            result.changed += 1
            continue
        review = ReviewAction.SUBMIT if action == "submit" else ReviewAction.RETIRE
        if question.status not in TRANSITIONS[review][0]:
            result.skipped += 1
            continue
        transition(session, now, actor_id, question, review)
        result.changed += 1
    result.skipped += len(set(ids)) - len(questions)
    return result


def thread(session, question: Question) -> list[QuestionComment]:
    return list(session.scalars(select(QuestionComment).where(
        QuestionComment.question_id == question.id).order_by(QuestionComment.id)))


def versions(session, question: Question) -> list[QuestionVersion]:
    return _versions(session, question)
