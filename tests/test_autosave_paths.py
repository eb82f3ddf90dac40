"""Autosave's two paths: the plain one (PostgreSQL: one statement that checks the login
and the attempt and writes, after a read of the form's facts on an attempt's first save
in a worker; SQLite: one locking read that also checks the login, one write) and the
checked one, where every rule lives. The plain path must write exactly what the checked
path writes, and hand every case it does not cover to the checked path having written
nothing."""

import gc
import logging
from datetime import timedelta

import pytest
from sqlalchemy import column, create_engine, func, null, select, table, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from examsys.accounts.services import end_login_session, open_login_session
from examsys.certs import public
from examsys.core import driver
from examsys.core.clock import utcnow
from examsys.core.database import configure_engine
from examsys.core.errors import Invalid
from examsys.exams import delivery, form_cache
from examsys.exams.models import Attempt, AttemptItem, AttemptState, ResponseEvent
from examsys.extensions import db

from .conftest import Api, statements_run
from .exam_support import (
    correct_response,
    enroll,
    import_bank,
    make_session,
    set_blueprint_options,
    start_through_api,
)

IP, UA = "10.1.2.3", "Exam browser"


def start_from_one_login(session_id: int, candidate) -> tuple[int, str]:
    """A running attempt opened from one login, address and browser: (attempt, login)."""
    login = open_login_session(db.session, utcnow(), candidate, IP, UA)
    db.session.commit()
    attempt, _ = delivery.start_or_resume(db.session, utcnow(), session_id, candidate.id,
                                          ip=IP, user_agent=UA, login_session_id=login.id)
    db.session.commit()
    return attempt.id, login.id


@pytest.fixture
def sitting(app, enrolled, candidate):
    return start_from_one_login(enrolled.id, candidate)


def item(attempt_id: int, position: int) -> AttemptItem:
    return db.session.scalar(select(AttemptItem).where(AttemptItem.attempt_id == attempt_id,
                                                       AttemptItem.position == position))


def events() -> int:
    return db.session.scalar(select(func.count(ResponseEvent.id)))


@pytest.fixture(params=["session", "engine"])
def bind(request, app):
    """Where the plain path runs: in the caller's transaction (a Session) or, on PostgreSQL,
    on a connection of its own in autocommit (an Engine: the API's way there)."""
    if request.param == "session":
        return db.session
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite saves in the session's transaction (plain_save_bind)")
    return db.engine


@pytest.fixture(params=["warm", "cold"])
def forms(request, app):
    """PostgreSQL's plain path with the attempt's form facts cached from an earlier save
    (warm) or read again in the same request (cold: a worker's first save of it)."""
    if request.param == "cold" and db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads every item's facts with its checks")
    return request.param


def forget_forms() -> None:
    form_cache.for_engine(db.engine).clear()


def plain(attempt_id, token, position=1, seq=1, response=None, *, now=None, ip=IP, ua=UA,
          bind=None):
    return delivery.plain_save(db.session if bind is None else bind, now or utcnow(),
                               attempt_id, position, response, seq, token, ip, ua)


def stored(attempt_id: int, position: int) -> tuple:
    db.session.expire_all()
    it = item(attempt_id, position)
    event = db.session.scalar(select(ResponseEvent).where(ResponseEvent.attempt_item_id == it.id)
                              .order_by(ResponseEvent.id.desc()).limit(1))
    return (it.response, it.last_seq, it.saved_at, event.seq, event.response, event.saved_at,
            event.login_session_id)


