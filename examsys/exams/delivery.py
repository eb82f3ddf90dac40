"""Running an attempt: start or resume, save answers, submit, close at the deadline.

Every rule about time is checked here against ``now`` from the server's clock, at the
moment of each write; nothing the client says about time is believed.
"""

import hmac
import ipaddress
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import (
    ARRAY,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from examsys.accounts.models import LoginSession, Role, User
from examsys.bank.models import QuestionVersion
from examsys.bank.types import REGISTRY, ResponseError, get_type
from examsys.certs import services as certs
from examsys.certs.models import Certificate
from examsys.core import audit, driver
from examsys.core.audit import AuditEvent
from examsys.core.clock import as_utc, iso
from examsys.core.database import begin_write
from examsys.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from examsys.exams import form_cache, integrity, notifications
from examsys.exams.assembly import DrawnItem, draw_form
from examsys.exams.integrity import claim_device, track_client
from examsys.exams.models import (
    Attempt,
    AttemptItem,
    AttemptState,
    Blueprint,
    Enrollment,
    ExamSession,
    ReleasePolicy,
    ResponseEvent,
    all_closed_at,
)
from examsys.exams.scoring import grade_attempt, item_score

MAX_SEQ = 2**62
ACCESS_CODE_TRIES = 5
ACCESS_CODE_WINDOW = timedelta(minutes=15)
WRONG_ACCESS_CODE = "session.wrong_access_code"


def compute_deadline(exam_session: ExamSession, enrollment: Enrollment,
                     started_at: datetime) -> datetime:
    """Start plus the time limit (times the candidate's multiplier, plus extra minutes),
    never later than the candidate's window closes."""
    minutes = (exam_session.blueprint.time_limit_minutes * enrollment.time_multiplier
               + enrollment.extra_minutes)
    return min(started_at + timedelta(minutes=minutes), enrollment.closes_at)


def stagger_offset(enrollment: Enrollment) -> timedelta:
    """How long after the window opens this candidate may start (spreads the first minute).

    Derived from the enrollment so that it is the same on every request and every server.
    """
    spread = enrollment.session.stagger_seconds
    return timedelta(seconds=(enrollment.id * 7919) % (spread + 1) if spread else 0)


def is_overdue(attempt: Attempt, now: datetime) -> bool:
    """Past the deadline and its grace period: no save can count any more."""
    return past_grace(attempt.deadline, attempt.session.grace_seconds, now)


def past_grace(deadline: datetime, grace_seconds: int, now: datetime) -> bool:
    return now > deadline + timedelta(seconds=grace_seconds)


def session_released(release: str, all_closed_at: datetime, released_at: datetime | None,
                     now: datetime) -> bool:
    """Whether a session's release policy lets its graded results be seen now.

    After close means after every window closed, the candidates' own ones included, and
    the grace for late saves passed (``ExamSession.all_closed_at``): nobody who can still
    write an answer learns another's result."""
    if release == ReleasePolicy.IMMEDIATE:
        return True
    if release == ReleasePolicy.AFTER_CLOSE:
        return now >= all_closed_at
    return released_at is not None and released_at <= now


def result_released_at(attempt: Attempt) -> datetime | None:
    """When a graded result reached (or will reach) its candidate, by the session's release
    policy; None while it is not graded or waits for a manual release."""
    if attempt.state != AttemptState.GRADED or attempt.graded_at is None:
        return None
    es = attempt.session
    if es.release == ReleasePolicy.IMMEDIATE:
        return attempt.graded_at
    if es.release == ReleasePolicy.AFTER_CLOSE:
        return max(es.all_closed_at, attempt.graded_at)
    return max(es.released_at, attempt.graded_at) if es.released_at else None


def results_released(attempt: Attempt, now: datetime) -> bool:
    if attempt.state != AttemptState.GRADED:
        return False
    es = attempt.session
    return session_released(es.release, es.all_closed_at, es.released_at, now)


def lock_attempt(session, attempt_id: int, candidate_id: int | None = None) -> Attempt:
    """Load an attempt holding its row lock (PostgreSQL) for the rest of the transaction.

    With ``candidate_id`` an attempt of someone else is reported as not found.
    """
    attempt = session.scalar(select(Attempt).where(Attempt.id == attempt_id)
                             .options(joinedload(Attempt.session)
                                      .joinedload(ExamSession.blueprint))
                             .with_for_update(of=Attempt)
                             .execution_options(populate_existing=True))
    if attempt is None or (candidate_id is not None and attempt.candidate_id != candidate_id):
        raise NotFound(_("No such attempt."))
    return attempt


def check_network(es: ExamSession, ip: str | None) -> None:
    """Refuse a request from outside the session's exam-centre networks, if it has any."""
    check_networks(es.allowed_networks, ip)


def check_networks(allowed: list | None, ip: str | None) -> None:
    if not allowed:
        return
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        address = None
    if address is None or not any(address in ipaddress.ip_network(net, strict=False)
                                  for net in allowed):
        raise Forbidden(_("This exam can only be taken from the exam centre's network."),
                        code="outside_network")


def check_access_code(session, now: datetime, es: ExamSession, candidate_id: int,
                      access_code) -> None:
    """The proctor's code, with ACCESS_CODE_TRIES wrong tries per candidate and session in
    any ACCESS_CODE_WINDOW: a code of four characters falls to trying them all in minutes.
    Each wrong try is in the audit log, where it is also counted."""
    wrong = select(func.count(AuditEvent.id)).where(
        AuditEvent.actor_id == candidate_id, AuditEvent.action == WRONG_ACCESS_CODE,
        AuditEvent.object_type == ExamSession.__tablename__,
        AuditEvent.object_id == str(es.id), AuditEvent.at > now - ACCESS_CODE_WINDOW)
    if session.scalar(wrong) >= ACCESS_CODE_TRIES:
        raise DomainError(_("Too many wrong access codes. Ask the proctor for the code and "
                            "try again in %(n)d minutes.",
                            n=ACCESS_CODE_WINDOW.seconds // 60), code="access_code_locked",
                          status=429)
    given = access_code.strip().upper() if isinstance(access_code, str) else ""
    if not hmac.compare_digest(given.encode(), es.access_code.upper().encode()):
        audit.record(session, now, candidate_id, WRONG_ACCESS_CODE, es)
        raise Forbidden(_("The access code is not right."), code="wrong_access_code")


def check_retake_policy(session, now: datetime, enrollment: Enrollment,
                        candidate_id: int) -> Attempt | None:
    """Apply the certification's retake policy; returns the candidate's last attempt at it."""
    cert = enrollment.session.certification
    previous = select(Attempt).join(ExamSession, ExamSession.id == Attempt.session_id).where(
        Attempt.candidate_id == candidate_id, ExamSession.certification_id == cert.id)
    # The latest attempt and, counted over all of them before the limit, their number.
    last, used = session.execute(previous.add_columns(func.count().over())
                                 .order_by(Attempt.started_at.desc()).limit(1)).first() \
        or (None, 0)
    if cert.max_attempts is not None and used >= cert.max_attempts:
        raise Conflict(_("You have used every attempt this certification allows."),
                       code="no_attempts_left")
    if last is not None and cert.retake_cooldown_hours and last.finished_at is not None:
        ready = last.finished_at + timedelta(hours=cert.retake_cooldown_hours)
        if now < ready:
            raise Conflict(_("You can take this certification again from %(when)s UTC.",
                             when=ready.strftime("%Y-%m-%d %H:%M")), code="cooldown",
                           details={"retry_at": iso(ready)})
    return last


def start_or_resume(session, now: datetime, exam_session_id: int, candidate_id: int,
                    access_code: str | None = None, *, ip: str | None = None,
                    user_agent: str | None = None,
                    login_session_id: str | None = None
                    ) -> tuple[Attempt, list[DrawnItem] | None]:
    """The candidate's running attempt, or a new one drawn now. Returns the attempt and,
    when it was created now, the form it was drawn with (None when it was resumed).

    The device asking becomes the attempt's one active device (see :func:`claim_device`).
    """
    enrollment = session.scalar(select(Enrollment).where(
        Enrollment.session_id == exam_session_id, Enrollment.candidate_id == candidate_id))
    if enrollment is None:
        raise NotFound(_("You are not enrolled in this exam session."))
    es = enrollment.session
    check_network(es, ip)
    latest = session.scalar(select(Attempt).where(Attempt.enrollment_id == enrollment.id)
                            .order_by(Attempt.number.desc()).limit(1))
    if latest is not None and latest.is_open:
        if not is_overdue(latest, now):
            latest = lock_attempt(session, latest.id)
            claim_device(session, now, latest, login_session_id, ip, user_agent)
            return latest, None
        finish(session, now, lock_attempt(session, latest.id))
    if now < enrollment.opens_at:
        raise Conflict(_("This exam session has not opened yet."), code="not_open")
    if now >= enrollment.closes_at:
        raise Conflict(_("This exam session has closed."), code="closed")
    own_start = enrollment.opens_at + stagger_offset(enrollment)
    if now < own_start:
        raise Conflict(_("Your start is staggered: please start in %(n)d seconds.",
                         n=math.ceil((own_start - now).total_seconds())), code="not_open",
                       details={"starts_at": iso(own_start)})
    # Attempts are numbered 1, 2, … per enrollment and never deleted: the latest's
    # number is how many there are.
    used = latest.number if latest is not None else 0
    if used >= enrollment.attempts_allowed:
        raise Conflict(_("You have used every attempt this session allows."),
                       code="no_attempts_left")
    last = check_retake_policy(session, now, enrollment, candidate_id)
    if es.access_code:
        check_access_code(session, now, es, candidate_id, access_code)
    avoid = set()
    if last is not None and es.certification.avoid_seen_items:
        avoid = set(session.scalars(
            select(QuestionVersion.question_id).join(
                AttemptItem, AttemptItem.question_version_id == QuestionVersion.id)
            .where(AttemptItem.attempt_id == last.id)))
    seed = secrets.randbits(62)
    form = draw_form(session, es.blueprint, seed, avoid=avoid)
    # The session object itself, not only its id: showing the new attempt reads it, and
    # nothing else may be holding it by then (the identity map's references are weak).
    attempt = Attempt(enrollment_id=enrollment.id, candidate_id=candidate_id, session=es,
                      number=used + 1, seed=seed, state=AttemptState.IN_PROGRESS,
                      started_at=now, deadline=compute_deadline(es, enrollment, now),
                      device_session_id=login_session_id, last_ip=ip,
                      last_user_agent=integrity.stored_user_agent(user_agent))
    session.add(attempt)
    try:
        session.flush()
    except IntegrityError:
        # Another request of the same candidate started it a moment ago: resume that one.
        session.rollback()
        return start_or_resume(session, now, exam_session_id, candidate_id, access_code,
                               ip=ip, user_agent=user_agent, login_session_id=login_session_id)
    rows = [{"attempt_id": attempt.id, "position": d.position, "section": d.section,
             "question_version_id": d.version.id, "option_order": d.option_order,
             "points": d.points, "last_seq": 0, "flagged": False} for d in form]
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        driver.copy_rows(conn, AttemptItem.__table__, rows)
        facts = conn.execute(_KEEP_FORM_FACTS, {"attempt_id": attempt.id}).scalar_one()
        if login_session_id:
            # The browser sends its saves over the keep-alive connection it started on,
            # to this worker: its first save here finds the form instead of reading it.
            # (Were the start rolled back, the save's statement would find no attempt
            # with this id and seed, and the checked path would answer.)
            _keep_form(conn.engine, attempt.id, login_session_id, seed, facts)
    else:  # one executemany (SQLite runs it in process; the ORM would add its bookkeeping)
        session.execute(insert(AttemptItem.__table__), rows)
    audit.record(session, now, candidate_id, "attempt.start", attempt,
                 {"seed": seed, "avoided": len(avoid)})
    return attempt, form


def open_for_write(session, now: datetime, attempt_id: int, candidate_id: int,
                   login_session_id: str | None, ip: str | None = None,
                   user_agent: str | None = None) -> Attempt:
    """Lock a running attempt for a candidate's write from its active device, in time.

    Raises (having written nothing but an overdue attempt's close, which the caller must
    commit) when the attempt is closed, overdue, or held by another device.
    """
    attempt = lock_attempt(session, attempt_id, candidate_id)
    if not attempt.is_open:
        raise Conflict(_("This attempt is closed; the answer was not saved."),
                       code="attempt_closed")
    if is_overdue(attempt, now):
        finish(session, now, attempt)
        raise Conflict(_("Time is up; the answer was not saved."), code="time_up",
                       details={"closed": True})
    integrity.check_device(attempt, login_session_id)
    if ip is not None:
        check_network(attempt.session, ip)
    track_client(session, now, attempt, login_session_id, ip, user_agent)
    return attempt


def check_position(position) -> None:
    if isinstance(position, bool) or not isinstance(position, int):
        raise Invalid(_("position must be a whole number."), code="invalid_position")


def item_at(session, attempt: Attempt, position) -> AttemptItem:
    check_position(position)
    item = session.scalar(select(AttemptItem).where(AttemptItem.attempt_id == attempt.id,
                                                    AttemptItem.position == position))
    if item is None:
        raise NotFound(_("This attempt has no item %(n)s.", n=position))
    # The locked attempt is the item's attempt: link them so reading item.attempt costs
    # no query (and no second look at a row this transaction already holds).
    set_committed_value(item, "attempt", attempt)
    return item


def check_reachable(attempt: Attempt, position: int) -> None:
    """Sequential exams go forward only: an item before the furthest one reached is locked."""
    if attempt.session.blueprint.sequential and position < attempt.current_position:
        raise Conflict(_("This exam moves forward only: an earlier item cannot be changed."),
                       code="sequential_locked")


def advance(attempt: Attempt, position: int) -> None:
    """Move a sequential exam on to ``position`` (refused for an earlier item)."""
    check_reachable(attempt, position)
    if attempt.session.blueprint.sequential:
        attempt.current_position = position


@dataclass(frozen=True)
class Saved:
    """What a save answers with: the item, the sequence number kept, and the clock."""

    position: int
    seq: int
    saved_at: datetime
    deadline: datetime


_A, _S, _B = Attempt.__table__, ExamSession.__table__, Blueprint.__table__
_I, _V, _E = AttemptItem.__table__, QuestionVersion.__table__, ResponseEvent.__table__
_L, _U = LoginSession.__table__, User.__table__
# A question's payload, only for the types whose parse reads it: for the others a save
# would fetch and decode the whole bilingual question for nothing.
_PARSE_PAYLOAD = case((_V.c.type.in_([literal_column(f"'{t.name}'") for t in REGISTRY.values()
                                      if t.parse_reads_payload]), _V.c.payload)).label("payload")
# Everything an autosave checks, in one read, for SQLite: the login named by the cookie,
# its user, the attempt, its session and item (no row lock: SQLite's BEGIN IMMEDIATE
# already serialises writers).
_SAVE_TARGET = (
    select(_A.c.candidate_id, _A.c.state, _A.c.deadline, _A.c.device_session_id,
           _A.c.last_ip, _A.c.last_user_agent, _A.c.current_position, _S.c.grace_seconds,
           _S.c.allowed_networks, _B.c.sequential, _I.c.id.label("item_id"), _I.c.last_seq,
           _I.c.option_order, _V.c.type, _PARSE_PAYLOAD, _U.c.role, _U.c.active,
           _L.c.ended_at.label("login_ended_at"))
    .join(_S, _S.c.id == _A.c.session_id).join(_B, _B.c.id == _S.c.blueprint_id)
    .join(_I, _I.c.attempt_id == _A.c.id).join(_V, _V.c.id == _I.c.question_version_id)
    .join(_L, _L.c.user_id == _A.c.candidate_id).join(_U, _U.c.id == _L.c.user_id)
    .where(_A.c.id == bindparam("attempt_id"), _I.c.position == bindparam("position"),
           _L.c.id == bindparam("token")))
# The item keeps the newest save only if it is newer than the one it holds: the test is
# made by the write itself, on the row as it is now. (A save that waited for another's
# lock on the attempt read the item before that one committed: PostgreSQL re-reads after
# the wait only the rows a statement locks.)
_KEEP_LATEST = update(_I).where(_I.c.id == bindparam("item_id"),
                                _I.c.last_seq < bindparam("seq")).values(
    response=bindparam("response", type_=_I.c.response.type), last_seq=bindparam("seq"),
    saved_at=bindparam("now"))
_APPEND_EVENT = insert(_E).values(
    attempt_item_id=bindparam("item_id"), seq=bindparam("seq"),
    response=bindparam("response", type_=_E.c.response.type), saved_at=bindparam("now"),
    login_session_id=bindparam("token"))

# PostgreSQL: the facts of every item of an attempt (see form_cache), read once per attempt
# and worker, for the owner's live login only.
# Each item's question is looked up by its key, in a subquery kept apart (OFFSET 0): as a
# join, the planner hashed the whole bank to find a hundred questions (2.8 ms with 5,000;
# 0.5 ms this way).
_ITEM_VERSION = select(_V.c.type, _PARSE_PAYLOAD) \
    .where(_V.c.id == _I.c.question_version_id).offset(literal_column("0")).lateral("version")
# The items as one JSON array of [position, id, type, option order, payload]: decoded by
# one json.loads in C, where a hundred rows cost the worker four times the CPU (psycopg
# builds each row and decodes each JSON value apart).
_FACTS_OF_ITEMS = (
    select(func.json_agg(func.json_build_array(_I.c.position, _I.c.id, _ITEM_VERSION.c.type,
                                               _I.c.option_order, _ITEM_VERSION.c.payload)))
    .select_from(_I.join(_ITEM_VERSION, true()))
    .where(_I.c.attempt_id == bindparam("attempt_id")).scalar_subquery())
# Written once when the attempt starts: at an exam's start every worker reads every running
# attempt's facts at its first save there (four reads an attempt with five workers), and
# building them from the hundred items cost the database 0.4 ms of CPU a read, one row
# 0.1 ms. An
# attempt started before it was kept (NULL) is read from its items as before.
_KEEP_FORM_FACTS = update(_A).where(_A.c.id == bindparam("attempt_id")) \
    .values(form_facts=_FACTS_OF_ITEMS).returning(_A.c.form_facts)
# The ownership names the login by its key. No row: not this login's attempt, or its login
# has ended.
_FORM_FACTS = (
    select(_A.c.seed, func.coalesce(_A.c.form_facts, _FACTS_OF_ITEMS).label("items"))
    .where(_A.c.id == bindparam("attempt_id"),
           select(_L.c.id).where(_L.c.id == bindparam("token"),
                                 _L.c.user_id == _A.c.candidate_id,
                                 _L.c.ended_at.is_(None)).exists()))
# ``check_networks`` in SQL: no ranges, or the address (NULL if it is not one inet reads,
# see ``_address``) in one of them. The ranges are stored as ipaddress writes them, which
# inet reads, but for an IPv6 zone (fe80::%eth0/64, refused since, perhaps stored before):
# such a range never matches here, and the checked path decides.
_NETWORKS = _S.c.allowed_networks
_NETWORK = func.json_array_elements_text(_NETWORKS).table_valued("value").alias("network")
_IN_NETWORK = case((func.strpos(_NETWORK.c.value, literal_column("'%'")) == literal_column("0"),
                    cast(bindparam("address", type_=String), INET)
                    .op("<<=")(cast(_NETWORK.c.value, INET))),
                   else_=literal_column("false"))
_FROM_ALLOWED_NETWORK = case(
    (and_(func.json_typeof(_NETWORKS) == literal_column("'array'"),
          func.json_array_length(_NETWORKS) > literal_column("0")),
     select(_NETWORK.c.value).where(_IN_NETWORK).exists()),
    else_=true())
# ``_plain`` in SQL, on the attempt's row locked: the same rules, so that a save this
# statement keeps is one the checked path would keep with nothing else to do. (Keep the
# two in step: test_autosave_paths runs every case on both backends.) A row lock it waits for
# (a submit, a takeover) is re-checked on the row as that transaction left it. The attempt
# must be found by its key, never through the index on its state, which leads to every
# running attempt (with statistics taken before the start storm, or with a history of
# closed attempts that makes "in progress" look rare, the planner took it): the state is
# compared with IS NOT DISTINCT FROM, which no index serves, and is a parameter.
_PLAIN_TARGET = (
    select(_A.c.id, _A.c.deadline)
    .join(_S, _S.c.id == _A.c.session_id).join(_B, _B.c.id == _S.c.blueprint_id)
    .join(_L, _L.c.user_id == _A.c.candidate_id).join(_U, _U.c.id == _L.c.user_id)
    .where(_A.c.id == bindparam("attempt_id"), _A.c.seed == bindparam("seed"),
           _L.c.id == bindparam("token"),
           _L.c.ended_at.is_(None), _U.c.active, _U.c.role == bindparam("role"),
           _A.c.state.is_not_distinct_from(bindparam("state")),
           _A.c.deadline + _S.c.grace_seconds * literal_column("interval '1 second'")
           >= bindparam("now"),
           or_(_A.c.device_session_id.is_(None), _A.c.device_session_id == bindparam("token")),
           _A.c.last_ip == func.coalesce(bindparam("ip", type_=String), _A.c.last_ip),
           _A.c.last_user_agent == func.coalesce(bindparam("user_agent", type_=String),
                                                 _A.c.last_user_agent),
           or_(~_B.c.sequential, _A.c.current_position == bindparam("position")),
           _FROM_ALLOWED_NETWORK)
    .with_for_update(of=_A).cte("plain_target"))
_PLAIN_KEPT = _KEEP_LATEST.where(_I.c.attempt_id == bindparam("attempt_id"),
                                 select(_PLAIN_TARGET.c.id).exists()) \
    .returning(_I.c.id).cte("plain_kept")
# Checked, kept and appended in one statement: the event only if the item was kept, the
# item only if the attempt passed every check.
_PLAIN_SAVE = insert(_E).from_select(
    ["attempt_item_id", "seq", "response", "saved_at", "login_session_id"],
    select(_PLAIN_KEPT.c.id, bindparam("seq", type_=_E.c.seq.type),
           bindparam("response", type_=_E.c.response.type),
           bindparam("now", type_=_E.c.saved_at.type),
           bindparam("token", type_=_E.c.login_session_id.type))) \
    .add_cte(_PLAIN_TARGET).add_cte(_PLAIN_KEPT) \
    .returning(_E.c.id, select(_PLAIN_TARGET.c.deadline).scalar_subquery().label("deadline"))


# Planned on every new PostgreSQL connection before its first save (see driver.plan_ahead):
# values that find no attempt, so nothing is written.
driver.plan_ahead(_FORM_FACTS, lambda: {"attempt_id": 0, "token": ""})
driver.plan_ahead(_PLAIN_SAVE, lambda: {
    "attempt_id": 0, "seed": 0, "item_id": 0, "position": 0, "seq": 0,
    "now": datetime(2000, 1, 1, tzinfo=UTC), "token": "", "response": driver.json_param(None),
    "state": "", "role": "", "ip": None, "user_agent": None, "address": None})


def check_seq(seq) -> None:
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq < MAX_SEQ:
        raise Invalid(_("seq must be a positive whole number."), code="invalid_seq")


def plain_save(bind, now: datetime, attempt_id: int, position: int, response, seq,
               login_token: str | None, ip: str | None = None,
               user_agent: str | None = None) -> Saved | None:
    """The usual autosave, with the login checked in the same statement as the save (the
    caller's role check is ``proven_by_view``).

    Saves when the cookie's login session is live and belongs to an active candidate who
    owns the attempt, and ``save_response`` would do nothing but append the save (see
    ``_plain``). Else returns None, having written nothing: the caller then checks the
    login as every view does and calls ``save_response``, where each rule lives and
    gives its own answer.

    PostgreSQL: one statement (two on an attempt's first save in this worker, which
    reads its form's facts, see form_cache). SQLite: a read and the write, in the
    session's transaction.
    ``bind``: a Session, to save inside its transaction (the caller commits), or on
    PostgreSQL an Engine, to save on a connection of its own in autocommit (see
    ``plain_save_bind``).
    """
    check_seq(seq)
    check_position(position)
    if not login_token:
        return None
    save = (now, attempt_id, position, response, seq, login_token, ip,
            integrity.stored_user_agent(user_agent))
    if isinstance(bind, Engine):
        if bind.dialect.name != "postgresql":
            raise TypeError("an Engine bind is for PostgreSQL only (see plain_save_bind)")
        with driver.own_connection(bind) as conn:
            kept = _plain_save_postgresql(conn, *save)
    else:
        conn = bind.connection()
        write = _plain_save_postgresql if conn.dialect.name == "postgresql" \
            else _plain_save_sqlite
        kept = write(conn, *save)
        # The update went round the ORM: a copy of the item loaded earlier in this
        # transaction must not answer with the old response.
        if kept and (loaded := bind.identity_map.get(bind.identity_key(AttemptItem,
                                                                      kept[0]))):
            bind.expire(loaded)
    return None if kept is None else Saved(position, seq, now, as_utc(kept[1]))


def plain_save_bind(db):
    """Where the API's autosave runs. PostgreSQL: on a connection of its own in autocommit,
    the request's session unused; one round trip, the statement with its commit, where a
    transaction costs four (BEGIN, locking read, write, COMMIT). SQLite: in the session's
    transaction; it has no round trips to save, and a second connection would wait for the
    session's write lock whenever a message loads the user's language."""
    return db.engine if db.engine.dialect.name == "postgresql" else db.session


# The registry's own string for each type name, shared by every cached item instead of a
# copy per item as decoded from JSON.
_TYPE_NAMES = {name: get_type(name).name for name in REGISTRY}


def _keep_form(engine, attempt_id: int, token: str, seed: int, items: list) -> form_cache.Form:
    """Keep an attempt's form facts, as ``_FACTS_OF_ITEMS`` gives them, for ``token``."""
    return form_cache.for_engine(engine).put(attempt_id, token, seed, {
        position: form_cache.facts(item_id, _TYPE_NAMES[qtype], option_order, payload)
        for position, item_id, qtype, option_order, payload in items})


def _plain_save_postgresql(conn, now: datetime, attempt_id: int, position: int, response,
                           seq: int, token: str, ip: str | None, user_agent: str | None):
    """The answer parsed with the item's cached facts, then checked and saved in one
    statement on psycopg's cursor (see core.driver: statements are most of what an
    autosave costs); (item id, deadline) if the save was kept, else None."""
    forms = form_cache.for_engine(conn.engine)
    if (form := forms.get(attempt_id, token)) is None:
        # Prepared at once, as the save: planning costs more than running them.
        read = driver.fetch_one(conn, _FORM_FACTS, {"attempt_id": attempt_id, "token": token},
                                prepare=True)
        if read is None or read.items is None:
            return None  # not this login's attempt, or the login has ended
        form = _keep_form(conn.engine, attempt_id, token, read.seed, read.items)
    if (facts := form.item(position)) is None:
        return None
    try:
        canonical = parse_response(facts.type, facts.payload, facts.option_order, response)
    except Invalid:
        return None  # the checked path says why, once it knows who is asking
    row = driver.fetch_one(conn, _PLAIN_SAVE, {
        "attempt_id": attempt_id, "seed": form.seed, "item_id": facts.item_id,
        "position": position, "seq": seq, "now": now, "token": token,
        "response": driver.json_param(canonical),
        "state": AttemptState.IN_PROGRESS.value, "role": Role.CANDIDATE.value,
        "ip": ip or None, "user_agent": user_agent or None, "address": _address(ip)},
        prepare=True)
    # Counted by RETURNING: the statement reports no row count. Nothing kept: a check
    # failed, a newer save got there first, or the attempt changed; the checked path answers.
    return None if row is None else (facts.item_id, row.deadline)


@lru_cache(maxsize=4096)  # a candidate saves from one address all day; parsing costs 0.05 ms
def _address(ip: str | None) -> str | None:
    """``ip`` if it is an address inet reads, else None: inet refuses anything else, an
    IPv6 zone (fe80::1%eth0) included, and the statement would fail instead of falling
    back to the checked path."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    return None if getattr(address, "scope_id", None) else str(address)


def _plain_save_sqlite(conn, now: datetime, attempt_id: int, position: int, response,
                       seq: int, token: str, ip: str | None, user_agent: str | None):
    """The read and the write with SQLAlchemy Core (its type conversions), in the session's
    transaction, which began IMMEDIATE: SQLite's write lock is held from the read on. The
    rules are checked in Python (``_plain``)."""
    row = conn.execute(_SAVE_TARGET, {"attempt_id": attempt_id, "position": position,
                                      "token": token}).first()
    canonical = _plain_canonical(row, now=now, login_token=token, ip=ip,
                                 user_agent=user_agent, position=position, seq=seq,
                                 response=response)
    if canonical is _NOT_PLAIN:
        return None
    # Only these: a key that names another column of the item would join the UPDATE's SET.
    values = {"seq": seq, "now": now, "token": token, "item_id": row.item_id,
              "response": canonical}
    if not conn.execute(_KEEP_LATEST, values).rowcount:
        return None  # a newer save got there first: the checked path answers stale_seq
    conn.execute(_APPEND_EVENT, values)
    return row.item_id, row.deadline


_NOT_PLAIN = object()  # (None is an answer: the candidate cleared the item)


def _plain_canonical(row, *, now: datetime, login_token: str, ip: str | None,
                     user_agent: str | None, position: int, seq: int, response):
    """The answer to store if the row read allows a plain save, else _NOT_PLAIN (a refusal
    too: the checked path gives it, in its order, as PostgreSQL's plain path leaves it)."""
    if row is None or not _plain(row, now, login_token, ip, user_agent, position, seq):
        return _NOT_PLAIN
    try:
        check_networks(row.allowed_networks, ip)
        return parse_response(row.type, row.payload, row.option_order, response)
    except (Forbidden, Invalid):
        return _NOT_PLAIN


def _plain(row, now: datetime, login_token: str, ip: str | None, user_agent: str | None,
           position: int, seq: int) -> bool:
    """A live login of an active candidate (the attempt's own, by the join), and nothing
    for ``save_response`` to do but append: the attempt open and in time, held by this
    login, the same address and browser as before, a newer seq, no sequential step."""
    return (row.login_ended_at is None and row.active and row.role == Role.CANDIDATE
            and row.state == AttemptState.IN_PROGRESS
            and not past_grace(row.deadline, row.grace_seconds, now)
            and integrity.device_allowed(row.device_session_id, login_token)
            and (not ip or ip == row.last_ip)
            and (not user_agent or user_agent == row.last_user_agent)
            and (not row.sequential or position == row.current_position)
            and seq > row.last_seq)


def save_response(session, now: datetime, attempt_id: int, candidate_id: int, position: int,
                  response, seq, login_session_id: str | None = None, *, ip: str | None = None,
                  user_agent: str | None = None) -> Saved:
    """Append a save if the attempt is open, the deadline (plus grace) not passed, the
    request comes from the attempt's active device, the item is reachable (sequential
    navigation) and ``seq`` newer than the item's last save. Otherwise raise, having
    written nothing (except closing an overdue attempt, which the caller must commit)."""
    check_seq(seq)
    item = _save_checked(session, now, attempt_id, candidate_id, position, response, seq,
                         login_session_id, ip, user_agent)
    return Saved(item.position, item.last_seq, item.saved_at, item.attempt.deadline)


def parse_response(qtype: str, payload: dict, option_order, response):
    """The canonical form of a candidate's answer, or Invalid saying why it does not fit."""
    try:
        return get_type(qtype).parse(payload, option_order, response)
    except ResponseError as exc:
        raise Invalid(_("This answer does not fit the question: %(why)s", why=str(exc)),
                      code="invalid_response") from None


def _save_checked(session, now: datetime, attempt_id: int, candidate_id: int, position: int,
                  response, seq: int, login_session_id: str | None, ip: str | None,
                  user_agent: str | None) -> AttemptItem:
    attempt = open_for_write(session, now, attempt_id, candidate_id, login_session_id, ip,
                             user_agent)
    item = item_at(session, attempt, position)
    check_reachable(attempt, position)
    if seq <= item.last_seq:
        raise Conflict(_("A newer answer to this item is already saved."), code="stale_seq",
                       details={"last_seq": item.last_seq})
    canonical = parse_response(item.version.type, item.version.payload, item.option_order,
                               response)
    advance(attempt, position)  # only a save that is kept moves a sequential exam on
    session.add(ResponseEvent(attempt_item_id=item.id, seq=seq, response=canonical,
                              saved_at=now, login_session_id=login_session_id))
    item.response, item.last_seq, item.saved_at = canonical, seq, now
    return item


def finish(session, now: datetime, attempt: Attempt, *, submitted: bool = False) -> Attempt:
    """Close a locked attempt from its saved answers and grade it (idempotent).

    A candidate's submit inside the deadline (plus grace) finishes at that moment; any
    other close finishes at the deadline.
    """
    if not attempt.is_open:
        return attempt
    in_time = submitted and not is_overdue(attempt, now)
    attempt.finished_at = min(now, attempt.deadline) if in_time else attempt.deadline
    attempt.finish_reason = "submitted" if in_time else "deadline"
    attempt.state = AttemptState.SUBMITTED if in_time else AttemptState.EXPIRED
    # The items and their versions in two queries, handed to the attempt as its loaded
    # collection (reading attempt.items would query the items a second time).
    set_committed_value(attempt, "items", session.scalars(
        select(AttemptItem).where(AttemptItem.attempt_id == attempt.id)
        .order_by(AttemptItem.position).options(selectinload(AttemptItem.version))).all())
    if session.get_bind().dialect.name == "postgresql":
        scores: dict[AttemptItem, tuple[float, float]] = {}
        final = grade_attempt(attempt, now, assign=partial(_stage_score, scores))
        store_scores(session, scores)
    else:  # SQLite runs the flush's executemany in process: nothing to gain
        final = grade_attempt(attempt, now)
    if final:
        conclude(session, now, attempt)
    audit.record(session, now, attempt.candidate_id if in_time else None,
                 f"attempt.{attempt.finish_reason}", attempt,
                 {"score": attempt.score, "passed": attempt.passed})
    return attempt


_AI = AttemptItem.__table__
_SCORED = func.unnest(bindparam("ids", type_=ARRAY(_AI.c.id.type)),
                      bindparam("fractions", type_=ARRAY(_AI.c.fraction.type)),
                      bindparam("awarded", type_=ARRAY(_AI.c.awarded.type))) \
    .table_valued("id", "fraction", "awarded").render_derived()
_STORE_SCORES = update(_AI).values(fraction=_SCORED.c.fraction, awarded=_SCORED.c.awarded) \
    .where(_AI.c.id == _SCORED.c.id)


def _stage_score(scores: dict, item: AttemptItem, fraction: float) -> None:
    """Give the item its score as if loaded, so that the ORM has no change to flush (a
    hundred changed items would cost the flush a fifth of the submit), and note it for
    :func:`store_scores`."""
    scores[item] = fraction, awarded = item_score(item, fraction)
    set_committed_value(item, "fraction", fraction)
    set_committed_value(item, "awarded", awarded)


def store_scores(session, scores: dict[AttemptItem, tuple[float, float]]) -> None:
    """Write items' scores, as (fraction, awarded) by item, in one statement (PostgreSQL):
    the flush would send an UPDATE per item, a hundred statements for the server."""
    if not scores:
        return
    with session.no_autoflush:  # nothing in the flush waits for these rows
        session.execute(_STORE_SCORES, {"ids": [item.id for item in scores],
                                        "fractions": [f for f, _ in scores.values()],
                                        "awarded": [a for _, a in scores.values()]})


def conclude(session, now: datetime, attempt: Attempt) -> None:
    """A final result: once it is released, the certificate if passed and the candidate
    told. A result released later gets both then (see ``release_results``)."""
    if attempt.passed and results_released(attempt, now):
        certs.issue(session, now, attempt)
    notifications.result_final(session, now, attempt)


# An attempt with no certificate yet (correlated to the attempt of the enclosing query).
_NO_CERTIFICATE = ~select(Certificate.id).where(Certificate.attempt_id == Attempt.id).exists()


def release_results(session, now: datetime, exam_session_id: int) -> int:
    """A session's results have just become visible: issue the certificates its passed
    attempts earned and tell its candidates. Returns how many certificates were issued.

    Not before: a certificate is public (verification by serial and name), and a holder's
    earlier one turns superseded when it is issued, so either would tell a result that is
    not released yet.
    """
    passed = session.scalars(
        select(Attempt).where(Attempt.session_id == exam_session_id,
                              Attempt.state == AttemptState.GRADED, Attempt.passed.is_(True),
                              _NO_CERTIFICATE)
        .order_by(Attempt.id)).all()
    for attempt in passed:
        certs.issue(session, now, attempt)
    notifications.release_session(session, now, exam_session_id)
    return len(passed)


def release_closed_sessions(session, now: datetime) -> int:
    """Release the results of after-close sessions whose windows have all closed, the
    candidates' own ones included, and whose grace period has passed
    (``ExamSession.all_closed_at``; the sweeper's part: nothing happens at the moment a
    window closes). Returns how many sessions."""
    own_close = ExamSession.own_windows_close_at
    rows = session.execute(
        select(ExamSession.id, ExamSession.closes_at, own_close, ExamSession.grace_seconds)
        .join(Attempt, Attempt.session_id == ExamSession.id)
        .where(ExamSession.release == ReleasePolicy.AFTER_CLOSE, ExamSession.closes_at <= now,
               or_(own_close.is_(None), own_close <= now),
               Attempt.state == AttemptState.GRADED,
               or_(Attempt.results_notified_at.is_(None),
                   and_(Attempt.passed.is_(True), _NO_CERTIFICATE)))
        .distinct()).all()
    # The grace in Python: SQLite and PostgreSQL add seconds to a time each their own way.
    ids = [exam_session_id for exam_session_id, closes_at, own, grace in rows
           if all_closed_at(closes_at, own, grace) <= now]
    for exam_session_id in ids:
        release_results(session, now, exam_session_id)
    return len(ids)


def submit(session, now: datetime, attempt_id: int, candidate_id: int) -> Attempt:
    """Submit: the first call closes and grades; every later call returns the same result."""
    return finish(session, now, lock_attempt(session, attempt_id, candidate_id), submitted=True)


def close_if_overdue(session, now: datetime, attempt_id: int) -> bool:
    attempt = lock_attempt(session, attempt_id)
    if attempt.is_open and is_overdue(attempt, now):
        finish(session, now, attempt)
        return True
    return False


def close_overdue(session, now: datetime, batch: int = 200) -> int:
    """Close every attempt whose deadline and grace have passed; commits per batch. First
    releases the results (certificates, notices) of after-close sessions whose windows
    have all closed."""
    release_closed_sessions(session, now)
    session.commit()
    closed, after = 0, 0
    while True:
        ids = session.scalars(
            select(Attempt.id)
            .where(Attempt.state == AttemptState.IN_PROGRESS, Attempt.deadline < now,
                   Attempt.id > after)
            .order_by(Attempt.id).limit(batch)).all()
        closed += sum(close_if_overdue(session, now, i) for i in ids)
        session.commit()
        if len(ids) < batch:
            return closed
        after = ids[-1]


# The clock's read: one row, where ``load_attempt`` builds the hundred items too (the exam
# page asks every 30 s, 33 times a second at 1,000 candidates), with the login checked in
# the same statement, as the autosave checks it: loading the login and its user through
# the ORM first cost more than the read (under the exam day's load a clock took 2.7-5.3 ms
# of a worker's CPU, an autosave 1.1-2.1). No row: not this login's own attempt, or not a
# live login of an active candidate.
_CLOCK = (
    select(_A.c.state, _A.c.deadline, _A.c.device_session_id, _S.c.grace_seconds)
    .join(_S, _S.c.id == _A.c.session_id)
    .where(_A.c.id == bindparam("attempt_id"),
           select(_L.c.id).join(_U, _U.c.id == _L.c.user_id)
           .where(_L.c.id == bindparam("token"), _L.c.user_id == _A.c.candidate_id,
                  _L.c.ended_at.is_(None), _U.c.active, _U.c.role == bindparam("role"))
           .exists()))


class ClockRead(NamedTuple):
    state: str
    deadline: datetime
    device_session_id: str | None
    grace_seconds: int


def plain_clock(db, now: datetime, attempt_id: int, login_token: str | None) -> ClockRead | None:
    """The state, deadline and device of the attempt if it is the running attempt, in time,
    of the candidate whose live login the cookie names (the caller's role check is
    ``proven_by_view``); else None, when the caller checks the login as every view does
    and loads the attempt (``load_attempt``: not found, or closed if overdue). PostgreSQL:
    one statement in autocommit on a connection of its own (the request's session unused,
    see ``plain_save_bind``)."""
    if not login_token:
        return None
    if db.engine.dialect.name == "postgresql":
        with driver.own_connection(db.engine) as conn:
            row = driver.fetch_one(conn, _CLOCK, {"attempt_id": attempt_id, "token": login_token,
                                                  "role": Role.CANDIDATE.value}, prepare=True)
    else:
        row = db.session.execute(_CLOCK, {"attempt_id": attempt_id, "token": login_token,
                                          "role": Role.CANDIDATE}).first()
    if row is None:
        return None
    # The driver's timestamptz comes in the server's TimeZone, which need not be UTC.
    read = ClockRead(row.state, as_utc(row.deadline), row.device_session_id, row.grace_seconds)
    if read.state != AttemptState.IN_PROGRESS or past_grace(read.deadline, read.grace_seconds,
                                                           now):
        return None
    return read


def load_attempt(session, now: datetime, attempt_id: int,
                 candidate_id: int | None = None) -> Attempt:
    """An attempt with its items, closed first if its time ran out (the lazy close).

    With ``candidate_id`` another candidate's attempt is reported as not found.
    """
    def query():
        return session.scalar(select(Attempt).where(Attempt.id == attempt_id)
                              .options(selectinload(Attempt.items))
                              .execution_options(populate_existing=True))

    attempt = query()
    if attempt is None or (candidate_id is not None and attempt.candidate_id != candidate_id):
        raise NotFound(_("No such attempt."))
    if attempt.is_open and is_overdue(attempt, now):
        begin_write(session)
        close_if_overdue(session, now, attempt_id)
        session.commit()
        attempt = query()
    elif (attempt.state == AttemptState.GRADED and attempt.results_notified_at is None
          and results_released(attempt, now)):
        # Released since it was graded (an after-close window has just closed) and the
        # sweeper has not been by yet: its certificate and notice now, as the sweep would.
        begin_write(session)
        attempt = lock_attempt(session, attempt_id)
        if attempt.results_notified_at is None:
            conclude(session, now, attempt)
        session.commit()
        attempt = query()
    return attempt
