"""The exam-day endpoints run a fixed number of SQL statements, however many items a form
has and however many candidates sit the session (no N+1 queries).

Statements are counted with a ``before_cursor_execute`` listener on the engine, per HTTP
request. Only counts are asserted, never times. Each endpoint also has a budget: a new
query on a hot path should be a decision, not an accident (raise the budget with a reason).
"""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event, func, select

from benchmarks import seed
from examsys.accounts.models import LoginSession, Role
from examsys.bank.types import get_type
from examsys.core.clock import utcnow
from examsys.exams import scheduling
from examsys.exams.assembly import pool_cache
from examsys.exams.models import Attempt, AttemptItem
from examsys.extensions import db

from .conftest import Api, add_user

SMALL, LARGE = "QC-SMALL", "QC-LARGE"
FORMS = {SMALL: 8, LARGE: 40}
# Statements per request today plus a little room; see the module docstring.
BUDGET = {"start": 14, "save": 5, "get": 8, "submit": 20, "examiner_get": 10,
          "verify_token": 3, "verify_serial": 3, "verify_page": 4}


@contextmanager
def counting():
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def forms_bank(app):
    seed.load_bank(db.session, utcnow(), questions=160, forms=FORMS)


def right_answer(row: AttemptItem):
    qtype = get_type(row.version.type)
    return qtype.display(row.option_order, qtype.key(row.version.payload))


def open_session(code: str, examiner, emails: list[str]):
    now = utcnow()
    es = scheduling.create_session(db.session, now, certification_code=code,
                                   opens_at=now - timedelta(hours=1),
                                   closes_at=now + timedelta(hours=3), access_code=None,
                                   release="immediate", title=code, actor_id=examiner.id)
    scheduling.enroll(db.session, now, es, [scheduling.EnrollRow(e) for e in emails], None)
    db.session.commit()
    return es


def sit(app, email: str, session_id: int, answer_all: bool = True) -> dict:
    """One candidate's exam through the API; returns the statements of each hot request."""
    api = Api(app.test_client())
    assert api.login(email).status_code == 200
    counts: dict[str, int] = {}

    def measured(name, call):
        db.session.commit()  # nothing of the test's own pending work is counted
        with counting() as statements:
            response = call()
        counts[name] = len(statements)
        assert response.status_code in (200, 201), (name, response.get_json())
        return response

    # Counted cold: the first start after a bank change also reads the pools (cached
    # afterwards, see test_pool_cache), which is the most a start costs.
    pool_cache().clear()
    started = measured("start", lambda: api.post(
        f"/api/v1/exam-sessions/{session_id}/attempts", json={}))
    attempt_id = started.get_json()["attempt_id"]
    rows = db.session.scalars(select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)
                              .order_by(AttemptItem.position)).all()
    for seq, row in enumerate(rows if answer_all else rows[:1], start=1):
        url = f"/api/v1/attempts/{attempt_id}/items/{row.position}"
        body = {"response": right_answer(row), "seq": seq}
        if seq == 2:
            measured("save", lambda u=url, b=body: api.put(u, json=b))
        else:
            assert api.put(url, json=body).status_code == 200
    measured("get", lambda: api.get(f"/api/v1/attempts/{attempt_id}"))
    submitted = measured("submit", lambda: api.post(f"/api/v1/attempts/{attempt_id}/submit"))
    counts["attempt_id"] = attempt_id
    counts["result"] = submitted.get_json()["result"]
    return counts


def verify_counts(app, result: dict, holder_name: str) -> dict:
    employer = app.test_client()
    token, serial = result["certificate"]["verify_token"], result["certificate"]["serial"]
    counts = {}
    for name, url in (("verify_token", f"/api/v1/certificates/verify?token={token}"),
                      ("verify_serial",
                       f"/api/v1/certificates/verify?serial={serial}&name={holder_name}"),
                      ("verify_page", f"/verify/{token}")):
        db.session.commit()
        with counting() as statements:
            response = employer.get(url)
        assert response.status_code == 200, (name, response.get_data(as_text=True)[:300])
        counts[name] = len(statements)
    return counts


def examiner_get_count(app, examiner, attempt_id: int) -> int:
    api = Api(app.test_client())
    assert api.login(examiner.email).status_code == 200
    db.session.commit()
    with counting() as statements:
        assert api.get(f"/api/v1/attempts/{attempt_id}").status_code == 200
    return len(statements)


def scenario(app, examiner, code: str, others: int, tag: str) -> dict:
    """A session of ``code`` where ``others`` candidates sit before the measured one."""
    emails = [f"{tag}-{i}@example.com" for i in range(others + 1)]
    for i, email in enumerate(emails):
        add_user(Role.CANDIDATE, email, f"Candidate {tag} {i}")
    es = open_session(code, examiner, emails)
    for email in emails[1:]:
        sit(app, email, es.id, answer_all=False)
    counts = sit(app, emails[0], es.id)
    assert counts["result"]["passed"] is True
    counts.update(verify_counts(app, counts["result"], f"Candidate {tag} 0"))
    counts["examiner_get"] = examiner_get_count(app, examiner, counts["attempt_id"])
    return {k: v for k, v in counts.items() if k in BUDGET}


def test_hot_endpoints_run_the_same_queries_for_8_and_40_items(app, examiner, forms_bank):
    small = scenario(app, examiner, SMALL, others=1, tag="s")
    large = scenario(app, examiner, LARGE, others=1, tag="l")
    assert small == large


