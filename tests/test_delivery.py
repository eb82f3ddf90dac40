"""Running an attempt through the JSON API: the window, enrollment and access code, the
deadline and its grace period, saves (seq, validation, the append-only log), resume,
submit, the lazy and the scheduled close, and the number of attempts allowed."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from examsys.accounts.models import Role
from examsys.bank import importer
from examsys.bank.types import get_type
from examsys.certs.models import Certificate
from examsys.core.clock import iso, utcnow
from examsys.exams import delivery, scheduling
from examsys.exams.models import (
    Attempt,
    AttemptItem,
    AttemptState,
    Enrollment,
    ExamSession,
    ResponseEvent,
)
from examsys.extensions import db

from .conftest import Api, add_user
from .exam_support import correct_response, enroll, wrong_response

# ---------------------------------------------------------------- helpers


@pytest.fixture
def clock():
    """Time frozen at a whole second of the present; move it with clock.move_to(...)."""
    with time_machine.travel(datetime.now(UTC).replace(microsecond=0), tick=False) as traveller:
        yield traveller


def sitter(app, user) -> Api:
    """A candidate's browser: a fresh client logged in as ``user``."""
    api = Api(app.test_client())
    assert api.login(user.email).status_code == 200
    return api


def start_url(es) -> str:
    return f"/api/v1/exam-sessions/{es.id}/attempts"


def save_url(attempt_id: int, position: int) -> str:
    return f"/api/v1/attempts/{attempt_id}/items/{position}"


def start(api: Api, es, **body):
    return api.post(start_url(es), json=body)


def make_session(examiner, opens_at, closes_at, *, access_code=None, release="immediate",
                 certification="TEST-CERT") -> ExamSession:
    es = scheduling.create_session(db.session, utcnow(), certification_code=certification,
                                   opens_at=opens_at, closes_at=closes_at,
                                   access_code=access_code, release=release, title="Session",
                                   actor_id=examiner.id)
    db.session.commit()
    return es


def enrollment_of(es, user) -> Enrollment:
    return db.session.scalar(select(Enrollment).where(Enrollment.session_id == es.id,
                                                      Enrollment.candidate_id == user.id))


def attempt_row(attempt_id: int) -> Attempt:
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


def items_of(attempt_id: int) -> list[AttemptItem]:
    db.session.expire_all()
    return list(db.session.scalars(select(AttemptItem).where(
        AttemptItem.attempt_id == attempt_id).order_by(AttemptItem.position)))


def events_of(item_id: int) -> list[ResponseEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(ResponseEvent).where(
        ResponseEvent.attempt_item_id == item_id).order_by(ResponseEvent.id)))


def event_count(attempt_id: int) -> int:
    return db.session.scalar(select(func.count(ResponseEvent.id)).join(
        AttemptItem, ResponseEvent.attempt_item_id == AttemptItem.id).where(
        AttemptItem.attempt_id == attempt_id))


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


# A bank whose forms always hold choice items: every "chem" question is single choice,
# every "safety" question multiple choice (topics of its own, apart from the mini bank).
CHOICE_BANK_HEAD = """\
topics:
  - key: dchem
    name: {en: Delivery chemistry, zh: 交付化学}
  - key: dsafe
    name: {en: Delivery safety, zh: 交付安全}
questions:
"""
CHOICE_QUESTION = """\
  - key: D-{n:04d}
    topic: {topic}
    type: {qtype}
    levels: [engineer]
    difficulty: 1
    reference: Delivery handbook
    stem: {{en: "Delivery question {n}", zh: "交付题{n}"}}
    explanation: {{en: "Because", zh: "因为"}}
{extra}    options:
      - {{id: a, correct: true, text: {{en: "right one", zh: "对一"}}}}
      - {{id: b, correct: {b_correct}, text: {{en: "option b", zh: "选项b"}}}}
      - {{id: c, text: {{en: "wrong one", zh: "错一"}}}}
      - {{id: d, text: {{en: "wrong two", zh: "错二"}}}}
"""
CHOICE_CERT = """\
certifications:
  - code: CHOICE-CERT
    name: {en: "Choice Certification", zh: "选择题认证"}
    level: engineer
    validity_months: 12
    blueprint:
      time_limit_minutes: 30
      pass_mark: 60
      sections:
        - {key: chem, title: {en: Chemistry, zh: 化学}, topics: [dchem], levels: [engineer],
           count: 2, points: 1}
        - {key: safety, title: {en: Safety, zh: 安全}, topics: [dsafe], levels: [engineer],
           count: 2, points: 1}
"""


