"""The HTML pages: forms re-render with messages, nothing is lost, no key leaks."""

import re
from datetime import UTC, datetime, timedelta

from examsys.exams.models import Enrollment, ExamSession
from examsys.extensions import db

from .conftest import csrf_from, login_page


def staff_client(app, examiner):
    client = app.test_client()
    assert login_page(client, examiner.email).status_code == 302
    return client


def test_examiner_schedules_a_session_through_the_form(app, examiner, bank):
    client = staff_client(app, examiner)
    page = client.get("/staff/sessions/new")
    assert page.status_code == 200 and "TEST-CERT" in page.get_data(as_text=True)
    opens = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)
    response = client.post("/staff/sessions/new", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "certification": "TEST-CERT",
        "title": "Morning", "opens_at": opens.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (opens + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "access_code": "abc123", "release": "after_close"})
    assert response.status_code == 302
    es = db.session.query(ExamSession).one()
    assert es.opens_at == opens and es.access_code == "ABC123" and es.release == "after_close"
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'datetime="{opens.isoformat()}"' in detail  # shown in local time by app.js


def refused_session_form(app, examiner, opens_at: str, closes_at: str) -> str:
    """Post the new-session form with this window; it must come back refused (400)."""
    client = staff_client(app, examiner)
    page = client.get("/staff/sessions/new")
    response = client.post("/staff/sessions/new", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "certification": "TEST-CERT",
        "title": "Kept title", "opens_at": opens_at, "closes_at": closes_at,
        "release": "immediate"})
    assert response.status_code == 400
    return response.get_data(as_text=True)


def test_a_window_that_closes_before_it_opens_rerenders_with_the_message(app, examiner, bank):
    body = refused_session_form(app, examiner, "2030-01-02T10:00", "2030-01-02T09:00")
    assert "The window must close after it opens." in body
    assert 'value="Kept title"' in body
    assert db.session.query(ExamSession).count() == 0


def test_a_date_that_does_not_parse_says_so(app, examiner, bank):
    body = refused_session_form(app, examiner, "2030-02-30T10:00", "")
    assert "Not a valid datetime value." in body  # opens_at: the 30th of February
    assert body.count("This field is required.") == 1  # closes_at, left empty
    assert db.session.query(ExamSession).count() == 0