def test_plain_path_writes_what_the_checked_path_writes(app, sitting, candidate, bind):
    attempt_id, token = sitting
    now = utcnow()
    answers = {p: correct_response(item(attempt_id, p)) for p in (1, 2)}
    db.session.commit()
    saved = plain(attempt_id, token, 1, 5, answers[1], now=now, bind=bind)
    checked = delivery.save_response(db.session, now, attempt_id, candidate.id, 2, answers[2],
                                     5, token, ip=IP, user_agent=UA)
    db.session.commit()
    assert saved == delivery.Saved(1, 5, now, checked.deadline)
    assert checked == delivery.Saved(2, 5, now, checked.deadline)
    first, second = stored(attempt_id, 1), stored(attempt_id, 2)
    assert first[1:4] == second[1:4] == (5, now, 5)
    assert first[6] == second[6] == token
    # Both canonicalised the same way (the stored answer equals the type's parse of it).
    assert first[0] == first[4] and second[0] == second[4]


def test_plain_path_refreshes_an_item_already_loaded_in_the_transaction(app, sitting):
    attempt_id, token = sitting
    loaded = item(attempt_id, 1)
    assert loaded.last_seq == 0
    answer = correct_response(loaded)
    assert plain(attempt_id, token, 1, 1, answer) is not None
    assert loaded.last_seq == 1 and loaded.response is not None


def ended_login(attempt_id, token, candidate):
    end_login_session(db.session, utcnow(), token)
    db.session.commit()


def inactive_user(attempt_id, token, candidate):
    candidate.active = False
    db.session.commit()


def closed_attempt(attempt_id, token, candidate):
    delivery.submit(db.session, utcnow(), attempt_id, candidate.id)
    db.session.commit()


def other_device(attempt_id, token, candidate):
    db.session.get(Attempt, attempt_id).device_session_id = "another-login"
    db.session.commit()


def exam_centre_only(attempt_id, token, candidate):
    db.session.get(Attempt, attempt_id).session.allowed_networks = ["192.168.8.0/24",
                                                                    "2001:db8::/32"]
    db.session.commit()


def sequential_elsewhere(attempt_id, token, candidate):
    attempt = db.session.get(Attempt, attempt_id)
    attempt.session.blueprint.sequential = True
    attempt.current_position = 1
    db.session.commit()