def import_choice_bank(tmp_path: Path) -> None:
    parts = [CHOICE_BANK_HEAD]
    for n in range(1, 13):
        parts.append(CHOICE_QUESTION.format(n=n, topic="dchem", qtype="single_choice",
                                            extra="", b_correct="false"))
    for n in range(13, 25):
        parts.append(CHOICE_QUESTION.format(n=n, topic="dsafe", qtype="multiple_choice",
                                            extra="    scoring: all_or_nothing\n",
                                            b_correct="true"))
    parts.append(CHOICE_CERT)
    path = tmp_path / "choice_bank.yaml"
    path.write_text("".join(parts), encoding="utf-8")
    doc, problems = importer.read_files([path])
    assert problems == []
    importer.apply(db.session, utcnow(), doc, None)
    db.session.commit()


# ---------------------------------------------------------------- starting


def test_start_before_window_opens_is_refused_not_open(app, bank, examiner, candidate, api,
                                                       clock):
    now = utcnow()
    es = make_session(examiner, now + timedelta(hours=1), now + timedelta(hours=3))
    enroll(es, candidate)
    api.login(candidate.email)

    early = start(api, es)

    assert early.status_code == 409
    assert error_code(early) == "not_open"
    assert db.session.scalar(select(func.count(Attempt.id))) == 0
    clock.move_to(es.opens_at)
    assert start(api, es).status_code == 201


def test_start_after_window_closes_is_refused_closed(app, enrolled, candidate, api, clock):
    api.login(candidate.email)
    clock.move_to(enrolled.closes_at)

    late = start(api, enrolled)

    assert late.status_code == 409
    assert error_code(late) == "closed"
    assert db.session.scalar(select(func.count(Attempt.id))) == 0


def test_start_when_not_enrolled_is_not_found(app, enrolled, other_candidate, api):
    api.login(other_candidate.email)

    response = start(api, enrolled)

    assert response.status_code == 404
    assert db.session.scalar(select(func.count(Attempt.id))) == 0


def test_start_needs_the_access_code_in_any_case(app, bank, examiner, candidate, api):
    opens, closes = datetime.now(UTC) - timedelta(minutes=5), datetime.now(UTC) + timedelta(
        hours=2)
    es = make_session(examiner, opens, closes, access_code="LIB2026")
    enroll(es, candidate)
    api.login(candidate.email)

    missing = start(api, es)
    wrong = start(api, es, access_code="LIB2027")
    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert error_code(missing) == error_code(wrong) == "wrong_access_code"
    assert db.session.scalar(select(func.count(Attempt.id))) == 0

    right = start(api, es, access_code=" lib2026 ")
    assert right.status_code == 201
    assert len(right.get_json()["items"]) == 8


def test_wrong_access_codes_lock_the_candidate_out_for_a_while(app, bank, examiner,
                                                                candidate, other_candidate,
                                                                api, clock):
    from examsys.core.audit import AuditEvent

    opens, closes = datetime.now(UTC) - timedelta(minutes=5), datetime.now(UTC) + timedelta(
        hours=2)
    es = make_session(examiner, opens, closes, access_code="7391")
    enroll(es, candidate, other_candidate)
    api.login(candidate.email)

    tries = [start(api, es, access_code=f"{n:04d}") for n in range(delivery.ACCESS_CODE_TRIES)]
    assert {error_code(r) for r in tries} == {"wrong_access_code"}
    locked = start(api, es, access_code="7391")  # even the right code, while locked out
    assert locked.status_code == 429 and error_code(locked) == "access_code_locked"
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "session.wrong_access_code",
        AuditEvent.actor_id == candidate.id)) == delivery.ACCESS_CODE_TRIES
    other = Api(app.test_client())
    other.login(other_candidate.email)
    assert start(other, es, access_code="7391").status_code == 201  # theirs, not everyone's

    clock.shift(delivery.ACCESS_CODE_WINDOW + timedelta(seconds=1))
    assert start(api, es, access_code="7391").status_code == 201
    assert db.session.scalar(select(func.count(Attempt.id))) == 2


