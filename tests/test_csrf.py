"""CSRF tokens remembered once verified (examsys.core.csrf): checked from memory, and still
refused in every case Flask-WTF refuses them."""

import pytest
from itsdangerous import TimestampSigner

from examsys.core import csrf as remembering
from examsys.core import verified
from examsys.core.verified import VerifiedValues
from examsys.extensions import csrf

from .conftest import Api


@pytest.fixture
def verifications(monkeypatch):
    """A fresh memory, and the tokens Flask-WTF verified from scratch, in order."""
    monkeypatch.setattr(csrf, "_verified", VerifiedValues())
    seen = []

    def counted(token):
        seen.append(token)
        return validate(token)

    validate = remembering.validate_csrf
    monkeypatch.setattr(remembering, "validate_csrf", counted)
    return seen


def _start_url(enrolled) -> str:
    return f"/api/v1/exam-sessions/{enrolled.id}/attempts"


def _refused(response) -> bool:
    return response.status_code == 400 and \
        response.get_json()["error"]["code"] == "csrf_failed"


def test_a_verified_token_is_checked_from_memory(app, candidate, enrolled, verifications):
    api = Api(app.test_client())
    api.login(candidate.email)
    assert api.post(_start_url(enrolled), json={}).status_code == 201
    assert api.post(_start_url(enrolled), json={}).status_code == 200  # resumed
    assert api.post(_start_url(enrolled), json={}).status_code == 200
    assert verifications == [api.token]


def test_a_remembered_token_is_refused_with_another_session(app, candidate, other_candidate,
                                                            enrolled, verifications):
    mine, theirs = Api(app.test_client()), Api(app.test_client())
    mine.login(candidate.email)
    theirs.login(other_candidate.email)
    assert mine.post(_start_url(enrolled), json={}).status_code == 201
    stolen = theirs.client.post(_start_url(enrolled), json={},
                                headers={"X-CSRFToken": mine.token})
    assert _refused(stolen)


def test_a_remembered_token_is_refused_with_another_key(app, candidate, enrolled,
                                                        verifications):
    api = Api(app.test_client())
    api.login(candidate.email)
    assert api.post(_start_url(enrolled), json={}).status_code == 201
    app.config["WTF_CSRF_SECRET_KEY"] = "another key, after a rotation"
    assert _refused(api.post(_start_url(enrolled), json={}))


def test_a_remembered_token_is_refused_once_its_time_is_up(app, candidate, enrolled,
                                                          verifications, monkeypatch):
    app.config["WTF_CSRF_TIME_LIMIT"] = 600
    api = Api(app.test_client())
    api.login(candidate.email)
    assert api.post(_start_url(enrolled), json={}).status_code == 201
    start = verified.now()

    def at(seconds_later: int) -> None:
        monkeypatch.setattr(verified, "now", lambda: start + seconds_later)
        monkeypatch.setattr(TimestampSigner, "get_timestamp",
                            lambda self: start + seconds_later)

    at(590)
    assert api.post(_start_url(enrolled), json={}).status_code == 200
    assert len(verifications) == 1  # from memory, in time
    at(611)
    assert _refused(api.post(_start_url(enrolled), json={}))
    assert len(verifications) == 2  # not from memory: Flask-WTF said why


def test_a_remembered_token_still_needs_a_referrer_from_this_host_over_https(
        app, candidate, enrolled, verifications):
    api = Api(app.test_client())
    api.login(candidate.email)
    url, https = _start_url(enrolled), "https://exams.test"
    assert api.client.post(url, json={}, base_url=https,
                           headers={"X-CSRFToken": api.token, "Referer": f"{https}/dashboard"}
                           ).status_code == 201
    assert _refused(api.client.post(url, json={}, base_url=https,
                                    headers={"X-CSRFToken": api.token}))
    assert _refused(api.client.post(url, json={}, base_url=https,
                                    headers={"X-CSRFToken": api.token,
                                             "Referer": "https://elsewhere.test/"}))
    assert verifications == [api.token]


def test_a_forged_token_is_never_remembered(app, candidate, enrolled, verifications):
    api = Api(app.test_client())
    api.login(candidate.email)
    forged = api.token[:-2] + ("xx" if not api.token.endswith("xx") else "yy")
    for _ in range(2):
        assert _refused(api.client.post(_start_url(enrolled), json={},
                                        headers={"X-CSRFToken": forged}))
    assert verifications == [forged, forged]
    assert forged not in csrf._verified


def test_a_list_of_keys_is_never_remembered_against(app, candidate, enrolled, verifications):
    """A list can change in place: a token checked against it is verified every time, so
    removing a key from the list refuses the tokens it signed."""
    keys = [app.secret_key]
    app.config["WTF_CSRF_SECRET_KEY"] = keys
    api = Api(app.test_client())
    api.login(candidate.email)
    assert api.post(_start_url(enrolled), json={}).status_code == 201
    assert api.post(_start_url(enrolled), json={}).status_code == 200
    assert len(verifications) == 2
    keys[:] = ["another key"]
    assert _refused(api.post(_start_url(enrolled), json={}))
