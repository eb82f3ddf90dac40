"""Integrity and accommodations: one device, the integrity log, invalidation, extra time that
moves a running deadline, retake policy, exam-centre networks, staggered start, exports."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select

from examsys.accounts.models import Role
from examsys.core.audit import AuditEvent
from examsys.core.clock import utcnow
from examsys.core.errors import Conflict, Forbidden
from examsys.exams import delivery, integrity, results
from examsys.exams.models import Attempt, AttemptEvent, AttemptState, Enrollment, Notification
from examsys.extensions import db

from .conftest import Api, add_user
from .exam_support import enroll, make_session, sit, start_through_api


@pytest.fixture
def clock():
    with time_machine.travel(datetime.now(UTC).replace(microsecond=0), tick=False) as traveller:
        yield traveller


def start(es, user, **client):
    attempt, _ = delivery.start_or_resume(db.session, utcnow(), es.id, user.id, **client)
    db.session.commit()
    return attempt


def test_a_second_device_takes_over_and_the_first_gets_superseded_device(app, enrolled,
                                                                          candidate):
    attempt = start(enrolled, candidate, login_session_id="first", ip="10.0.0.1",
                    user_agent="A")
    delivery.save_response(db.session, utcnow(), attempt.id, candidate.id, 1, None, 1, "first")
    db.session.commit()
    start(enrolled, candidate, login_session_id="second", ip="10.0.0.2", user_agent="B")
    with pytest.raises(Conflict) as err:
        delivery.save_response(db.session, utcnow(), attempt.id, candidate.id, 1, None, 2,
                               "first")
    db.session.rollback()
    assert err.value.code == "superseded_device"
    delivery.save_response(db.session, utcnow(), attempt.id, candidate.id, 1, None, 2, "second")
    db.session.commit()
    kinds = db.session.scalars(select(AttemptEvent.kind).order_by(AttemptEvent.id)).all()
    assert kinds == ["ip_change", "user_agent_change", "device_takeover"]


def test_superseded_device_answers_409_in_the_api(app, enrolled, candidate):
    first, second = Api(app.test_client()), Api(app.test_client())
    first.login(candidate.email)
    second.login(candidate.email)
    attempt_id = first.post(f"/api/v1/exam-sessions/{enrolled.id}/attempts", json={}) \
        .get_json()["attempt_id"]
    second.post(f"/api/v1/exam-sessions/{enrolled.id}/attempts", json={})
    response = first.put(f"/api/v1/attempts/{attempt_id}/items/1",
                         json={"response": None, "seq": 1})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "superseded_device"
    assert first.get(f"/api/v1/attempts/{attempt_id}/clock").get_json()["superseded"] is True


def test_focus_loss_is_logged_and_unknown_events_refused(app, enrolled, candidate):
    api, attempt_id = start_through_api(app, enrolled, candidate)
    assert api.post(f"/api/v1/attempts/{attempt_id}/events",
                    json={"kind": "focus_lost"}).status_code == 200
    bad = api.post(f"/api/v1/attempts/{attempt_id}/events", json={"kind": "<script>"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_event"
    assert db.session.scalars(select(AttemptEvent.kind)).all() == ["focus_lost"]


def test_invalidation_needs_a_reason_tells_the_candidate_and_is_audited(app, enrolled,
                                                                        candidate, examiner):
    attempt = sit(enrolled, candidate)
    api = Api(app.test_client())
    api.login(examiner.email)
    assert api.post(f"/api/v1/attempts/{attempt.id}/invalidate",
                    json={"reason": " "}).status_code == 422
    response = api.post(f"/api/v1/attempts/{attempt.id}/invalidate",
                        json={"reason": "Phone used during the exam"})
    assert response.status_code == 200 and response.get_json()["state"] == "invalidated"
    note = db.session.scalar(select(Notification).where(
        Notification.kind == "attempt_invalidated"))
    assert note.user_id == candidate.id and note.data["reason"] == "Phone used during the exam"
    assert "attempt.invalidate" in db.session.scalars(select(AuditEvent.action)).all()


def test_an_invalidated_pass_is_revoked_without_telling_the_public_why(app, enrolled,
                                                                       candidate, examiner,
                                                                       client):
    from examsys.certs.models import Certificate, CertificateEvent

    from .exam_support import correct_response
    from .test_certificates import verify_page_by_serial

    attempt = sit(enrolled, candidate, correct_response)
    cert = db.session.scalar(select(Certificate).where(Certificate.attempt_id == attempt.id))
    reason = "Proctor saw a phone; internal case 2024-17"
    api = Api(app.test_client())
    api.login(examiner.email)
    assert api.post(f"/api/v1/attempts/{attempt.id}/invalidate",
                    json={"reason": reason}).status_code == 200

    body = client.get("/api/v1/certificates/verify",
                      query_string={"serial": cert.serial, "name": candidate.name}).get_json()
    assert body["status"] == "revoked"
    assert body["certificate"]["revocation_reason"] is None
    (status, _why), html = verify_page_by_serial(client, cert.serial, candidate.name)
    assert status == "revoked" and "Proctor" not in html
    history = db.session.scalars(select(CertificateEvent.reason).where(
        CertificateEvent.certificate_id == cert.id, CertificateEvent.kind == "revoked")).all()
    assert history == [reason]  # the examiners keep it


def test_extra_time_does_not_reopen_an_attempt_whose_time_ran_out(app, enrolled, candidate,
                                                                  examiner, clock):
    attempt = start(enrolled, candidate)
    clock.move_to(attempt.deadline + timedelta(seconds=enrolled.grace_seconds + 60))
    enrollment = db.session.scalar(select(Enrollment))
    integrity.set_accommodation(db.session, utcnow(), enrollment.id, examiner.id,
                                extra_minutes=60)
    db.session.commit()
    db.session.expire_all()
    closed = db.session.get(Attempt, attempt.id)
    assert closed.state != AttemptState.IN_PROGRESS and closed.finished_at == attempt.deadline
    with pytest.raises(Conflict):
        delivery.save_response(db.session, utcnow(), attempt.id, candidate.id, 1, None, 1)


def test_a_candidate_with_an_own_window_still_sees_the_session_after_its_close(
        app, enrolled, candidate, examiner, clock):
    enrollment = db.session.scalar(select(Enrollment))
    own_close = enrolled.closes_at + timedelta(hours=2)
    integrity.set_accommodation(db.session, utcnow(), enrollment.id, examiner.id,
                                opens_at=enrolled.opens_at, closes_at=own_close)
    db.session.commit()
    api = Api(app.test_client())
    assert api.login(candidate.email).status_code == 200

    clock.move_to(enrolled.closes_at + timedelta(minutes=30))
    listed = api.get("/api/v1/exam-sessions").get_json()["sessions"]
    assert [s["id"] for s in listed] == [enrolled.id]
    clock.move_to(own_close)
    assert api.get("/api/v1/exam-sessions").get_json()["sessions"] == []


def test_less_time_never_puts_the_deadline_before_now(app, enrolled, candidate, examiner,
                                                      clock):
    enrollment = db.session.scalar(select(Enrollment))
    integrity.set_accommodation(db.session, utcnow(), enrollment.id, examiner.id,
                                extra_minutes=30)
    db.session.commit()
    attempt = start(enrolled, candidate)
    clock.move_to(attempt.started_at + timedelta(minutes=40))  # 30 + 30 minutes allowed
    integrity.set_accommodation(db.session, utcnow(), enrollment.id, examiner.id,
                                extra_minutes=0)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).deadline == utcnow()


def test_an_attempt_in_its_grace_keeps_its_deadline_unless_given_more_time(
        app, enrolled, candidate, examiner, clock):
    enrolled.grace_seconds = 120
    db.session.commit()
    attempt = start(enrolled, candidate)
    deadline = attempt.deadline
    enrollment = db.session.scalar(select(Enrollment))
    clock.move_to(deadline + timedelta(seconds=100))  # in the grace: the close is 20 s away
    integrity.set_accommodation(db.session, utcnow(), enrollment.id, examiner.id,
                                opens_at=enrolled.opens_at, closes_at=enrolled.closes_at)
    db.session.commit()
    db.session.expire_all()
    # Not moved to now, which would have given the candidate another two minutes.
    assert db.session.get(Attempt, attempt.id).deadline == deadline
    clock.move_to(deadline + timedelta(seconds=121))
    with pytest.raises(Conflict):
        delivery.save_response(db.session, utcnow(), attempt.id, candidate.id, 1, None, 1)
    db.session.rollback()
    assert "deadline_moved" not in db.session.scalars(select(AttemptEvent.kind)).all()

    other = add_user(Role.CANDIDATE, "late@example.com")
    enroll(enrolled, other)
    db.session.commit()
    attempt = start(enrolled, other)
    deadline = attempt.deadline
    clock.move_to(deadline + timedelta(seconds=100))
    later = db.session.scalar(select(Enrollment).where(Enrollment.candidate_id == other.id))
    integrity.set_accommodation(db.session, utcnow(), later.id, examiner.id, extra_minutes=5)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).deadline == deadline + timedelta(minutes=5)


def test_extra_time_during_a_running_attempt_moves_its_deadline_at_once(app, enrolled,
                                                                        candidate, examiner,
                                                                        clock):
    attempt = start(enrolled, candidate)
    old = attempt.deadline
    enrollment = db.session.scalar(select(Enrollment))
    integrity.set_accommodation(db.session, utcnow(), enrollment.id, examiner.id,
                                extra_minutes=10, time_multiplier=1.5)
    db.session.commit()
    db.session.expire_all()
    # 30 minutes × 1.5 + 10 = 55 minutes from the start.
    assert db.session.get(Attempt, attempt.id).deadline == old + timedelta(minutes=25)
    clock.move_to(old + timedelta(minutes=5))
    delivery.save_response(db.session, utcnow(), attempt.id, candidate.id, 1, None, 1)
    db.session.commit()
    assert "enrollment.accommodation" in db.session.scalars(select(AuditEvent.action)).all()


def test_accommodation_input_is_checked_with_every_problem(app, enrolled, candidate, examiner):
    api = Api(app.test_client())
    api.login(examiner.email)
    enrollment = db.session.scalar(select(Enrollment))
    response = api.put(f"/api/v1/enrollments/{enrollment.id}/accommodation",
                       json={"extra_minutes": -5, "time_multiplier": 9})
    assert response.status_code == 422
    assert len(response.get_json()["error"]["details"]) == 2


def test_an_own_window_lets_a_candidate_start_outside_the_sessions(app, enrolled, candidate,
                                                                   examiner, clock):
    enrollment = db.session.scalar(select(Enrollment))
    later = enrolled.closes_at + timedelta(days=1)
    integrity.set_accommodation(db.session, utcnow(), enrollment.id, examiner.id,
                                opens_at=later, closes_at=later + timedelta(hours=2))
    db.session.commit()
    with pytest.raises(Conflict):
        start(enrolled, candidate)
    db.session.rollback()
    clock.move_to(later + timedelta(minutes=1))
    assert start(enrolled, candidate).state == AttemptState.IN_PROGRESS


def test_retake_policy_counts_attempts_and_cool_down(app, enrolled, candidate, examiner, clock):
    cert = enrolled.certification
    cert.max_attempts, cert.retake_cooldown_hours = 2, 24
    enrollment = db.session.scalar(select(Enrollment))
    enrollment.attempts_allowed = 5
    db.session.commit()
    first = sit(enrolled, candidate)
    with pytest.raises(Conflict) as err:
        start(enrolled, candidate)
    db.session.rollback()
    assert err.value.code == "cooldown"
    later = make_session(examiner, opens_in=timedelta(hours=24), closes_in=timedelta(hours=30))
    enroll(later, candidate)
    clock.move_to(first.finished_at + timedelta(hours=25))
    second = start(later, candidate)
    seen = {i.version.question_id for i in first.items}
    # The mini bank's safety section has few items: only where the pool allows.
    fresh = {i.version.question_id for i in second.items} - seen
    assert fresh
    delivery.submit(db.session, utcnow(), second.id, candidate.id)
    db.session.commit()
    third = make_session(examiner, opens_in=timedelta(hours=-1), closes_in=timedelta(hours=80))
    enroll(third, candidate)
    clock.move_to(utcnow() + timedelta(hours=30))
    with pytest.raises(Conflict) as err:
        start(third, candidate)
    assert err.value.code == "no_attempts_left"


def test_exam_centre_networks_are_enforced(app, bank, examiner, candidate):
    es = make_session(examiner)
    es.allowed_networks = ["10.1.0.0/16"]
    db.session.commit()
    enroll(es, candidate)
    with pytest.raises(Forbidden) as err:
        start(es, candidate, ip="192.168.1.5")
    db.session.rollback()
    assert err.value.code == "outside_network"
    assert start(es, candidate, ip="10.1.2.3").state == AttemptState.IN_PROGRESS


def test_staggered_start_spreads_candidates_by_a_few_seconds(app, bank, examiner, candidate,
                                                             clock):
    es = make_session(examiner, opens_in=timedelta(seconds=0))
    es.stagger_seconds = 60
    db.session.commit()
    enroll(es, candidate)
    offset = delivery.stagger_offset(db.session.scalar(select(Enrollment)))
    assert timedelta(0) <= offset <= timedelta(seconds=60)
    if offset:
        with pytest.raises(Conflict) as err:
            start(es, candidate)
        db.session.rollback()
        assert "starts_at" in err.value.details
    clock.move_to(es.opens_at + offset)
    assert start(es, candidate).state == AttemptState.IN_PROGRESS


def test_session_delivery_options_are_validated_in_the_api(app, bank, examiner):
    api = Api(app.test_client())
    api.login(examiner.email)
    now = utcnow()
    body = {"certification": "TEST-CERT", "opens_at": now.isoformat(),
            "closes_at": (now + timedelta(hours=2)).isoformat()}
    bad = api.post("/api/v1/exam-sessions", json=dict(body, allowed_networks=["nope"]))
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_networks"
    bad = api.post("/api/v1/exam-sessions", json=dict(body, grace_seconds=-1))
    assert bad.get_json()["error"]["code"] == "invalid_grace_seconds"
    ok = api.post("/api/v1/exam-sessions", json=dict(body, grace_seconds=90,
                                                      allowed_networks=["10.0.0.0/8"]))
    assert ok.status_code == 201
    assert ok.get_json()["grace_seconds"] == 90
    assert ok.get_json()["allowed_networks"] == ["10.0.0.0/8"]


def test_exports_escape_formula_injection(app, bank, examiner):
    evil = add_user(Role.CANDIDATE, "evil@example.com", "=HYPERLINK(\"http://x\")")
    es = make_session(examiner)
    enroll(es, evil)
    sit(es, evil)
    rows = results.result_rows(db.session, es)
    text = results.to_csv(rows).decode("utf-8-sig")
    record = list(csv.reader(io.StringIO(text)))[1]
    assert record[1] == "'=HYPERLINK(\"http://x\")"
    sheet = load_workbook(io.BytesIO(results.to_xlsx(rows, es.title))).active
    assert sheet["B2"].value == "'=HYPERLINK(\"http://x\")" and sheet["B2"].data_type == "s"
    for value in ("+1", "-1", "@x", "\tx", "\rx"):
        assert results.escape_cell(value) == "'" + value
    assert results.escape_cell(3.5) == 3.5


def test_staff_export_and_dashboard_pages(app, enrolled, candidate, examiner):
    sit(enrolled, candidate)
    api = Api(app.test_client())
    api.login(examiner.email)
    csv_response = api.get(f"/staff/sessions/{enrolled.id}/results.csv")
    assert csv_response.status_code == 200 and b"cand@example.com" in csv_response.data
    assert "attachment" in csv_response.headers["Content-Disposition"]
    assert api.get(f"/staff/sessions/{enrolled.id}/results.xlsx").status_code == 200
    progress = api.get(f"/api/v1/exam-sessions/{enrolled.id}/progress").get_json()
    assert progress["counts"] == {"enrolled": 1, "started": 1, "in_progress": 0,
                                  "finished": 1}
    assert api.get(f"/staff/sessions/{enrolled.id}/dashboard").status_code == 200


def test_manual_release_notifies_candidates_in_the_app(app, bank, examiner, candidate):
    es = make_session(examiner, release="manual")
    enroll(es, candidate)
    sit(es, candidate)
    assert db.session.scalar(select(Notification)) is None
    from examsys.exams import scheduling

    scheduling.release_results(db.session, utcnow(), es, examiner.id)
    db.session.commit()
    note = db.session.scalar(select(Notification))
    assert note.kind == "results_released" and note.user_id == candidate.id
    api = Api(app.test_client())
    api.login(candidate.email)
    body = api.get("/api/v1/notifications").get_json()
    assert body["unread"] == 1 and "available" in body["notifications"][0]["message"]


def test_exam_page_has_no_store_and_strict_csp(app, enrolled, candidate):
    from .conftest import login_page

    client = app.test_client()
    login_page(client, candidate.email)
    page = client.get("/dashboard")
    start_page = client.post(f"/sessions/{enrolled.id}/start",
                             data={"csrf_token": __import__("tests.conftest", fromlist=["x"])
                                   .csrf_from(page.get_data(as_text=True))})
    exam = client.get(start_page.headers["Location"])
    assert exam.status_code == 200
    assert exam.headers["Cache-Control"] == "no-store"
    csp = exam.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in exam.get_data(as_text=True)


def sequential_attempt(examiner, candidate) -> Attempt:
    """A started attempt of a forward-only exam."""
    from examsys.exams.models import Certification

    from .exam_support import set_blueprint_options

    set_blueprint_options(db.session.scalar(select(Certification).where(
        Certification.code == "TEST-CERT")), sequential=True)
    es = make_session(examiner)
    enroll(es, candidate)
    return start(es, candidate)


def test_sequential_exams_refuse_going_back(app, bank, examiner, candidate):
    attempt = sequential_attempt(examiner, candidate)
    delivery.save_response(db.session, utcnow(), attempt.id, candidate.id, 3, None, 1)
    db.session.commit()
    with pytest.raises(Conflict) as err:
        delivery.save_response(db.session, utcnow(), attempt.id, candidate.id, 2, None, 2)
    assert err.value.code == "sequential_locked"


def test_a_refused_save_does_not_move_a_sequential_exam_on(app, bank, examiner, candidate):
    """A save refused for its answer writes nothing: the candidate can still answer the
    items before the one it named."""
    from examsys.core.errors import Invalid

    attempt = sequential_attempt(examiner, candidate)
    delivery.save_response(db.session, utcnow(), attempt.id, candidate.id, 1, None, 5)
    db.session.commit()
    with pytest.raises(Invalid):
        delivery.save_response(db.session, utcnow(), attempt.id, candidate.id, 4,
                               {"not": "an answer of any type"}, 6)
    db.session.commit()  # as the API does after a refusal (an overdue close is kept)
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).current_position == 1
    delivery.save_response(db.session, utcnow(), attempt.id, candidate.id, 2, None, 7)
    db.session.commit()


def test_a_refused_invalidation_comes_back_with_the_reason_as_typed(app, enrolled, candidate,
                                                                    examiner):
    from .conftest import csrf_from, login_page

    attempt = sit(enrolled, candidate)
    client = app.test_client()
    login_page(client, examiner.email)
    page = client.get(f"/staff/attempts/{attempt.id}/integrity").get_data(as_text=True)
    typed = "Seen with notes. " * 40  # 680 characters: over the 500 allowed
    response = client.post(f"/staff/attempts/{attempt.id}/invalidate",
                           data={"reason": typed, "csrf_token": csrf_from(page)})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert typed.strip() in body and 'aria-invalid="true"' in body
    assert db.session.get(Attempt, attempt.id).state != AttemptState.INVALIDATED
    empty = client.post(f"/staff/attempts/{attempt.id}/invalidate",
                        data={"reason": "", "csrf_token": csrf_from(page)})
    assert empty.status_code == 400
    assert 'class="errors"' in empty.get_data(as_text=True)
    done = client.post(f"/staff/attempts/{attempt.id}/invalidate",
                       data={"reason": "Seen with notes.", "csrf_token": csrf_from(page)})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).state == AttemptState.INVALIDATED