def test_deadline_is_start_plus_time_limit_plus_extra_minutes(app, enrolled, candidate, api,
                                                              clock):
    enrollment_of(enrolled, candidate).extra_minutes = 15
    db.session.commit()
    api.login(candidate.email)
    started_at = utcnow()

    body = start(api, enrolled).get_json()

    expected = started_at + timedelta(minutes=30 + 15)
    assert expected < enrolled.closes_at
    assert body["deadline"] == iso(expected)
    assert attempt_row(body["attempt_id"]).deadline == expected


def test_deadline_is_capped_at_the_window_close(app, bank, examiner, candidate, api, clock):
    now = utcnow()
    es = make_session(examiner, now - timedelta(hours=1), now + timedelta(minutes=40))
    enroll(es, candidate)
    enrollment_of(es, candidate).extra_minutes = 20  # 30 + 20 min would run past the close
    db.session.commit()
    api.login(candidate.email)

    body = start(api, es).get_json()

    assert body["deadline"] == iso(es.closes_at)
    assert attempt_row(body["attempt_id"]).deadline == es.closes_at


# ---------------------------------------------------------------- saving


def test_save_before_deadline_succeeds_and_is_logged(app, enrolled, candidate, api, clock):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    item = items_of(attempt_id)[0]
    clock.move_to(attempt_row(attempt_id).deadline - timedelta(seconds=1))

    saved = api.put(save_url(attempt_id, item.position),
                    json={"response": correct_response(item), "seq": 1})

    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["seq"] == 1
    item = items_of(attempt_id)[0]
    canonical = get_type(item.version.type).parse(item.version.payload, item.option_order,
                                                  correct_response(item))
    assert item.response == canonical and item.last_seq == 1
    [event] = events_of(item.id)
    assert (event.seq, event.response, event.saved_at) == (1, canonical, utcnow())


def test_save_within_grace_after_deadline_is_accepted(app, enrolled, candidate, api, clock):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    item = items_of(attempt_id)[0]
    attempt = attempt_row(attempt_id)
    assert attempt.session.grace_seconds == 30
    clock.move_to(attempt.deadline + timedelta(seconds=29))

    saved = api.put(save_url(attempt_id, item.position),
                    json={"response": correct_response(item), "seq": 1})

    assert saved.status_code == 200, saved.get_json()
    assert len(events_of(item.id)) == 1
    assert attempt_row(attempt_id).state == AttemptState.IN_PROGRESS
    # The late save counts when the attempt is closed at its deadline.
    clock.move_to(attempt.deadline + timedelta(seconds=31))
    body = api.get(f"/api/v1/attempts/{attempt_id}").get_json()
    assert body["state"] == AttemptState.GRADED
    assert items_of(attempt_id)[0].awarded == item.points


def test_grace_period_follows_the_sessions_grace_seconds(app, enrolled, candidate, api, clock):
    enrolled.grace_seconds = 5
    db.session.commit()
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    first, second = items_of(attempt_id)[:2]
    deadline = attempt_row(attempt_id).deadline

    clock.move_to(deadline + timedelta(seconds=4))
    inside = api.put(save_url(attempt_id, first.position),
                     json={"response": correct_response(first), "seq": 1})
    clock.move_to(deadline + timedelta(seconds=6))
    outside = api.put(save_url(attempt_id, second.position),
                      json={"response": correct_response(second), "seq": 2})

    assert inside.status_code == 200
    assert outside.status_code == 409 and error_code(outside) == "time_up"


