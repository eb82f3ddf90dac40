"""Every route names who may use it, and the check holds for every role."""

import re

import pytest

from examsys.accounts.models import Role

from .conftest import Api, add_user

ROLES = [Role.ADMIN, Role.EXAMINER, Role.CANDIDATE]


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        yield rule, view, methods


def test_every_route_declares_its_roles(app):
    undeclared = [rule.rule for rule, view, _ in routes(app)
                  if not hasattr(view, "allowed_roles")]
    assert undeclared == []


def url_for_rule(rule) -> str:
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{arg}>", "1" if "id" in arg or arg == "position" else "x",
                     url)
    return url


def call(client, method, url, token):
    return client.open(url, method=method, headers={"X-CSRFToken": token},
                       data={"csrf_token": token} if not url.startswith("/api/") else None,
                       json={} if url.startswith("/api/") and method != "GET" else None)


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda r: r.value if r else "anonymous")
def test_each_role_is_kept_out_of_routes_not_meant_for_it(app, role):
    client = app.test_client()
    if role is None:
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    else:
        user = add_user(role, f"{role.value}@example.com", role.value)
        api = Api(client)
        assert api.login(user.email).status_code == 200
        token = api.token
    checked = 0
    for rule, view, methods in routes(app):
        allowed = view.allowed_roles
        if allowed is None or (role is not None and role in allowed):
            continue
        for method in methods:
            response = call(client, method, url_for_rule(rule), token)
            checked += 1
            if role is None and rule.rule.startswith("/api/"):
                assert response.status_code == 401, (method, rule.rule)
                assert response.get_json()["error"]["code"] == "unauthenticated"
            elif role is None:
                assert response.status_code == 302, (method, rule.rule)
                assert "/login" in response.headers["Location"]
            else:
                assert response.status_code == 403, (method, rule.rule, response.status_code)
    assert checked > 5


def test_candidate_is_refused_examiner_pages_and_apis(app, candidate, enrolled):
    api = Api(app.test_client())
    api.login(candidate.email)
    assert api.get("/bank/").status_code == 403
    assert api.get(f"/staff/sessions/{enrolled.id}").status_code == 403
    assert api.post(f"/api/v1/exam-sessions/{enrolled.id}/enrollments",
                    json={"emails": [candidate.email]}).status_code == 403
    assert api.get("/api/v1/certifications").get_json()["error"]["code"] == "forbidden"


def test_examiner_cannot_sit_an_exam(app, examiner, enrolled):
    api = Api(app.test_client())
    api.login(examiner.email)
    response = api.post(f"/api/v1/exam-sessions/{enrolled.id}/attempts", json={})
    assert response.status_code == 403


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda r: r.value if r else "anonymous")
def test_a_number_beyond_any_row_is_not_found_for_everyone(app, role):
    """An id (or a position) is a four-byte integer: a larger number matches no route
    (404) for every role, instead of reaching a statement that fails (a 500, before the
    role check of the views that check the login in their one read)."""
    huge = 2**31
    api = Api(app.test_client())
    if role is not None:
        assert api.login(add_user(role, f"{role.value}@example.com", role.value).email) \
            .status_code == 200
    assert api.get(f"/api/v1/attempts/{huge}/clock").status_code == 404
    assert api.put(f"/api/v1/attempts/{huge}/items/1",
                   json={"response": None, "seq": 1}).status_code == 404
    assert api.put(f"/api/v1/attempts/1/items/{huge}",
                   json={"response": None, "seq": 1}).status_code == 404
    assert api.get(f"/api/v1/attempts/{huge - 1}/clock").status_code in (401, 403, 404)
