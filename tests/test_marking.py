"""Human marking: the blind queue, rubric marks, double marking with a tolerance and a
third marker, the final result and its certificate, appeals, and the audit trail."""

import pytest
from sqlalchemy import func, select

from examsys.accounts.models import Role
from examsys.certs.models import Certificate
from examsys.core.audit import AuditEvent
from examsys.core.clock import utcnow
from examsys.core.errors import Conflict, Forbidden, Invalid
from examsys.exams import appeals, marking
from examsys.exams.models import Attempt, AttemptState, Mark, Notification
from examsys.extensions import db

from .conftest import add_user
from .exam_support import enroll, essay_item, import_essay_bank, make_session, sit


@pytest.fixture
def markers(app):
    return [add_user(Role.EXAMINER, f"marker{n}@example.com", f"Marker {n}") for n in (1, 2, 3)]


def essay_attempt(examiner, candidate, **options) -> Attempt:
    import_essay_bank(**options)
    es = make_session(examiner, "ESSAY-CERT")
    enroll(es, candidate)
    return sit(es, candidate)


def give(item, marker, cause, control, comment=None):
    mark = marking.record_mark(db.session, utcnow(), item.id, marker.id,
                               {"cause": cause, "control": control}, comment)
    db.session.commit()
    db.session.expire_all()
    return mark


def certificates() -> int:
    return db.session.scalar(select(func.count(Certificate.id)))


def test_an_attempt_with_an_essay_waits_for_marking_without_a_result(app, bank, examiner,
                                                                     candidate):
    attempt = essay_attempt(examiner, candidate)
    assert attempt.state == AttemptState.MARKING
    assert attempt.score is None and attempt.passed is None
    item = essay_item(attempt)
    assert item.marking == "pending" and item.awarded is None
    assert certificates() == 0


def test_the_queue_is_blind_and_marking_makes_the_result_final(app, bank, examiner, candidate,
                                                               markers, client):
    attempt = essay_attempt(examiner, candidate)
    queue = marking.queue(db.session, markers[0].id)
    assert [i.id for i in queue] == [essay_item(attempt).id]
    give(queue[0], markers[0], 4, 5, "clear on causes")
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.state == AttemptState.GRADED
    # 2 objective points + 9/10 of the essay's 10 points
    assert attempt.score == pytest.approx(11.0) and attempt.passed
    assert certificates() == 1
    assert marking.queue(db.session, markers[1].id) == []
    notes = db.session.scalars(select(Notification.kind).where(
        Notification.user_id == candidate.id)).all()
    assert "results_released" in notes
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "mark.record" in actions and "attempt.graded" in actions


def test_the_marking_page_shows_no_candidate_identity(app, bank, examiner, candidate, markers):
    essay_attempt(examiner, candidate)
    from .conftest import login_page

    client = app.test_client()
    login_page(client, markers[0].email)
    html = client.get("/staff/marking").get_data(as_text=True)
    assert "Explain thermal runaway" in html or "解释热失控" in html
    assert candidate.name not in html and candidate.email not in html
    item_id = marking.queue(db.session, markers[0].id)[0].id
    html = client.get(f"/staff/marking/{item_id}").get_data(as_text=True)
    assert "Separator shutdown" in html
    assert candidate.name not in html and candidate.email not in html


def test_scores_outside_the_rubric_are_refused_with_every_problem(app, bank, examiner,
                                                                  candidate, markers):
    attempt = essay_attempt(examiner, candidate)
    item = essay_item(attempt)
    with pytest.raises(Invalid) as err:
        marking.record_mark(db.session, attempt.finished_at, item.id, markers[0].id,
                            {"cause": 5, "control": "lots", "style": 1})
    db.session.rollback()
    assert len(err.value.details) == 3
    assert db.session.scalar(select(func.count(Mark.id))) == 0


def test_double_marking_within_tolerance_takes_the_mean(app, bank, examiner, candidate, markers):
    attempt = essay_attempt(examiner, candidate, double_marking=True, tolerance=1.0)
    item = essay_item(attempt)
    give(item, markers[0], 4, 4)
    assert db.session.get(Attempt, attempt.id).state == AttemptState.MARKING
    # The first marker cannot give the second mark.
    assert marking.queue(db.session, markers[0].id) == []
    with pytest.raises(Conflict) as err:
        give(item, markers[0], 4, 4)
    db.session.rollback()
    assert err.value.code == "already_marked"
    give(marking.queue(db.session, markers[1].id)[0], markers[1], 4, 5)
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.state == AttemptState.GRADED
    assert essay_item(attempt).awarded == pytest.approx(8.5)


def test_marks_beyond_the_tolerance_go_to_a_third_marker_who_decides(app, bank, examiner,
                                                                     candidate, markers):
    attempt = essay_attempt(examiner, candidate, double_marking=True, tolerance=1.0)
    item = essay_item(attempt)
    give(item, markers[0], 1, 1)
    give(item, markers[1], 4, 6)
    item = essay_item(attempt)
    assert item.marking == "reconcile"
    assert db.session.get(Attempt, attempt.id).state == AttemptState.MARKING
    assert marking.queue(db.session, markers[0].id) == []
    assert [i.id for i in marking.queue(db.session, markers[2].id)] == [item.id]
    give(item, markers[2], 3, 3)
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.state == AttemptState.GRADED and essay_item(attempt).awarded == 6.0
    roles = db.session.scalars(select(Mark.role).order_by(Mark.id)).all()
    assert roles == ["first", "second", "third"]