def test_save_after_deadline_and_grace_is_rejected_and_closes_the_attempt(
        app, enrolled, candidate, api, clock):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    item = items_of(attempt_id)[0]
    first = wrong_response(item)
    assert api.put(save_url(attempt_id, item.position),
                   json={"response": first, "seq": 1}).status_code == 200
    before = items_of(attempt_id)[0].response
    deadline = attempt_row(attempt_id).deadline
    clock.move_to(deadline + timedelta(seconds=31))

    late = api.put(save_url(attempt_id, item.position),
                   json={"response": correct_response(item), "seq": 2})

    assert late.status_code == 409
    assert error_code(late) == "time_up"
    item = items_of(attempt_id)[0]
    assert (item.response, item.last_seq) == (before, 1)
    assert [e.seq for e in events_of(item.id)] == [1]
    attempt = attempt_row(attempt_id)
    assert attempt.state == AttemptState.GRADED
    assert attempt.finish_reason == "deadline"
    assert attempt.finished_at == deadline
    assert attempt.score is not None


def test_stale_seq_is_rejected_and_overwrites_nothing(app, enrolled, candidate, api):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    item = items_of(attempt_id)[0]
    assert api.put(save_url(attempt_id, item.position),
                   json={"response": correct_response(item), "seq": 5}).status_code == 200
    kept = items_of(attempt_id)[0].response

    same = api.put(save_url(attempt_id, item.position),
                   json={"response": wrong_response(item), "seq": 5})
    older = api.put(save_url(attempt_id, item.position),
                    json={"response": wrong_response(item), "seq": 4})

    for response in (same, older):
        assert response.status_code == 409
        assert error_code(response) == "stale_seq"
        assert response.get_json()["error"]["details"] == {"last_seq": 5}
    item = items_of(attempt_id)[0]
    assert (item.response, item.last_seq) == (kept, 5)
    assert [e.seq for e in events_of(item.id)] == [5]


def test_seq_of_another_item_does_not_make_a_save_stale(app, enrolled, candidate, api):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    first, second = items_of(attempt_id)[:2]
    assert api.put(save_url(attempt_id, first.position),
                   json={"response": correct_response(first), "seq": 9}).status_code == 200

    saved = api.put(save_url(attempt_id, second.position),
                    json={"response": correct_response(second), "seq": 1})

    assert saved.status_code == 200


@pytest.mark.parametrize("seq", [0, -1, 1.5, "2", True, None, [1], 2**62])
def test_seq_that_is_not_a_positive_int_is_unprocessable(app, enrolled, candidate, api, seq):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    item = items_of(attempt_id)[0]

    response = api.put(save_url(attempt_id, item.position),
                       json={"response": correct_response(item), "seq": seq})

    assert response.status_code == 422
    assert error_code(response) == "invalid_seq"
    assert event_count(attempt_id) == 0


def test_save_without_seq_is_unprocessable(app, enrolled, candidate, api):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    item = items_of(attempt_id)[0]

    response = api.put(save_url(attempt_id, item.position),
                       json={"response": correct_response(item)})

    assert response.status_code == 422
    assert event_count(attempt_id) == 0


def test_unknown_option_letter_is_an_invalid_response(app, examiner, candidate, api, tmp_path):
    import_choice_bank(tmp_path)
    now = datetime.now(UTC)
    es = make_session(examiner, now - timedelta(minutes=5), now + timedelta(hours=2),
                      certification="CHOICE-CERT")
    enroll(es, candidate)
    api.login(candidate.email)
    attempt_id = start(api, es).get_json()["attempt_id"]
    items = items_of(attempt_id)
    single = next(i for i in items if i.version.type == "single_choice")
    multiple = next(i for i in items if i.version.type == "multiple_choice")

    bad = [api.put(save_url(attempt_id, single.position), json={"response": "E", "seq": 1}),
           api.put(save_url(attempt_id, single.position), json={"response": "a", "seq": 2}),
           api.put(save_url(attempt_id, multiple.position),
                   json={"response": ["A", "Z"], "seq": 3}),
           api.put(save_url(attempt_id, multiple.position), json={"response": "A", "seq": 4})]

    assert [r.status_code for r in bad] == [422] * 4
    assert {error_code(r) for r in bad} == {"invalid_response"}
    assert event_count(attempt_id) == 0
    assert all(i.response is None and i.last_seq == 0 for i in items_of(attempt_id))
    good = api.put(save_url(attempt_id, single.position), json={"response": "D", "seq": 5})
    assert good.status_code == 200


