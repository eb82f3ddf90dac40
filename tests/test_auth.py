"""Logging in and out, CSRF, password hashing, secrets, set-password links, rate limits."""

import pytest
from flask import Flask
from werkzeug.security import generate_password_hash

from examsys import config
from examsys.accounts import services
from examsys.accounts.models import LoginSession, User
from examsys.extensions import db

from .conftest import PASSWORD, Api, csrf_from, login_page


def test_login_with_wrong_password_rerenders_the_form_with_a_message(client, candidate):
    response = login_page(client, candidate.email, "wrong password!")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "The email or password is not right." in body
    assert f'value="{candidate.email}"' in body  # what was typed is kept


def test_login_then_logout_ends_the_session_for_every_copy_of_the_cookie(app, candidate):
    client = app.test_client()
    assert login_page(client, candidate.email).status_code == 302
    assert client.get("/dashboard").status_code == 200
    stolen = client.get_cookie("examsys_session", domain="exams.test").value
    page = client.get("/dashboard").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    assert db.session.query(LoginSession).one().ended_at is not None
    replay = app.test_client()
    replay.set_cookie("examsys_session", stolen, domain="exams.test")
    response = replay.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_follows_next_within_the_site(client, candidate):
    response = login_page(client, candidate.email, next_url="/certificates/?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/certificates/?page=2"


@pytest.mark.parametrize("target", [
    "//evil.example", "/\t/evil.example",
    "/\\evil.example", "/\n/evil.example", "https://evil.example/", "evil.example",
    "/\x7f/evil.example"])
def test_login_never_redirects_off_site(client, candidate, target):
    # A browser drops tabs and newlines from a Location and reads "\\" as "/": each of
    # these would be "//evil.example" to it, another site right after a genuine login.
    response = login_page(client, candidate.email, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_a_failed_login_costs_one_password_check_whoever_it_names(app, candidate,
                                                                   monkeypatch):
    """An unknown email, an account with no password yet and a wrong password each run
    one scrypt check (none two, none zero), so the time taken does not tell them apart."""
    pending = User(email="pending@example.com", name="Pending", role="candidate",
                   password_hash=services.UNUSABLE_PASSWORD, created_at=candidate.created_at)
    db.session.add(pending)
    db.session.commit()
    checked, hashed = [], []
    real_check, real_generate = services.check_password_hash, services.generate_password_hash
    monkeypatch.setattr(services, "check_password_hash",
                        lambda h, p: checked.append(h) or real_check(h, p))
    monkeypatch.setattr(services, "generate_password_hash",
                        lambda p, **kw: hashed.append(p) or real_generate(p, **kw))
    services._DUMMY_HASH.clear()
    method = app.config["PASSWORD_HASH_METHOD"].split(":")[0]
    client = app.test_client()
    for email in ["nobody@example.com", "nobody@example.com", pending.email, candidate.email]:
        checked.clear()
        assert client.post("/api/v1/auth/login", json={
            "email": email, "password": "wrong password"}).status_code == 401
        # One check, against a real hash of the configured kind (a marker is no work).
        assert [h.split(":")[0].split("$")[0] for h in checked] == [method], email
    assert len(hashed) == 1  # the stand-in hash is made once, not per attempt


def test_form_post_without_csrf_token_is_refused(client, candidate):
    response = client.post("/login", data={"email": candidate.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_api_write_without_csrf_header_is_refused_with_the_error_shape(app, candidate,
                                                                       enrolled):
    api = Api(app.test_client())
    api.login(candidate.email)
    response = api.client.post(f"/api/v1/exam-sessions/{enrolled.id}/attempts", json={})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_the_csrf_header_is_validated_not_just_present(app, candidate, enrolled):
    """The header is read first (the API's way): a forged token there is refused, the real
    one accepted."""
    api = Api(app.test_client())
    api.login(candidate.email)
    url = f"/api/v1/exam-sessions/{enrolled.id}/attempts"
    forged = api.client.post(url, json={}, headers={"X-CSRFToken": api.token[:-2] + "xx"})
    assert forged.status_code == 400
    assert forged.get_json()["error"]["code"] == "csrf_failed"
    assert api.post(url, json={}).status_code == 201


def test_api_login_errors(app, candidate):
    client = app.test_client()
    bad = client.post("/api/v1/auth/login", json={"email": candidate.email, "password": "x"})
    assert bad.status_code == 401
    assert bad.get_json() == {"error": {"code": "bad_credentials",
                                        "message": "The email or password is not right."}}
    not_json = client.post("/api/v1/auth/login", data="email=x")
    assert not_json.status_code == 415
    assert not_json.get_json()["error"]["code"] == "unsupported_media_type"
    missing = client.post("/api/v1/auth/login", json={"email": candidate.email})
    assert missing.status_code == 422


def test_api_logout_ends_the_login(app, candidate):
    api = Api(app.test_client())
    api.login(candidate.email)
    assert api.get("/api/v1/auth/me").status_code == 200
    assert api.post("/api/v1/auth/logout").status_code == 200
    assert api.get("/api/v1/auth/me").status_code == 401


def test_passwords_are_hashed_with_scrypt_n_2_17_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv("EXAMSYS_PASSWORD_HASH", raising=False)
    app = Flask("probe", instance_path=str(tmp_path))
    config.load(app)
    method = app.config["PASSWORD_HASH_METHOD"]
    n = int(method.split(":")[1])
    assert method.startswith("scrypt:") and n >= 2**17
    assert generate_password_hash("x", method=method).startswith(f"scrypt:{n}:")


def test_stored_password_is_a_hash_not_the_password(candidate):
    stored = db.session.get(User, candidate.id).password_hash
    assert PASSWORD not in stored and stored.startswith("scrypt:")


def test_secret_key_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "old-one, older-one")
    app = Flask("probe", instance_path=str(tmp_path))
    config.load(app)
    assert app.secret_key == "from-the-environment"
    assert app.config["SECRET_KEY_FALLBACKS"] == ["old-one", "older-one"]
    assert not (tmp_path / "secret_key").exists()


def test_without_environment_a_private_key_is_generated_once(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first, second = Flask("a", instance_path=str(tmp_path)), Flask("b",
                                                                    instance_path=str(tmp_path))
    config.load(first)
    config.load(second)
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_served_app_is_not_in_debug_mode(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    from wsgi import app as served

    assert served.debug is False


def test_login_is_rate_limited(make_app, candidate):
    app = make_app(LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [client.post("/api/v1/auth/login",
                         json={"email": candidate.email, "password": "wrong"}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    last = client.post("/api/v1/auth/login", json={"email": candidate.email,
                                                   "password": PASSWORD})
    assert last.get_json()["error"]["code"] == "rate_limited"


def test_enrollment_creates_an_account_whose_set_password_link_works_once(app, examiner,
                                                                          open_session):
    api = Api(app.test_client())
    api.login(examiner.email)
    response = api.post(f"/api/v1/exam-sessions/{open_session.id}/enrollments",
                        json={"candidates": [{"email": "new@example.com", "name": "新人"}]})
    assert response.status_code == 200
    url = response.get_json()["created_accounts"][0]["setup_url"]
    path = url.split("exams.test", 1)[1]
    newcomer = app.test_client()
    assert Api(newcomer).login("new@example.com", "anything at all").status_code == 401
    page = newcomer.get(path)
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    short = newcomer.post(path, data={"csrf_token": token, "password": "short",
                                      "confirm": "short"})
    assert short.status_code == 400
    done = newcomer.post(path, data={"csrf_token": token, "password": "a long new password",
                                     "confirm": "a long new password"})
    assert done.status_code == 302
    assert Api(app.test_client()).login("new@example.com",
                                        "a long new password").status_code == 200
    assert app.test_client().get(path).status_code == 400  # the link is spent


def test_oversized_request_gets_413_in_the_api_shape(app, examiner):
    api = Api(app.test_client())
    api.login(examiner.email)
    response = api.post("/api/v1/exam-sessions", data=b"x" * (9 * 1024 * 1024),
                        content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
