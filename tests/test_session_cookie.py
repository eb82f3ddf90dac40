"""The session cookie is opened from memory when this process verified it before
(``core.cookies``): the same contents as Flask's own interface, never shared between
requests, and never past the cookie's age or a change of keys."""

import time

from flask.sessions import SecureCookieSessionInterface

from examsys.core.cookies import RememberingSessionInterface


def signed(app, data: dict) -> str:
    return SecureCookieSessionInterface().get_signing_serializer(app).dumps(data)


def open_with(app, cookie: str, interface=None):
    """The session ``interface`` (by default the app's) opens for a request with ``cookie``."""
    name = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context("/", headers={"Cookie": f"{name}={cookie}"}) as ctx:
        return (interface or app.session_interface).open_session(app, ctx.request)


def test_a_remembered_cookie_opens_as_flask_opens_it(app):
    assert isinstance(app.session_interface, RememberingSessionInterface)
    cookie = signed(app, {"_user_id": "token-1", "_fresh": True, "csrf_token": "abc"})
    first, again = open_with(app, cookie), open_with(app, cookie)
    expected = dict(open_with(app, cookie, SecureCookieSessionInterface()))
    assert dict(first) == dict(again) == expected
    assert cookie in app.session_interface._verified


def test_one_request_changing_its_session_leaves_the_next_one_alone(app):
    cookie = signed(app, {"_user_id": "token-1", "locale": "en"})
    opened = open_with(app, cookie)
    opened["locale"] = "zh_CN"
    opened["_user_id"] = "someone else"
    assert dict(open_with(app, cookie)) == {"_user_id": "token-1", "locale": "en"}


def test_contents_that_could_change_in_place_are_not_remembered(app):
    cookie = signed(app, {"_user_id": "t", "_flashes": [["message", "Saved."]]})
    open_with(app, cookie)["_flashes"].append(["message", "changed in place"])
    assert open_with(app, cookie)["_flashes"] == [["message", "Saved."]]
    assert cookie not in app.session_interface._verified


def test_a_forged_cookie_opens_empty_and_is_not_remembered(app):
    cookie = signed(app, {"_user_id": "token-1"})
    forged = cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]
    assert dict(open_with(app, forged)) == {}
    assert forged not in app.session_interface._verified


def test_a_remembered_cookie_expires_with_its_age(make_app):
    app = make_app(PERMANENT_SESSION_LIFETIME=1)
    cookie = signed(app, {"_user_id": "token-1"})
    assert dict(open_with(app, cookie)) == {"_user_id": "token-1"}
    time.sleep(2.1)
    assert dict(open_with(app, cookie)) == {}


def test_a_new_key_without_the_old_one_as_fallback_refuses_a_remembered_cookie(make_app):
    app = make_app(SECRET_KEY="first key")
    cookie = signed(app, {"_user_id": "token-1"})
    assert dict(open_with(app, cookie)) == {"_user_id": "token-1"}
    app.secret_key = "second key"
    assert dict(open_with(app, cookie)) == {}
    app.config["SECRET_KEY_FALLBACKS"] = ["first key"]
    assert dict(open_with(app, cookie)) == {"_user_id": "token-1"}
