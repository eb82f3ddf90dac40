"""The time to appeal: EXAMSYS_APPEAL_DAYS from the moment a result reaches its candidate,
enforced by the domain, the result page and the API alike."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from examsys.core.clock import iso, utcnow
from examsys.core.errors import Conflict
from examsys.exams import appeals, scheduling
from examsys.exams.models import Appeal
from examsys.extensions import db

from .conftest import Api, csrf_from, login_page
from .exam_support import enroll, make_session, sit, wrong_response

DAYS = 30  # the default of EXAMSYS_APPEAL_DAYS


def failed_attempt(examiner, candidate, **session):
    es = make_session(examiner, **session)
    enroll(es, candidate)
    return sit(es, candidate, answer=wrong_response)


def test_the_window_runs_from_the_release_and_then_closes(app, bank, examiner, candidate):
    attempt = failed_attempt(examiner, candidate)
    closes_at = attempt.graded_at + timedelta(days=DAYS)
    assert appeals.appeal_closes_at(attempt) == closes_at

    with pytest.raises(Conflict) as err:
        appeals.file_appeal(db.session, closes_at, attempt.id, candidate.id, "Too late?")
    db.session.rollback()
    assert err.value.code == "appeal_window_closed"
    assert err.value.details == {"closed_at": iso(closes_at)}

    last_minute = closes_at - timedelta(minutes=1)
    appeal = appeals.file_appeal(db.session, last_minute, attempt.id, candidate.id, "In time.")
    db.session.commit()
    assert appeal.filed_at == last_minute


def test_a_result_released_later_is_appealable_from_its_release(app, bank, examiner, candidate):
    attempt = failed_attempt(examiner, candidate, release="manual")
    assert appeals.appeal_closes_at(attempt) is None  # not released: no window yet

    released = utcnow() + timedelta(days=10)
    with time_machine.travel(released, tick=False):
        scheduling.release_results(db.session, utcnow(), attempt.session, examiner.id)
        db.session.commit()
    closes_at = released + timedelta(days=DAYS)
    assert appeals.appeal_closes_at(attempt) == closes_at
    # Past the window counted from the exam, still inside the one counted from release.
    filed = appeals.file_appeal(db.session, attempt.graded_at + timedelta(days=DAYS + 1),
                                attempt.id, candidate.id, "Released late.")
    assert filed.filed_at < closes_at


def result_page(app, examiner, candidate):
    """A failed attempt, its candidate's logged-in client and the result page's HTML."""
    attempt = failed_attempt(examiner, candidate)
    client = app.test_client()
    login_page(client, candidate.email)
    return attempt, client, client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)


def test_the_window_follows_the_configuration(app, bank, examiner, candidate):
    attempt = failed_attempt(examiner, candidate)
    app.config["APPEAL_DAYS"] = 7
    assert appeals.appeal_closes_at(attempt) == attempt.graded_at + timedelta(days=7)
    with pytest.raises(Conflict):
        appeals.file_appeal(db.session, attempt.graded_at + timedelta(days=8), attempt.id,
                            candidate.id, "A week and a day.")


def test_the_result_page_offers_the_appeal_until_the_window_closes(app, bank, examiner,
                                                                    candidate):
    attempt, client, page = result_page(app, examiner, candidate)
    assert "File the appeal" in page and "You can appeal until" in page
    until = attempt.graded_at + timedelta(days=DAYS)
    assert f'datetime="{until.isoformat()}"' in page

    with time_machine.travel(until + timedelta(seconds=1), tick=False):
        login_page(client, candidate.email)  # the first login session has ended by now
        page = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
        assert "The time to appeal this result ended on" in page
        assert "File the appeal" not in page
        # A form kept open from before the deadline is refused, and says why.
        response = client.post(f"/attempts/{attempt.id}/appeal",
                               data={"reason": "Late", "csrf_token": csrf_from(page)},
                               follow_redirects=True)
        assert "The time to appeal this result has ended." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Appeal.id))) == 0


def test_the_api_states_the_window_and_refuses_after_it(app, bank, examiner, candidate):
    attempt = failed_attempt(examiner, candidate)
    api = Api(app.test_client())
    api.login(candidate.email)
    until = attempt.graded_at + timedelta(days=DAYS)
    body = api.get(f"/api/v1/attempts/{attempt.id}").get_json()
    assert body["result"]["appeal_until"] == iso(until)

    with time_machine.travel(until, tick=False):
        response = api.post(f"/api/v1/attempts/{attempt.id}/appeals", json={"reason": "Late"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "appeal_window_closed" and error["details"]["closed_at"] == iso(until)


def test_a_refused_appeal_form_comes_back_with_the_reason_as_typed(app, bank, examiner,
                                                                    candidate):
    attempt, client, page = result_page(app, examiner, candidate)
    too_long = "问" * 4001
    response = client.post(f"/attempts/{attempt.id}/appeal",
                           data={"reason": too_long, "csrf_token": csrf_from(page)})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert too_long in body and 'aria-invalid="true"' in body
    assert db.session.scalar(select(func.count(Appeal.id))) == 0

    # 2,000 lines of one character: 3,999 characters in the browser's count, 5,998 sent
    # (each break as CR LF). It fits the box, so it must fit the form.
    lines = "\r\n".join(["x"] * 2000)
    filed = client.post(f"/attempts/{attempt.id}/appeal",
                        data={"reason": lines, "csrf_token": csrf_from(page)})
    assert filed.status_code == 302
    assert db.session.scalar(select(Appeal.reason)) == "\n".join(["x"] * 2000)