CASES = {
    "no cookie": ({"token": None}, None),
    "unknown login": ({"token": "no-such-login"}, None),
    "ended login": ({}, ended_login),
    "inactive user": ({}, inactive_user),
    "closed attempt": ({}, closed_attempt),
    "another device holds it": ({}, other_device),
    "past deadline and grace": ({"later": timedelta(hours=5)}, None),
    "new address": ({"ip": "10.9.9.9"}, None),
    "new browser": ({"ua": "Another browser"}, None),
    "stale seq": ({"seq": 0}, None),  # after a first save with seq 1, below
    "no such item": ({"position": 999}, None),
    "outside the exam centre's network": ({}, exam_centre_only),
    "not an address, exam centre's network": ({"ip": "not-an-address"}, exam_centre_only),
    "sequential, another item": ({}, sequential_elsewhere),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_other_case_goes_to_the_checked_path_having_written_nothing(app, sitting,
                                                                        candidate, case, bind,
                                                                        forms):
    attempt_id, token = sitting
    assert plain(attempt_id, token, 2, 1, None, bind=bind) is not None  # a first save
    db.session.commit()
    change, prepare = CASES[case]
    if prepare:
        prepare(attempt_id, token, candidate)
    if forms == "cold":
        forget_forms()
    before = events()
    db.session.commit()  # SQLite: the session's read holds the write lock until then
    result = plain(attempt_id, change.get("token", token), change.get("position", 2),
                   change.get("seq", 2) or 1, None,
                   now=utcnow() + change.get("later", timedelta()),
                   ip=change.get("ip", IP), ua=change.get("ua", UA), bind=bind)
    assert result is None
    assert events() == before
    assert item(attempt_id, 2).last_seq == 1


@pytest.mark.parametrize("networks", [["10.1.0.0/16"], ["2001:db8::/32", "10.1.2.3/32"]])
def test_inside_the_exam_centres_network_is_saved_plainly(app, sitting, candidate, bind, forms,
                                                          networks):
    attempt_id, token = sitting
    db.session.get(Attempt, attempt_id).session.allowed_networks = networks
    db.session.commit()
    if forms == "cold":
        forget_forms()
    assert plain(attempt_id, token, 1, 1, None, bind=bind) is not None
    db.session.commit()
    assert events() == 1


def test_another_candidates_attempt_is_not_saved_plainly(app, sitting, other_candidate, bind):
    attempt_id, _token = sitting
    theirs = open_login_session(db.session, utcnow(), other_candidate, IP, UA)
    db.session.commit()
    assert plain(attempt_id, theirs.id, bind=bind) is None
    assert events() == 0
    # Nor are its items' facts kept for that login (PostgreSQL's cache of forms).
    assert form_cache.for_engine(db.engine).get(attempt_id, theirs.id) is None


def test_another_login_learns_nothing_from_a_cached_form(app, sitting, other_candidate):
    """The owner's form is in the cache; another candidate's save sends the same statements
    whether or not its answer would fit the owner's items (it is not served the form), so
    the time it takes tells nothing about them."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps no forms")
    attempt_id, token = sitting
    answer = correct_response(item(attempt_id, 1))
    db.session.commit()
    assert plain(attempt_id, token, 1, 1, answer, bind=db.engine) is not None
    theirs = open_login_session(db.session, utcnow(), other_candidate, IP, UA).id
    db.session.commit()
    sent = {}
    for name, response in (("fits", answer), ("does not fit", {"no": "such answer"})):
        with statements_run() as seen:
            assert plain(attempt_id, theirs, 1, 2, response, bind=db.engine) is None
        sent[name] = [verb for verb, _ in seen if verb != "SELECT 1"]
    assert sent["fits"] == sent["does not fit"] == ["SELECT"]  # the ownership read only
    assert events() == 1


def test_form_cache_keeps_the_most_recently_used_forms_for_their_logins():
    cache = form_cache.FormCache(2)
    items = {1: form_cache.facts(7, "true_false", None, None)}
    first = cache.put(1, "owner", 11, items)
    assert first.item(1) == form_cache.ItemFacts(7, "true_false", None, None)
    assert first.item(2) is None
    cache.put(2, "other", 12, {})
    assert cache.get(1, "owner") is first  # 1 is now the most recent
    assert cache.get(1, "other") is None  # a login that has not read it is not served
    cache.put(3, "third", 13, {})
    assert cache.get(2, "other") is None and cache.get(1, "owner").items is items
    assert len(cache) == 2
    # The owner again, from a new login: both are served; a new seed starts afresh.
    assert cache.put(1, "owner again", 11, items).logins == {"owner", "owner again"}
    assert cache.put(1, "restored", 99, {}).logins == {"restored"}


def test_a_cached_form_leaves_the_garbage_collector_nothing_to_walk():
    """A worker keeps a hundred items for each of a thousand candidates: once they have
    aged through the generations (a nested tuple is let go one collection after what it
    holds) none is tracked, so full collections do not grow with the cache."""
    items = {p: form_cache.facts(p, "single_choice", [3, 1, [2, 0]], None) for p in (1, 2)}
    items[3] = form_cache.facts(3, "numeric_unit", None, {"units": ["V", "mV"]})
    for _generation in range(3):
        gc.collect()
    assert not any(gc.is_tracked(items[p]) for p in (1, 2))
    assert not gc.is_tracked(items[1][2])  # the option order, frozen
    assert gc.is_tracked(items[3])  # a payload is a dict: only the types that read it


def test_an_attempt_keeps_its_forms_facts_from_its_start(app, sitting):
    """PostgreSQL writes what the autosave needs of each item once, at the start (one row
    to read at each worker's first save instead of the hundred items); an attempt started
    before that was kept is read from its items."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps no forms")
    attempt_id, token = sitting
    kept = db.session.scalar(select(Attempt.form_facts).where(Attempt.id == attempt_id))
    items = db.session.scalars(select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)
                               .order_by(AttemptItem.position)).all()
    assert len(kept) == len(items) > 1
    assert {f[0]: (f[1], f[2], f[3]) for f in kept} == {
        i.position: (i.id, i.version.type, i.option_order) for i in items}
    forget_forms()
    assert plain(attempt_id, token, 1, 1, None, bind=db.engine) is not None

    db.session.execute(update(Attempt).where(Attempt.id == attempt_id)
                       .values(form_facts=null()))
    db.session.commit()
    forget_forms()
    assert plain(attempt_id, token, 2, 2, None, bind=db.engine) is not None
    assert events() == 2