def test_response_of_the_wrong_shape_is_invalid_for_every_type(app, enrolled, candidate, api):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    wrong_shape = {"single_choice": "E", "multiple_choice": ["E"], "true_false": "yes",
                   "numeric": "lots"}

    for seq, item in enumerate(items_of(attempt_id), start=1):
        response = api.put(save_url(attempt_id, item.position),
                           json={"response": wrong_shape[item.version.type], "seq": seq})
        assert response.status_code == 422, item.version.type
        assert error_code(response) == "invalid_response"
    assert event_count(attempt_id) == 0


def test_save_to_a_position_that_does_not_exist_is_not_found(app, enrolled, candidate, api):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]

    for position in (0, 9, 99):
        response = api.put(save_url(attempt_id, position), json={"response": None, "seq": 1})
        assert response.status_code == 404
    assert event_count(attempt_id) == 0


# ---------------------------------------------------------------- resume and submit


def _form(body: dict) -> list[tuple]:
    return [(i["position"], i["type"], i["section"], i["stem"],
             [(o["id"], o["text"]) for o in i.get("options", [])]) for i in body["items"]]


def test_a_new_attempt_is_shown_exactly_as_its_stored_form_reads_back(app, enrolled,
                                                                       candidate, api):
    # The start answers from the form it drew, not from the rows it wrote: the two must
    # agree field for field (a resume reads the rows).
    api.login(candidate.email)
    first = start(api, enrolled)
    assert first.status_code == 201
    again = start(api, enrolled)
    assert again.status_code == 200

    drawn, stored = first.get_json(), again.get_json()
    assert len(drawn["items"]) == len(items_of(drawn["attempt_id"])) > 0
    assert drawn.pop("server_time") and stored.pop("server_time")
    assert drawn == stored


def test_resume_returns_the_same_attempt_answers_and_option_order(app, enrolled, candidate,
                                                                  api):
    api.login(candidate.email)
    first = start(api, enrolled)
    assert first.status_code == 201
    attempt_id = first.get_json()["attempt_id"]
    rows = items_of(attempt_id)
    orders = {r.position: r.option_order for r in rows}
    sent = {}
    for seq, row in enumerate(rows, start=1):
        sent[row.position] = wrong_response(row) if seq % 2 else correct_response(row)
        assert api.put(save_url(attempt_id, row.position),
                       json={"response": sent[row.position], "seq": seq}).status_code == 200

    again = start(api, enrolled)

    assert again.status_code == 200
    body = again.get_json()
    assert body["attempt_id"] == attempt_id
    assert _form(body) == _form(first.get_json())
    assert {i["position"]: i["response"] for i in body["items"]} == sent
    assert {r.position: r.option_order for r in items_of(attempt_id)} == orders
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_resume_on_another_machine_sees_the_same_form_and_answers(app, enrolled, candidate):
    laptop = sitter(app, candidate)
    first = start(laptop, enrolled).get_json()
    attempt_id = first["attempt_id"]
    rows = items_of(attempt_id)
    for seq, row in enumerate(rows[:4], start=1):
        assert laptop.put(save_url(attempt_id, row.position),
                          json={"response": correct_response(row), "seq": seq}).status_code == 200

    desktop = sitter(app, candidate)
    resumed = start(desktop, enrolled)

    assert resumed.status_code == 200
    body = resumed.get_json()
    assert body["attempt_id"] == attempt_id
    assert _form(body) == _form(first)
    assert [i["response"] for i in body["items"]] == (
        [correct_response(r) for r in rows[:4]] + [None] * 4)
    assert body["last_seq"] == 4
    # The new machine carries on where the old one stopped; the log tells them apart.
    last = rows[-1]
    assert desktop.put(save_url(attempt_id, last.position),
                       json={"response": correct_response(last), "seq": 5}).status_code == 200
    machines = {events_of(r.id)[0].login_session_id for r in (rows[0], last)}
    assert len(machines) == 2 and None not in machines


