"""The whole certification story through HTTP: the administrator loads the bank, an examiner
schedules, the candidate sits and passes, the certificate verifies, tampering fails."""

from datetime import UTC, datetime, timedelta

from examsys.accounts.models import Role
from examsys.bank.types import get_type
from examsys.core.clock import iso
from examsys.exams.models import AttemptItem
from examsys.extensions import db

from .conftest import MINI_BANK, Api, add_user, csrf_from, login_page


def correct_response(item_row: AttemptItem):
    """The right answer to one drawn item, in the form the candidate sends."""
    qtype = get_type(item_row.version.type)
    return qtype.display(item_row.option_order, qtype.key(item_row.version.payload))


def test_examiner_to_employer(app, examiner, candidate):
    # The certification body's administrator loads the reviewed bank (an examiner's
    # import would send it to review first: test_bank_import_review.py).
    owner = add_user(Role.ADMIN, "bank-owner@example.com.cn")
    staff = app.test_client()
    assert login_page(staff, owner.email).status_code == 302
    page = staff.get("/bank/import")
    upload = staff.post("/bank/import", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "file": (MINI_BANK.open("rb"), "mini_bank.yaml")}, content_type="multipart/form-data")
    assert upload.status_code == 200, upload.get_data(as_text=True)
    assert "24" in upload.get_data(as_text=True)

    examiner_api = Api(app.test_client())
    assert examiner_api.login(examiner.email).status_code == 200
    now = datetime.now(UTC)
    created = examiner_api.post("/api/v1/exam-sessions", json={
        "certification": "TEST-CERT", "opens_at": iso(now - timedelta(minutes=5)),
        "closes_at": iso(now + timedelta(hours=2)), "access_code": "LIB2026",
        "release": "immediate"})
    assert created.status_code == 201, created.get_json()
    session_id = created.get_json()["id"]
    enrolled = examiner_api.post(f"/api/v1/exam-sessions/{session_id}/enrollments",
                                 json={"emails": [candidate.email]})
    assert enrolled.get_json()["enrolled"] == [candidate.email]

    sitter = Api(app.test_client())
    sitter.login(candidate.email)
    assert [s["id"] for s in sitter.get("/api/v1/exam-sessions").get_json()["sessions"]] == [
        session_id]
    wrong_code = sitter.post(f"/api/v1/exam-sessions/{session_id}/attempts",
                             json={"access_code": "NOPE"})
    assert wrong_code.status_code == 403
    started = sitter.post(f"/api/v1/exam-sessions/{session_id}/attempts",
                          json={"access_code": "lib2026"})
    assert started.status_code == 201
    form = started.get_json()
    assert len(form["items"]) == 8
    assert "correct" not in started.get_data(as_text=True)
    attempt_id = form["attempt_id"]

    rows = db.session.query(AttemptItem).filter_by(attempt_id=attempt_id).all()
    for seq, row in enumerate(sorted(rows, key=lambda r: r.position), start=1):
        saved = sitter.put(f"/api/v1/attempts/{attempt_id}/items/{row.position}",
                           json={"response": correct_response(row), "seq": seq})
        assert saved.status_code == 200, saved.get_json()

    resumed = sitter.post(f"/api/v1/exam-sessions/{session_id}/attempts", json={})
    assert resumed.status_code == 200
    assert resumed.get_json()["attempt_id"] == attempt_id
    assert all(i["response"] is not None for i in resumed.get_json()["items"])

    first = sitter.post(f"/api/v1/attempts/{attempt_id}/submit")
    second = sitter.post(f"/api/v1/attempts/{attempt_id}/submit")
    assert first.status_code == second.status_code == 200
    result = first.get_json()["result"]
    assert result["passed"] is True and result["percent"] == 100.0
    assert second.get_json()["result"] == result
    token = result["certificate"]["verify_token"]

    employer = app.test_client()
    page = employer.get(f"/verify/{token}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'data-status="valid"' in body and "张伟" in body
    verdict = employer.get("/api/v1/certificates/verify", query_string={"token": token})
    assert verdict.get_json()["status"] == "valid"
    assert verdict.get_json()["certificate"]["holder_name"] == "张伟"

    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert employer.get("/api/v1/certificates/verify",
                        query_string={"token": tampered}).get_json()["status"] == "invalid"
    by_serial = employer.get("/api/v1/certificates/verify", query_string={
        "serial": result["certificate"]["serial"], "name": "张 伟"}).get_json()
    assert by_serial["status"] == "valid"


def test_candidate_cannot_read_other_attempt(app, enrolled, candidate):
    other = add_user(Role.CANDIDATE, "x@example.com", "X")
    owner = Api(app.test_client())
    owner.login(candidate.email)
    attempt_id = owner.post(f"/api/v1/exam-sessions/{enrolled.id}/attempts").get_json()[
        "attempt_id"]
    intruder = Api(app.test_client())
    intruder.login(other.email)
    assert intruder.get(f"/api/v1/attempts/{attempt_id}").status_code == 404
    assert intruder.put(f"/api/v1/attempts/{attempt_id}/items/1",
                        json={"response": None, "seq": 99}).status_code == 404
