"""Defects found in review: each keeps its test."""

import re

import pytest

from examsys.core.clock import utcnow
from examsys.extensions import db

from .conftest import Api
from .exam_support import enroll, make_session


def test_bad_shapes_in_the_exam_api_are_answered_not_crashed(app, examiner, bank, candidate):
    es = make_session(examiner, access_code="ROOM42")
    enroll(es, candidate)
    api = Api(app.test_client())
    api.login(candidate.email)
    wrong = api.post(f"/api/v1/exam-sessions/{es.id}/attempts", json={"access_code": 123})
    assert wrong.status_code == 403
    attempt = api.post(f"/api/v1/exam-sessions/{es.id}/attempts",
                       json={"access_code": "room42"}).get_json()
    aid = attempt["attempt_id"]
    event = api.post(f"/api/v1/attempts/{aid}/events", json={"kind": ["x"]})
    assert event.status_code == 422
    moved = api.put(f"/api/v1/attempts/{aid}/position", json={"position": [1]})
    assert moved.status_code == 422


def test_bad_shapes_in_the_examiner_api_are_answered_not_crashed(app, examiner, bank):
    api = Api(app.test_client())
    api.login(examiner.email)
    now = utcnow()
    body = {"certification": "TEST-CERT", "opens_at": now.isoformat(),
            "closes_at": now.replace(year=now.year + 1).isoformat()}
    for bad in ({"title": 5}, {"access_code": 1234}, {"release": ["manual"]}):
        response = api.post("/api/v1/exam-sessions", json={**body, **bad})
        assert response.status_code == 422, bad
    es = make_session(examiner)
    for bad in ({"emails": 5}, {"candidates": 5}):
        response = api.post(f"/api/v1/exam-sessions/{es.id}/enrollments", json=bad)
        assert response.status_code == 422, bad


@pytest.mark.parametrize("prompt", ["²", "1" * 400])
def test_a_matching_answer_with_a_strange_prompt_number_is_refused(prompt):
    from examsys.bank.types import ResponseError, get_type

    matching = get_type("matching")
    payload = {"pairs": [{"id": "a", "prompt": {"en": "p"}, "match": {"en": "m"}},
                         {"id": "b", "prompt": {"en": "q"}, "match": {"en": "n"}}],
               "distractors": [], "stem": {"en": "s"}}
    order = [["a", "b"], ["a", "b"]]
    with pytest.raises(ResponseError):
        matching.parse(payload, order, {prompt: "A"})


def test_the_candidates_certificate_list_waits_for_the_release(app, examiner, bank,
                                                               candidate):
    from examsys.exams import scheduling

    from .conftest import login_page
    from .exam_support import sit

    es = make_session(examiner, release="manual")
    enroll(es, candidate)
    attempt = sit(es, candidate)
    assert attempt.passed
    client = app.test_client()
    login_page(client, candidate.email)
    # No serial on the page (a random CSRF token may hold the letters "LB-" itself).
    serial = re.compile(r"(?<![\w.-])LB-[A-Z0-9]{4}(?:-[A-Z0-9]{4})+(?![\w.-])")
    assert serial.search(client.get("/certificates/").get_data(as_text=True)) is None
    scheduling.release_results(db.session, utcnow(), es, examiner.id)
    db.session.commit()
    after = client.get("/certificates/").get_data(as_text=True)
    assert serial.search(after).group(0) == attempt_serial(attempt.id)


def attempt_serial(attempt_id: int) -> str:
    from sqlalchemy import select

    from examsys.certs.models import Certificate

    return db.session.scalar(select(Certificate.serial).where(
        Certificate.attempt_id == attempt_id))


def test_text_longer_than_its_column_is_refused_with_a_message(app, examiner, bank,
                                                                client):
    """PostgreSQL refuses an over-long value with an error (a 500); SQLite stored it.
    Both now answer 422 naming the limit, and nothing is written."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from examsys.accounts.models import User
    from examsys.exams.models import ExamSession

    from .conftest import csrf_from, login_page

    api = Api(app.test_client())
    api.login(examiner.email)
    now = utcnow()
    window = {"certification": "TEST-CERT", "opens_at": now.isoformat(),
              "closes_at": (now + timedelta(hours=2)).isoformat()}
    long_title = api.post("/api/v1/exam-sessions", json=dict(window, title="长" * 201))
    assert long_title.status_code == 422, long_title.get_data(as_text=True)
    assert "200" in long_title.get_json()["error"]["message"]
    assert db.session.scalar(select(func.count(ExamSession.id))) == 0

    es = make_session(examiner)
    users = db.session.scalar(select(func.count(User.id)))
    long_name = api.post(f"/api/v1/exam-sessions/{es.id}/enrollments", json={
        "candidates": [{"email": "ok@example.com", "name": "Fine"},
                       {"email": "long@example.com", "name": "名" * 201}]})
    assert long_name.status_code == 422
    assert long_name.get_json()["error"]["code"] == "invalid_enrollment"
    assert any("long@example.com" in p for p in long_name.get_json()["error"]["details"])
    assert db.session.scalar(select(func.count(User.id))) == users  # nobody, not one of two

    login_page(client, examiner.email)
    page = client.get(f"/staff/sessions/{es.id}")
    csv_body = "email,name\nok@example.com,Fine\nlong@example.com," + "名" * 201 + "\n"
    upload = client.post(f"/staff/sessions/{es.id}/enroll-csv", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "file": (__import__("io").BytesIO(csv_body.encode()), "people.csv")})
    assert upload.status_code in (400, 422)
    assert "Line 3: " in upload.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == users


def test_an_unexpected_error_answers_in_the_readers_language(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.route("/broken")
    def broken():
        raise RuntimeError("a bug")

    client = app.test_client()
    page = client.get("/broken", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 500
    assert "服务器出错" in page.get_data(as_text=True)
    api = client.get("/broken", headers={"Accept": "application/json"})
    assert api.status_code == 500