def test_submitting_twice_yields_one_result_and_one_certificate(app, enrolled, candidate, api,
                                                                clock):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    for seq, row in enumerate(items_of(attempt_id), start=1):
        api.put(save_url(attempt_id, row.position),
                json={"response": correct_response(row), "seq": seq})
    clock.move_to(utcnow() + timedelta(minutes=5))
    submitted_at = utcnow()

    first = api.post(f"/api/v1/attempts/{attempt_id}/submit")
    clock.move_to(utcnow() + timedelta(minutes=1))
    second = api.post(f"/api/v1/attempts/{attempt_id}/submit")

    assert first.status_code == second.status_code == 200
    assert first.get_json()["result"]["passed"] is True
    assert second.get_json()["result"] == first.get_json()["result"]
    assert second.get_json()["finished_at"] == iso(submitted_at)
    assert db.session.scalar(select(func.count(Certificate.id))
                             .where(Certificate.attempt_id == attempt_id)) == 1
    attempt = attempt_row(attempt_id)
    assert (attempt.state, attempt.finish_reason) == (AttemptState.GRADED, "submitted")


def test_submit_after_deadline_and_grace_closes_at_the_deadline(app, enrolled, candidate,
                                                                api, clock):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    deadline = attempt_row(attempt_id).deadline
    clock.move_to(deadline + timedelta(minutes=5))

    body = api.post(f"/api/v1/attempts/{attempt_id}/submit").get_json()

    assert body["finished_at"] == iso(deadline)
    attempt = attempt_row(attempt_id)
    assert (attempt.state, attempt.finish_reason, attempt.finished_at) == (
        AttemptState.GRADED, "deadline", deadline)


def test_save_after_submit_is_rejected_attempt_closed(app, enrolled, candidate, api):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    item = items_of(attempt_id)[0]
    assert api.post(f"/api/v1/attempts/{attempt_id}/submit").status_code == 200

    late = api.put(save_url(attempt_id, item.position),
                   json={"response": correct_response(item), "seq": 1})

    assert late.status_code == 409
    assert error_code(late) == "attempt_closed"
    assert items_of(attempt_id)[0].response is None
    assert event_count(attempt_id) == 0


# ---------------------------------------------------------------- closing at the deadline


def test_reading_an_overdue_attempt_closes_and_grades_it(app, enrolled, candidate, api, clock):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    rows = items_of(attempt_id)
    for seq, row in enumerate(rows, start=1):
        api.put(save_url(attempt_id, row.position),
                json={"response": correct_response(row), "seq": seq})
    deadline = attempt_row(attempt_id).deadline

    clock.move_to(deadline + timedelta(seconds=10))
    in_grace = api.get(f"/api/v1/attempts/{attempt_id}").get_json()
    assert in_grace["state"] == AttemptState.IN_PROGRESS
    clock.move_to(deadline + timedelta(seconds=31))
    body = api.get(f"/api/v1/attempts/{attempt_id}").get_json()

    assert body["state"] == AttemptState.GRADED
    assert body["finished_at"] == iso(deadline)
    assert body["result"]["percent"] == 100.0  # saved answers count
    attempt = attempt_row(attempt_id)
    assert (attempt.state, attempt.finish_reason, attempt.finished_at) == (
        AttemptState.GRADED, "deadline", deadline)