def test_a_cached_form_of_another_attempt_with_the_same_id_saves_nothing(app, sitting):
    """A database restored under running workers can give a cached attempt's id to another
    attempt: the save compares the attempt's seed and leaves it to the checked path."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps no forms")
    attempt_id, token = sitting
    assert plain(attempt_id, token, 1, 1, None, bind=db.engine) is not None
    db.session.get(Attempt, attempt_id).seed += 1
    db.session.commit()
    assert plain(attempt_id, token, 1, 2, None, bind=db.engine) is None
    assert events() == 1
    forget_forms()  # read again: the form of the attempt as it now is
    assert plain(attempt_id, token, 1, 2, None, bind=db.engine) is not None


ZONED = "fe80::1%eth0"


@pytest.mark.parametrize("networks", [None, ["fe80::%eth0/64", "10.1.0.0/16"]])
@pytest.mark.parametrize("address", [IP, ZONED])
def test_an_ipv6_zone_is_saved_one_way_or_the_other(app, sitting, candidate, networks,
                                                   address):
    """inet reads no IPv6 zone (fe80::1%eth0), in the client's address or in a range stored
    before ranges with zones were refused: PostgreSQL's statement must not fail on one
    (it did, with a 500) but save, or leave it to the checked path, which saves."""
    attempt_id, token = sitting
    attempt = db.session.get(Attempt, attempt_id)
    attempt.last_ip = address
    attempt.session.allowed_networks = networks
    db.session.commit()
    if address == IP or networks is None:
        assert plain(attempt_id, token, 1, 1, None, ip=address) is not None  # plainly
    else:
        saved = plain(attempt_id, token, 1, 1, None, ip=address) or delivery.save_response(
            db.session, utcnow(), attempt_id, candidate.id, 1, None, 1, token, ip=address,
            user_agent=UA)
        assert saved.seq == 1
    db.session.commit()
    assert events() == 1


def test_a_range_with_an_ipv6_zone_is_refused():
    from examsys.exams.scheduling import parse_networks

    with pytest.raises(Invalid, match="is not an address range"):
        parse_networks(["10.1.0.0/16", "fe80::%eth0/64"])
    assert parse_networks("10.1.0.0/16, fe80::/64") == ["10.1.0.0/16", "fe80::/64"]


def test_an_examiners_login_is_not_saved_plainly(app, sitting, examiner):
    attempt_id, _token = sitting
    theirs = open_login_session(db.session, utcnow(), examiner, IP, UA)
    db.session.commit()
    assert plain(attempt_id, theirs.id) is None


def test_sequential_step_forward_goes_to_the_checked_path(app, bank, examiner, candidate):
    from examsys.exams.models import Certification

    set_blueprint_options(db.session.scalar(select(Certification).where(
        Certification.code == "TEST-CERT")), sequential=True)
    es = make_session(examiner)
    enroll(es, candidate)
    attempt_id, token = start_from_one_login(es.id, candidate)
    assert plain(attempt_id, token, 1, 1) is not None  # the current item
    assert plain(attempt_id, token, 2, 2) is None  # moving on: checked (and recorded)
    delivery.save_response(db.session, utcnow(), attempt_id, candidate.id, 2, None, 2,
                           token, ip=IP, user_agent=UA)
    db.session.commit()
    assert db.session.get(Attempt, attempt_id).current_position == 2
    assert plain(attempt_id, token, 2, 3) is not None


def test_api_after_logout_answers_401_and_saves_nothing(app, enrolled, candidate):
    api, attempt_id = start_through_api(app, enrolled, candidate)
    assert api.put(f"/api/v1/attempts/{attempt_id}/items/1",
                   json={"response": None, "seq": 1}).status_code == 200
    cookie = api.client.get_cookie("examsys_session", domain="exams.test").value
    csrf = api.token
    api.post("/api/v1/auth/logout")
    # The old cookie, replayed: the login it names has ended.
    replay = Api(app.test_client())
    replay.client.set_cookie("examsys_session", cookie, domain="exams.test")
    replay.token = csrf
    response = replay.put(f"/api/v1/attempts/{attempt_id}/items/1",
                          json={"response": None, "seq": 2})
    assert response.status_code == 401
    assert events() == 1


def test_api_save_is_the_plain_path_for_a_running_attempt(app, enrolled, candidate):
    """PostgreSQL: one statement in autocommit (no BEGIN or COMMIT round trip); the worker
    that served the start has the form's facts, another reads them at its first save of
    the attempt. SQLite: the read and the write, in a transaction begun IMMEDIATE."""
    api, attempt_id = start_through_api(app, enrolled, candidate)
    with statements_run() as first:
        api.put(f"/api/v1/attempts/{attempt_id}/items/1", json={"response": None, "seq": 1})
    forget_forms()  # as a worker that did not serve the start has none
    with statements_run() as elsewhere:
        api.put(f"/api/v1/attempts/{attempt_id}/items/1", json={"response": None, "seq": 2})
    with statements_run() as seen:
        response = api.put(f"/api/v1/attempts/{attempt_id}/items/2",
                           json={"response": None, "seq": 3})
    assert response.status_code == 200
    sent = [(verb, autocommit) for verb, autocommit in seen
            if verb not in ("PRAGMA", "SELECT 1")]
    if db.engine.dialect.name == "postgresql":
        assert [s for s in first if s[0] != "SELECT 1"] == [("WITH", True)]
        assert [s for s in elsewhere if s[0] != "SELECT 1"] == [("SELECT", True),
                                                                  ("WITH", True)]
        assert sent == [("WITH", True)]
    else:
        assert [verb for verb, _ in sent] == ["BEGIN", "SELECT", "UPDATE", "INSERT"]
        # The item's answer, sequence and time: not its attempt (a needless key update).
        update = next(text for text in seen.texts if text.startswith("UPDATE"))
        assert "attempt_id=" not in update.split(" WHERE ")[0].replace(" ", "")
    assert stored(attempt_id, 2)[1] == 3
    assert db.session.get(Attempt, attempt_id).state == AttemptState.IN_PROGRESS


def test_a_save_racing_a_submit_keeps_nothing(app, sitting, candidate):
    """PostgreSQL, the API's path (a connection of its own, in autocommit): the save's
    statement waits for the row lock a submit holds on the attempt and, the submit
    committed, finds the attempt closed and keeps nothing. The checked path then answers
    that the exam is over."""
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("two writers at once: SQLite runs one at a time")
    attempt_id, token = sitting
    answer = correct_response(item(attempt_id, 1))
    candidate_id = candidate.id
    db.session.commit()
    graded, go_on = threading.Event(), threading.Event()

    def submitting():
        with app.app_context():
            delivery.submit(db.session, utcnow(), attempt_id, candidate_id)
            db.session.flush()  # graded without the save, the row locked, not committed
            graded.set()
            go_on.wait(10)
            db.session.commit()

    submit = threading.Thread(target=submitting)
    submit.start()
    assert graded.wait(10)
    release = threading.Timer(1.0, go_on.set)  # the save is waiting on the lock by then
    release.start()
    result = delivery.plain_save(db.engine, utcnow(), attempt_id, 1, answer, 1, token, IP, UA)
    submit.join(10)
    assert go_on.is_set()  # the save returned only after the submit had been let go
    assert result is None
    assert events() == 0
    db.session.expire_all()
    assert not db.session.get(Attempt, attempt_id).is_open  # submitted and graded
    assert item(attempt_id, 1).last_seq == 0


def test_plain_path_answers_in_utc_whatever_the_database_time_zone(app, sitting):
    from examsys.core.clock import iso

    attempt_id, token = sitting
    if db.engine.dialect.name == "postgresql":
        # The driver hands back timestamps in the connection's zone (until commit here).
        db.session.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
    saved = plain(attempt_id, token, 1, 1, None)
    assert iso(saved.deadline).endswith("Z")
    assert saved.deadline == db.session.get(Attempt, attempt_id).deadline


UNITS_BANK = """\
topics:
  - {key: capacity, name: {en: Capacity, zh: 容量}}