def test_a_blank_essay_needs_no_marker_and_scores_zero(app, bank, examiner, candidate):
    import_essay_bank()
    es = make_session(examiner, "ESSAY-CERT")
    enroll(es, candidate)
    from .exam_support import correct_response

    attempt = sit(es, candidate, lambda i: None if i.version.type == "essay"
                  else correct_response(i))
    assert attempt.state == AttemptState.GRADED and attempt.score == 2.0


def test_appeal_is_reviewed_by_another_examiner_who_may_remark(app, bank, examiner, candidate,
                                                               markers):
    attempt = essay_attempt(examiner, candidate)
    item = essay_item(attempt)
    give(item, markers[0], 1, 1)
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.passed is False and certificates() == 0
    with pytest.raises(Invalid):
        appeals.file_appeal(db.session, attempt.finished_at, attempt.id, candidate.id, "  ")
    db.session.rollback()
    appeal = appeals.file_appeal(db.session, attempt.finished_at, attempt.id, candidate.id,
                                 "My answer covered venting controls.")
    db.session.commit()
    with pytest.raises(Conflict):
        appeals.file_appeal(db.session, attempt.finished_at, attempt.id, candidate.id, "again")
    db.session.rollback()
    with pytest.raises(Forbidden) as err:
        appeals.decide(db.session, attempt.finished_at, appeal.id, markers[0].id, upheld=True,
                       decision="x", remarks={})
    db.session.rollback()
    assert err.value.code == "same_examiner"
    appeal, review = appeals.decide(
        db.session, attempt.finished_at, appeal.id, markers[1].id, upheld=True,
        decision="Controls were covered.",
        remarks={item.id: {"scores": {"cause": 3, "control": 5}, "comment": "re-marked"}})
    db.session.commit()
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert appeal.state == "upheld" and not review
    assert appeal.score_before == pytest.approx(4.0) and appeal.score_after == pytest.approx(10.0)
    assert attempt.passed and certificates() == 1
    # The first mark is still there: marks are appended, never rewritten.
    assert db.session.scalars(select(Mark.total).order_by(Mark.id)).all() == [2.0, 8.0]
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert {"appeal.file", "appeal.decide"} <= set(actions)


def test_an_appeal_that_lowers_a_pass_lists_the_certificate_for_review(app, bank, examiner,
                                                                       candidate, markers):
    attempt = essay_attempt(examiner, candidate)
    item = essay_item(attempt)
    give(item, markers[0], 4, 6)
    appeal = appeals.file_appeal(db.session, attempt.finished_at, attempt.id, candidate.id,
                                 "Please check.")
    db.session.commit()
    _appeal, review = appeals.decide(
        db.session, attempt.finished_at, appeal.id, markers[1].id, upheld=True,
        decision="Over-marked.", remarks={item.id: {"scores": {"cause": 1, "control": 1}}})
    db.session.commit()
    assert review
    cert = db.session.scalar(select(Certificate))
    assert cert.state == "active"  # not revoked silently: an examiner decides
    assert "certificate.review_needed" in db.session.scalars(select(AuditEvent.action)).all()


def test_a_candidate_cannot_appeal_before_release(app, bank, examiner, candidate, markers):
    import_essay_bank()
    es = make_session(examiner, "ESSAY-CERT", release="manual")
    enroll(es, candidate)
    attempt = sit(es, candidate)
    give(essay_item(attempt), markers[0], 4, 6)
    with pytest.raises(Conflict) as err:
        appeals.file_appeal(db.session, attempt.finished_at, attempt.id, candidate.id, "why")
    assert err.value.code == "not_released"


def test_an_appeal_cannot_revive_an_invalidated_attempt(app, bank, examiner, candidate,
                                                        markers):
    from examsys.exams import integrity
    from examsys.exams.delivery import lock_attempt

    attempt = essay_attempt(examiner, candidate)
    item = essay_item(attempt)
    give(item, markers[0], 1, 1)
    appeal = appeals.file_appeal(db.session, attempt.finished_at, attempt.id, candidate.id,
                                 "Please check.")
    db.session.commit()
    integrity.invalidate(db.session, attempt.finished_at,
                         lock_attempt(db.session, attempt.id), examiner.id, "impersonation")
    db.session.commit()
    with pytest.raises(Conflict) as err:
        appeals.decide(db.session, attempt.finished_at, appeal.id, markers[1].id, upheld=True,
                       decision="x", remarks={item.id: {"scores": {"cause": 3, "control": 5}}})
    db.session.rollback()
    assert err.value.code == "attempt_invalidated"
    assert db.session.get(Attempt, attempt.id).state == AttemptState.INVALIDATED