def test_csv_enrollment_with_a_bad_line_enrolls_nobody_and_names_the_line(app, examiner,
                                                                         open_session):
    client = staff_client(app, examiner)
    url = f"/staff/sessions/{open_session.id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    csv = "email,name\nok@example.com,好人\nnot-an-email,Bad\n".encode()
    response = client.post(f"{url}/enroll-csv", data={"csrf_token": token,
                                                      "file": (__import__("io").BytesIO(csv),
                                                               "c.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Line 3: not-an-email is not an email address." in response.get_data(as_text=True)
    assert db.session.query(Enrollment).count() == 0


def test_csv_enrollment_creates_accounts_and_shows_their_links(app, examiner, open_session,
                                                              candidate):
    client = staff_client(app, examiner)
    url = f"/staff/sessions/{open_session.id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    csv = f"{candidate.email},张伟\nnew1@example.com,新考生\n".encode()
    response = client.post(f"{url}/enroll-csv", data={"csrf_token": token,
                                                      "file": (__import__("io").BytesIO(csv),
                                                               "c.csv")},
                           content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "new1@example.com" in body and "/account/setup/" in body
    assert db.session.query(Enrollment).count() == 2
    # Both are listed on the session page although neither has started.
    listed = client.get(url).get_data(as_text=True)
    assert listed.count("not started") == 2 and "新考生" in listed and "张伟" in listed


def test_single_enrollment_of_an_unknown_email_without_name_explains(app, examiner,
                                                                    open_session):
    client = staff_client(app, examiner)
    url = f"/staff/sessions/{open_session.id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(f"{url}/enroll", data={"csrf_token": token,
                                                  "email": "ghost@example.com"})
    assert response.status_code == 422
    assert "has no account; give a name to create one" in response.get_data(as_text=True)


def test_candidate_sits_the_exam_through_the_pages_and_no_key_reaches_the_page(
        app, enrolled, candidate):
    client = app.test_client()
    login_page(client, candidate.email)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Start the exam" in dashboard
    # A browser without JavaScript is told before the clock starts, and again in the room.
    assert re.search(r"<noscript>.*needs JavaScript.*before you start", dashboard)
    started = client.post(f"/sessions/{enrolled.id}/start",
                          data={"csrf_token": csrf_from(dashboard)})
    assert started.status_code == 302
    exam = client.get(started.headers["Location"])
    body = exam.get_data(as_text=True)
    assert exam.status_code == 200
    assert exam.headers["Cache-Control"] == "no-store"
    # Neither the key nor the explanations (which give the key away) are on the page.
    assert '"correct"' not in body and "correct: true" not in body
    assert "Because" not in body and "因为" not in body
    assert "<script>" not in body  # every script is a file (the CSP forbids inline script)
    assert "frame-ancestors 'none'" in exam.headers["Content-Security-Policy"]
    assert len(re.findall(r'<fieldset class="item card"', body)) == 8
    assert re.search(r"<noscript>.*needs JavaScript to save your answers", body)
    submit = client.post(started.headers["Location"] + "/submit",
                         data={"csrf_token": csrf_from(body)})
    result = client.get(submit.headers["Location"]).get_data(as_text=True)
    assert "You did not pass." in result  # nothing was answered
    assert "Chemistry" in result and "Safety" in result  # the section breakdown


def test_wrong_access_code_is_flashed_on_the_dashboard(app, examiner, bank, candidate):
    from examsys.core.clock import utcnow
    from examsys.exams import scheduling

    now = utcnow()
    es = scheduling.create_session(db.session, now, certification_code="TEST-CERT",
                                   opens_at=now - timedelta(minutes=1),
                                   closes_at=now + timedelta(hours=1), access_code="ROOM42",
                                   release="immediate", title="Coded", actor_id=examiner.id)
    scheduling.enroll(db.session, now, es, [scheduling.EnrollRow(candidate.email)], None)
    db.session.commit()
    client = app.test_client()
    login_page(client, candidate.email)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    response = client.post(f"/sessions/{es.id}/start", data={
        "csrf_token": csrf_from(dashboard), "access_code": "WRONG"}, follow_redirects=True)
    assert "The access code is not right." in response.get_data(as_text=True)


def test_examiner_sees_the_attempt_with_keys_and_progress(app, examiner, enrolled, candidate):
    from examsys.core.clock import utcnow
    from examsys.exams import delivery

    attempt, _ = delivery.start_or_resume(db.session, utcnow(), enrolled.id, candidate.id)
    db.session.commit()
    delivery.save_response(db.session, utcnow(), attempt.id, candidate.id, 1, None, 1)
    db.session.commit()
    client = staff_client(app, examiner)
    session_page = client.get(f"/staff/sessions/{enrolled.id}").get_data(as_text=True)
    assert "1 / 8" in session_page and "in progress" in session_page
    attempt_page = client.get(f"/staff/attempts/{attempt.id}")
    assert attempt_page.status_code == 200
    assert "Answer key" in attempt_page.get_data(as_text=True)


def test_bank_pages_list_filter_and_preview(app, examiner, bank):
    client = staff_client(app, examiner)
    everything = client.get("/bank/").get_data(as_text=True)
    assert "24 questions" in everything
    safety = client.get("/bank/?topic=safety&type=numeric").get_data(as_text=True)
    assert "3 questions" in safety
    found = client.get("/bank/?q=question+13").get_data(as_text=True)
    assert "T-0013" in found and "T-0012" not in found
    link = re.search(r'href="(/bank/questions/\d+)"', everything).group(1)
    preview = client.get(link).get_data(as_text=True)
    assert "As a candidate sees it" in preview and "Answer key" in preview


def test_unknown_page_gets_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Nothing was found at this address." in response.get_data(as_text=True)


def test_dashboard_progress_counts_candidates_who_have_not_started(app, examiner, enrolled,
                                                                  other_candidate):
    from examsys.core.clock import utcnow
    from examsys.exams import results, scheduling

    scheduling.enroll(db.session, utcnow(), enrolled,
                      [scheduling.EnrollRow(other_candidate.email)], None)
    db.session.commit()
    progress = results.progress(db.session, enrolled, utcnow())
    assert progress["counts"]["enrolled"] == 2 and progress["counts"]["started"] == 0