questions:
""" + "".join(f"""\
  - key: U-{n:04d}
    topic: capacity
    type: numeric_unit
    levels: [engineer]
    difficulty: 2
    reference: Cell datasheet
    stem: {{en: "Rated capacity of cell {n}?", zh: "电芯{n}的额定容量？"}}
    explanation: {{en: "2.5 Ah", zh: "2.5 Ah"}}
    answer: 2.5
    unit: Ah
    tolerance: {{relative: 0.01}}
""" for n in range(1, 4)) + """\
certifications:
  - code: UNIT-CERT
    name: {en: "Units", zh: "单位"}
    level: engineer
    validity_months: 12
    blueprint:
      time_limit_minutes: 30
      pass_mark: 60
      sections:
        - key: capacity
          title: {en: Capacity, zh: 容量}
          topics: [capacity]
          levels: [engineer]
          count: 1
          points: 1
"""


def test_plain_path_reads_the_payload_of_a_type_whose_parse_needs_it(app, bank, examiner,
                                                                      candidate):
    """numeric_unit parses against its payload's units, the one type the plain path
    fetches a payload for: an unknown unit is refused, a known one saved plainly in its
    canonical spelling."""
    import_bank("units.yaml", UNITS_BANK)
    es = make_session(examiner, "UNIT-CERT")
    enroll(es, candidate)
    attempt_id, token = start_from_one_login(es.id, candidate)
    # Refused by the checked path, which says why (PostgreSQL's plain path parses before
    # it has checked the login).
    assert plain(attempt_id, token, 1, 1, {"value": 2500, "unit": "parsec"}) is None
    with pytest.raises(Invalid, match="unknown unit"):
        delivery.save_response(db.session, utcnow(), attempt_id, candidate.id, 1,
                               {"value": 2500, "unit": "parsec"}, 1, token, ip=IP,
                               user_agent=UA)
    db.session.rollback()
    assert events() == 0
    assert plain(attempt_id, token, 1, 1, {"value": 2500, "unit": "mah"}) is not None
    db.session.commit()
    assert stored(attempt_id, 1)[0] == {"value": 2500.0, "unit": "mAh"}


def plans_of(stmt, params: dict) -> str:
    """PostgreSQL's plan of ``stmt`` for these values (EXPLAIN runs nothing)."""
    sql = str(stmt.compile(dialect=db.engine.dialect))
    return "\n".join(row[0] for row in db.session.connection().exec_driver_sql(
        "EXPLAIN " + sql, params))