def test_close_overdue_command_closes_only_overdue_attempts(app, enrolled, candidate, runner,
                                                            clock):
    late = add_user(Role.CANDIDATE, "late@example.com", "Late Starter")
    graceful = add_user(Role.CANDIDATE, "grace@example.com", "In Grace")
    enroll(enrolled, late, graceful)
    t0 = utcnow()
    attempts = {}
    for user, offset in ((candidate, timedelta(0)), (graceful, timedelta(seconds=40)),
                         (late, timedelta(minutes=20))):
        clock.move_to(t0 + offset)
        attempt, form = delivery.start_or_resume(db.session, utcnow(), enrolled.id, user.id)
        assert form is not None
        attempts[user.email] = attempt.id
        db.session.commit()
    clock.move_to(t0 + timedelta(minutes=31))  # 60 s past the first deadline, 20 s past the second

    result = runner.invoke(args=["close-overdue"])

    assert result.exit_code == 0, result.output
    assert "Closed 1 overdue attempt(s)." in result.output
    overdue = attempt_row(attempts[candidate.email])
    assert (overdue.state, overdue.finish_reason, overdue.finished_at) == (
        AttemptState.GRADED, "deadline", overdue.deadline)
    assert attempt_row(attempts[graceful.email]).state == AttemptState.IN_PROGRESS
    assert attempt_row(attempts[late.email]).state == AttemptState.IN_PROGRESS

    clock.move_to(t0 + timedelta(minutes=32))
    again = runner.invoke(args=["close-overdue"])
    assert "Closed 1 overdue attempt(s)." in again.output
    assert attempt_row(attempts[graceful.email]).state == AttemptState.GRADED
    assert attempt_row(attempts[late.email]).state == AttemptState.IN_PROGRESS


# ---------------------------------------------------------------- attempts allowed, the log


def test_second_start_after_finishing_is_refused_no_attempts_left(app, enrolled, candidate,
                                                                  api):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    api.post(f"/api/v1/attempts/{attempt_id}/submit")

    again = start(api, enrolled)

    assert again.status_code == 409
    assert error_code(again) == "no_attempts_left"
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


def test_second_start_after_the_deadline_is_refused_no_attempts_left(app, enrolled, candidate,
                                                                     api, clock):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    clock.move_to(attempt_row(attempt_id).deadline + timedelta(minutes=1))

    again = start(api, enrolled)

    assert again.status_code == 409
    assert error_code(again) == "no_attempts_left"
    assert attempt_row(attempt_id).state == AttemptState.GRADED  # the overdue one got closed


def test_enrollment_allowing_two_attempts_gets_a_second_one(app, enrolled, candidate, api):
    enrollment_of(enrolled, candidate).attempts_allowed = 2
    db.session.commit()
    api.login(candidate.email)
    first_id = start(api, enrolled).get_json()["attempt_id"]
    api.post(f"/api/v1/attempts/{first_id}/submit")

    second = start(api, enrolled)
    assert second.status_code == 201
    second_id = second.get_json()["attempt_id"]
    assert second_id != first_id and attempt_row(second_id).number == 2
    api.post(f"/api/v1/attempts/{second_id}/submit")
    assert error_code(start(api, enrolled)) == "no_attempts_left"


def test_response_log_keeps_every_save_in_order(app, enrolled, candidate, api):
    api.login(candidate.email)
    attempt_id = start(api, enrolled).get_json()["attempt_id"]
    item, other = items_of(attempt_id)[:2]
    right, wrong = correct_response(item), wrong_response(item)
    saves = [(item, right, 1), (item, wrong, 2), (other, correct_response(other), 3),
             (item, None, 7), (item, right, 8)]
    for row, response, seq in saves:
        assert api.put(save_url(attempt_id, row.position),
                       json={"response": response, "seq": seq}).status_code == 200
    assert api.put(save_url(attempt_id, item.position),
                   json={"response": wrong, "seq": 6}).status_code == 409  # stale: not logged

    parse = get_type(item.version.type).parse
    expected = [(seq, parse(item.version.payload, item.option_order, response))
                for row, response, seq in saves if row is item]
    assert [(e.seq, e.response) for e in events_of(item.id)] == expected
    assert [e.seq for e in events_of(other.id)] == [3]
    assert items_of(attempt_id)[0].response == expected[-1][1]
    # Closing and grading the attempt leaves the log as it was.
    assert api.post(f"/api/v1/attempts/{attempt_id}/submit").status_code == 200
    assert [(e.seq, e.response) for e in events_of(item.id)] == expected
