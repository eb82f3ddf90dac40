"""Defects found in review: each keeps its test."""

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
    assert "LB-" not in client.get("/certificates/").get_data(as_text=True)
    scheduling.release_results(db.session, utcnow(), es, examiner.id)
    db.session.commit()
    assert attempt_serial(attempt.id) in client.get("/certificates/").get_data(as_text=True)


def attempt_serial(attempt_id: int) -> str:
    from sqlalchemy import select

    from examsys.certs.models import Certificate

    return db.session.scalar(select(Certificate.serial).where(
        Certificate.attempt_id == attempt_id))