@pytest.mark.parametrize("statistics", ["history", "before the start storm"])
def test_plain_save_finds_the_attempt_by_its_key_whatever_the_statistics(app, enrolled,
                                                                        candidate, statistics):
    """With a history of closed attempts, "in progress" looks rare to the planner, which
    then took the index on the attempts' state (on exam day it holds every running
    attempt) to find the one attempt a save names. It must be found by its key."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner")
    if statistics == "before the start storm":
        db.session.execute(text("ANALYZE"))
    attempt_id, token = start_from_one_login(enrolled.id, candidate)
    # Three thousand other candidates, each logged in, each with a closed attempt.
    db.session.execute(text(
        "INSERT INTO users (email, name, role, password_hash, active, created_at) "
        "SELECT 'other' || n || '@exams.test', name, role, password_hash, active, created_at "
        "FROM users, generate_series(1, 3000) n WHERE id = :id"), {"id": candidate.id})
    db.session.execute(text(
        "INSERT INTO login_session (id, user_id, created_at) SELECT 'login-' || id, id, "
        "created_at FROM users WHERE email LIKE 'other%@exams.test'"))
    copied = [c.name for c in Attempt.__table__.c
              if c.name not in ("id", "number", "state", "candidate_id")]
    db.session.execute(text(
        f"INSERT INTO attempt ({', '.join(copied)}, candidate_id, number, state) "  # noqa: S608
        f"SELECT {', '.join(f'a.{c}' for c in copied)}, u.id, u.id + 1, 'graded' "
        "FROM attempt a, users u WHERE a.id = :id AND u.email LIKE 'other%@exams.test'"),
        {"id": attempt_id})
    db.session.commit()
    if statistics == "history":
        db.session.execute(text("ANALYZE"))
    save = plans_of(delivery._PLAIN_SAVE, {
        "attempt_id": attempt_id, "seed": db.session.get(Attempt, attempt_id).seed,
        "item_id": item(attempt_id, 1).id, "position": 1, "seq": 1, "now": utcnow(),
        "token": token, "response": "null", "state": "in_progress", "role": "candidate",
        "ip": IP, "user_agent": UA, "address": IP})
    assert "Index Scan using attempt_pkey on attempt" in save
    assert "ix_attempt_state_deadline" not in save


def on_a_new_connection() -> None:
    """The test's work committed, the pool emptied (the next connection is a new one, as
    planned ahead) and the forms forgotten (the next save reads its form)."""
    db.session.commit()
    db.session.close()
    db.engine.dispose()
    forget_forms()


def prepared_statements(conn) -> tuple[int, dict[str, tuple[int, int]]]:
    """The connection's server process and its prepared statements: {opening words of the
    statement: (generic plans run, custom plans made)}."""
    pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    rows = conn.exec_driver_sql("SELECT left(regexp_replace(statement, '\\s+', ' ', 'g'), 60), "
                                "generic_plans, custom_plans FROM pg_prepared_statements")
    return pid, {text_: (generic, custom) for text_, generic, custom in rows}


def test_a_new_connection_has_planned_the_hot_statements_before_they_run(app, sitting):
    """PostgreSQL plans a prepared statement for its values at each of its first five runs
    (the save's plan costs four times its run): every new connection runs the autosave's
    and the verification's statements five times before it serves a request, so that the
    first save it sends runs on the plan made for any values."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    attempt_id, token = sitting
    on_a_new_connection()
    with driver.own_connection(db.engine) as conn:  # autocommit: nothing rolled back
        pid, before = prepared_statements(conn)
    assert sorted(before.values()) == [(0, driver.CUSTOM_PLANS)] * 3

    # Ids above 32,767 (PostgreSQL's smallint) are sent as the same type as small ones:
    # one prepared statement whatever their size.
    assert plain(attempt_id, token, seq=40_000, response=None, bind=db.engine) is not None
    assert public.by_serial(db.engine, "ES-NONE") is None

    with driver.own_connection(db.engine) as conn:
        same_pid, after = prepared_statements(conn)
    assert same_pid == pid
    assert after.keys() == before.keys()
    assert sorted(after.values()) == [(1, driver.CUSTOM_PLANS)] * 3


def test_a_rolled_back_transaction_keeps_the_connections_prepared_statements(app, sitting):
    """Every request that reads through the session ends in a rollback (the exam page's
    clock, every 30 s per candidate): the pooled connection keeps the autosave prepared and
    planned, and the save still runs on it. A failed transaction's rollback starts afresh
    (a statement prepared on a table a migration changed fails once, not for ever)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    attempt_id, token = sitting
    on_a_new_connection()
    with db.engine.connect() as conn:
        pid, planned = prepared_statements(conn)
        conn.rollback()  # a read-only request's end
        assert prepared_statements(conn) == (pid, planned)
    # Returned to the pool (its reset rolls back too) and taken again: the same statements,
    # and the save runs on the one planned ahead.
    assert plain(attempt_id, token, seq=2, response=None, bind=db.engine) is not None
    with driver.own_connection(db.engine) as conn:
        same_pid, after = prepared_statements(conn)
    assert same_pid == pid and after.keys() == planned.keys()
    # The form's read and the save each ran once on the plan made ahead; the
    # verification's statement waits.
    assert sorted(after.values()) == [(0, driver.CUSTOM_PLANS)] + [(1, driver.CUSTOM_PLANS)] * 2


def test_a_statement_prepared_before_a_migration_fails_once_not_for_ever(database_url):
    """A migration run elsewhere changes a column a prepared statement returns: PostgreSQL
    refuses to run the old statement, once per connection: after the failed transaction's
    rollback the connection prepares it again, and in autocommit the connection is
    dropped."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's prepared statements")
    engine = create_engine(database_url, poolclass=NullPool)
    configure_engine(engine)
    other = create_engine(database_url, poolclass=NullPool)
    read = select(column("tag")).select_from(table("migrated"))
    try:
        with other.begin() as ddl:
            ddl.exec_driver_sql("DROP TABLE IF EXISTS migrated")
            ddl.exec_driver_sql("CREATE TABLE migrated (tag varchar(16))")
            ddl.exec_driver_sql("INSERT INTO migrated VALUES ('a')")
        with engine.connect() as conn:

            def in_a_request():
                conn.exec_driver_sql("SELECT 1")  # the session's transaction begins
                return driver.fetch_one(conn, read, {}, prepare=True)

            for _ in range(2):
                assert in_a_request().tag == "a"
                conn.rollback()  # as a request's end: the statement stays prepared
            with other.begin() as ddl:
                ddl.exec_driver_sql("ALTER TABLE migrated ALTER COLUMN tag TYPE varchar(32)")
            with pytest.raises(DBAPIError, match="cached plan must not change result type"):
                in_a_request()
            conn.rollback()
            assert in_a_request().tag == "a"
            conn.rollback()
        # In autocommit (the autosave's, the verification's) no rollback comes: the
        # pooled connection that failed is dropped, and the next one prepares afresh.
        pooled = create_engine(database_url, pool_size=1, max_overflow=0)
        configure_engine(pooled)
        with driver.own_connection(pooled) as conn:
            assert driver.fetch_one(conn, read, {}, prepare=True).tag == "a"
        with other.begin() as ddl:
            ddl.exec_driver_sql("ALTER TABLE migrated ALTER COLUMN tag TYPE text")
        with driver.own_connection(pooled) as conn:
            with pytest.raises(DBAPIError, match="cached plan") as failed:
                driver.fetch_one(conn, read, {}, prepare=True)
            assert failed.value.connection_invalidated and conn.invalidated
        with driver.own_connection(pooled) as conn:
            assert driver.fetch_one(conn, read, {}, prepare=True).tag == "a"
        pooled.dispose()
    finally:
        with other.begin() as ddl:
            ddl.exec_driver_sql("DROP TABLE IF EXISTS migrated")
        engine.dispose()
        other.dispose()


def test_a_database_without_the_tables_still_connects(database_url, caplog):
    """Planning ahead on a database not migrated yet (``examsys db upgrade``'s first
    connection) tries nothing, so that PostgreSQL logs no error for each statement; the
    connection serves as usual."""
    if not database_url.startswith("postgresql"):
        pytest.skip("planned ahead on PostgreSQL only")
    engine = create_engine(database_url, connect_args={"options": "-c search_path=pg_temp"})
    driver.plan_on_connect(engine)
    caplog.set_level(logging.DEBUG, logger=driver.log.name)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
            assert prepared_statements(conn)[1] == {}
        assert not [r for r in caplog.records if "not planned ahead" in r.getMessage()]
    finally:
        engine.dispose()