def test_start_runs_the_same_queries_for_8_and_40_items(app, examiner, forms_bank):
    small = scenario(app, examiner, SMALL, others=1, tag="s")
    large = scenario(app, examiner, LARGE, others=1, tag="l")
    assert small["start"] == large["start"]


def test_hot_endpoints_run_the_same_queries_for_1_and_6_candidates(app, examiner, forms_bank):
    few = scenario(app, examiner, SMALL, others=0, tag="f")
    many = scenario(app, examiner, SMALL, others=5, tag="m")
    assert few == many


def test_hot_endpoints_stay_within_their_query_budget(app, examiner, forms_bank):
    counts = scenario(app, examiner, SMALL, others=1, tag="b")
    over = {name: (n, BUDGET[name]) for name, n in counts.items() if n > BUDGET[name]}
    assert over == {}, f"statements per request (count, budget): {counts}"


def sitting(app, examiner, code: str, email: str):
    """A new candidate logged in through the API with an attempt started in a new session
    of ``code``: (client, attempt id)."""
    add_user(Role.CANDIDATE, email, email.split("@")[0])
    es = open_session(code, examiner, [email])
    api = Api(app.test_client())
    assert api.login(email).status_code == 200
    return api, api.post(f"/api/v1/exam-sessions/{es.id}/attempts", json={}).get_json()[
        "attempt_id"]


def test_the_pages_clock_reads_the_attempt_not_its_items(app, examiner, forms_bank):
    """Every candidate's page asks for the clock every 30 s: one row, not the form."""
    api, attempt_id = sitting(app, examiner, LARGE, "clock@example.com")
    db.session.commit()
    with counting() as statements:
        body = api.get(f"/api/v1/attempts/{attempt_id}/clock").get_json()
    assert body["state"] == "in_progress" and body["superseded"] is False
    assert body["deadline"] is not None
    assert [s for s in statements if "attempt_item" in s] == []
    # The login is checked in the same statement: no loading of the login and its user first
    # (SQLite's BEGIN is its transaction, not a read).
    assert len([s for s in statements if not s.startswith("BEGIN")]) == 1, statements

    # What that one statement checks: an examiner's login is refused (403), an ended login
    # is no login (401); each as the checked path answers it.
    staff = Api(app.test_client())
    assert staff.login(examiner.email).status_code == 200
    assert staff.get(f"/api/v1/attempts/{attempt_id}/clock").status_code == 403
    login = db.session.scalar(select(LoginSession).where(LoginSession.user_id == db.session.get(
        Attempt, attempt_id).candidate_id))
    login.ended_at = utcnow()
    db.session.commit()
    ended = api.get(f"/api/v1/attempts/{attempt_id}/clock")
    assert ended.status_code == 401
    login.ended_at = None
    db.session.commit()

    # Past the deadline and its grace, the clock closes the attempt as its page would.
    attempt = db.session.get(Attempt, attempt_id)
    end = attempt.deadline + timedelta(seconds=attempt.session.grace_seconds + 1)
    db.session.commit()
    with time_machine.travel(end, tick=False):
        body = api.get(f"/api/v1/attempts/{attempt_id}/clock").get_json()
    assert body["state"] != "in_progress"
    assert db.session.get(Attempt, attempt_id).state == body["state"]
    # Another candidate's attempt is not found.
    add_user(Role.CANDIDATE, "other-clock@example.com", "Other")
    other = Api(app.test_client())
    assert other.login("other-clock@example.com").status_code == 200
    assert other.get(f"/api/v1/attempts/{attempt_id}/clock").status_code == 404


def test_the_clock_answers_in_utc_whatever_the_servers_time_zone(app, examiner, forms_bank):
    """The driver's timestamps come in the database server's TimeZone (initdb takes the
    host's): the clock's one-statement read must answer in UTC with a Z, as every other
    answer does (a review found it answering +08:00)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server time zone")
    api, attempt_id = sitting(app, examiner, SMALL, "tz@example.com")
    page = api.get(f"/api/v1/attempts/{attempt_id}").get_json()

    def shanghai(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'Asia/Shanghai'")
        dbapi_connection.commit()

    db.session.commit()
    event.listen(db.engine, "connect", shanghai)
    db.engine.dispose()
    try:
        clock = api.get(f"/api/v1/attempts/{attempt_id}/clock").get_json()
        zone = db.session.execute(select(func.current_setting("TimeZone"))).scalar_one()
    finally:
        db.session.rollback()
        event.remove(db.engine, "connect", shanghai)
        db.engine.dispose()
    assert zone == "Asia/Shanghai"  # the clock's connection was one of these
    assert clock["deadline"] == page["deadline"] and clock["deadline"].endswith("Z")


def test_on_postgresql_a_form_is_written_and_scored_in_one_statement_each(app, examiner,
                                                                          forms_bank):
    # A statement per item (an executemany) is one event here but forty round trips and
    # forty statements for the server: the start copies the form in, the submit scores
    # every item in one UPDATE.
    if db.engine.dialect.name != "postgresql":
        pytest.skip("COPY and the one-statement score update are PostgreSQL's")
    sent = []

    def record(_conn, _cursor, statement, _parameters, _context, executemany):
        if statement.startswith(("COPY attempt_item", "INSERT INTO attempt_item",
                                 "UPDATE attempt_item")):
            sent.append((statement.split(" ")[0], executemany))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        scenario(app, examiner, LARGE, others=0, tag="w")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert sent == [("COPY", True), ("UPDATE", False)]
