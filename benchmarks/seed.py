"""A generated exam-day world: a large bank, a 100-item certification, enrolled candidates,
and past certificate holders for employers to verify.

The bank is generated as bank YAML and goes through the real parser and validator, so
every payload is one the app accepts; it is then written with bulk inserts (the
importer writes question by question, which takes minutes for 5,000 items and is not
what the benchmark measures).
"""

import functools
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from werkzeug.security import generate_password_hash

from examsys.accounts.models import LoginSession, Role, User
from examsys.bank import importer
from examsys.bank.models import Question, QuestionLevel, QuestionVersion, Topic
from examsys.certs.models import Certificate
from examsys.certs.services import add_months, new_serial, token_for
from examsys.exams.models import (
    Attempt,
    AttemptState,
    Certification,
    Enrollment,
    ExamSession,
)
from examsys.extensions import db

BENCH_CERT = "BENCH-100"
TOPICS = ("cells", "materials", "process", "safety")
PASSWORD = "bench password 2026"  # noqa: S105 - a generated test world
# Candidates who only need to be logged in get a cheap hash; the login storm's sample keeps
# the production one (see ``populate``).
FAST_HASH = "scrypt:1024:8:1"
TYPES = ("single_choice", "multiple_choice", "true_false", "numeric")


def _question_yaml(n: int) -> str:
    topic = TOPICS[n % len(TOPICS)]
    qtype = TYPES[n % len(TYPES)]
    head = (f"  - key: BQ-{n:05d}\n    topic: bench/{topic}\n    type: {qtype}\n"
            f"    levels: [engineer]\n    difficulty: {1 + n % 5}\n"
            f"    stem: {{en: \"Generated question {n} about {topic}\", "
            f"zh: \"生成的第{n}题（{topic}）\"}}\n")
    if qtype == "single_choice":
        right = n % 4
        opts = "".join(
            f"      - {{id: {c}, {'correct: true, ' if i == right else ''}"
            f"text: {{en: \"option {c} of {n}\", zh: \"选项{c}-{n}\"}}}}\n"
            for i, c in enumerate("abcd"))
        return head + "    options:\n" + opts
    if qtype == "multiple_choice":
        opts = "".join(
            f"      - {{id: {c}, {'correct: true, ' if i in (0, 2) else ''}"
            f"text: {{en: \"choice {c} of {n}\", zh: \"选择{c}-{n}\"}}}}\n"
            for i, c in enumerate("abcde"))
        return head + "    scoring: partial\n    options:\n" + opts
    if qtype == "true_false":
        return head + f"    answer: {'true' if n % 2 else 'false'}\n"
    return head + f"    answer: {n % 97 + 0.5}\n    tolerance: {{absolute: 0.1}}\n    unit: V\n"


def bank_yaml(questions: int = 5000, forms: dict[str, int] | None = None) -> str:
    """A bank file: four topics, ``questions`` items of every objective type, and one
    certification per entry of ``forms`` (code → items per form, one section per topic;
    default BENCH-100 drawing 100)."""
    lines = ["topics:\n  - key: bench\n    name: {en: Benchmark, zh: 基准}\n    children:\n"]
    lines += [f"      - key: {t}\n        name: {{en: {t}, zh: {t}}}\n" for t in TOPICS]
    lines.append("questions:\n")
    lines += [_question_yaml(n) for n in range(1, questions + 1)]
    lines.append("certifications:\n")
    for code, items in (forms or {BENCH_CERT: 100}).items():
        lines.append(
            f"  - code: {code}\n"
            f"    name: {{en: \"Benchmark {code}\", zh: \"基准认证 {code}\"}}\n"
            "    level: engineer\n    validity_months: 24\n    blueprint:\n"
            "      time_limit_minutes: 120\n      pass_mark: 50\n      shuffle_options: true\n"
            "      sections:\n")
        lines += [f"        - key: {t}\n          title: {{en: {t}, zh: {t}}}\n"
                  f"          topics: [bench/{t}]\n          levels: [engineer]\n"
                  f"          count: {items // len(TOPICS)}\n          points: 1\n"
                  for t in TOPICS]
    return "".join(lines)


def load_bank(session, now: datetime, questions: int = 5000,
              forms: dict[str, int] | None = None) -> int:
    """Validate the generated bank with the real parser, then bulk-insert it."""
    doc = _parsed_bank(questions, tuple((forms or {BENCH_CERT: 100}).items()))
    topics_only = importer.BankDocument(topics=doc.topics)
    importer.apply(session, now, topics_only, None)
    topic_ids = dict(session.execute(select(Topic.path, Topic.id)).all())
    base = session.scalar(select(func.coalesce(func.max(Question.id), 0)))
    vbase = session.scalar(select(func.coalesce(func.max(QuestionVersion.id), 0)))
    q_rows, v_rows, l_rows = [], [], []
    for i, rec in enumerate(doc.questions, start=1):
        q_rows.append({"id": base + i, "external_key": rec.key, "topic_id": topic_ids[rec.topic],
                       "status": rec.status, "type": rec.type, "difficulty": rec.difficulty,
                       "search_text": importer.search_text(rec.payload),
                       "current_version_id": None})
        v_rows.append({"id": vbase + i, "question_id": base + i, "number": 1, "type": rec.type,
                       "difficulty": rec.difficulty, "payload": rec.payload,
                       "reference": rec.reference, "tags": rec.tags, "created_at": now})
        l_rows += [{"question_id": base + i, "level": lv} for lv in rec.levels]
    session.execute(insert(Question), q_rows)
    session.execute(insert(QuestionVersion), v_rows)
    session.execute(insert(QuestionLevel), l_rows)
    for i in range(1, len(q_rows) + 1):
        q_rows[i - 1] = {"id": base + i, "current_version_id": vbase + i}
    session.execute(Question.__table__.update()
                    .where(Question.__table__.c.id == db.bindparam("qid"))
                    .values(current_version_id=db.bindparam("vid")),
                    [{"qid": r["id"], "vid": r["current_version_id"]} for r in q_rows])
    _fix_sequences(session, ("question", "question_version"))
    importer.apply(session, now, importer.BankDocument(certifications=doc.certifications), None)
    session.commit()
    return len(doc.questions)


@functools.cache
def _parsed_bank(questions: int, forms: tuple[tuple[str, int], ...]) -> importer.BankDocument:
    # Parsing 5,000 questions of YAML takes seconds: once per run, for every backend.
    doc, problems = importer.read_upload("bench.yaml",
                                         bank_yaml(questions, dict(forms)).encode())
    if problems:
        raise RuntimeError(f"generated bank is invalid: {problems[:3]}")
    return doc


@dataclass
class World:
    session_id: int
    candidates: list[str]  # emails; the first ``slow_logins`` have the production hash
    slow_logins: int
    verify_tokens: list[str]
    max_user_id: int
    # (session cookie, CSRF token) of every candidate after the first ``slow_logins``:
    # logged in before the clock starts (see ``log_in``).
    logins: list[tuple[str, str]]


def populate(session, now: datetime, candidates: int = 1000, slow_logins: int = 16,
             holders: int = 300, production_hash: str = "scrypt:131072:8:1") -> World:
    """An open BENCH-100 session with ``candidates`` enrolled, and ``holders`` past
    candidates holding valid certificates (their verify tokens are returned)."""
    cert = session.scalar(select(Certification).where(Certification.code == BENCH_CERT))
    slow = generate_password_hash(PASSWORD, method=production_hash)
    fast = generate_password_hash(PASSWORD, method=FAST_HASH)
    es = ExamSession(certification_id=cert.id, blueprint_id=cert.current_blueprint_id,
                     title="Exam day", opens_at=now - timedelta(minutes=5),
                     closes_at=now + timedelta(hours=4), release="immediate", created_at=now)
    past = ExamSession(certification_id=cert.id, blueprint_id=cert.current_blueprint_id,
                       title="Last season", opens_at=now - timedelta(days=60),
                       closes_at=now - timedelta(days=59), release="immediate",
                       created_at=now - timedelta(days=61))
    session.add_all([es, past])
    session.flush()
    emails = [f"cand{i:05d}@bench.test" for i in range(candidates)]
    alumni = [f"holder{i:05d}@bench.test" for i in range(holders)]
    session.execute(insert(User), [
        {"email": e, "name": f"Candidate {i}", "role": Role.CANDIDATE,
         "password_hash": slow if i < slow_logins else fast, "created_at": now}
        for i, e in enumerate(emails)] + [
        {"email": e, "name": f"持证人 {i}", "role": Role.CANDIDATE, "password_hash": fast,
         "created_at": now} for i, e in enumerate(alumni)])
    ids = dict(session.execute(select(User.email, User.id)
                               .where(User.email.like("%@bench.test"))).all())
    session.execute(insert(Enrollment), [
        {"session_id": es.id, "candidate_id": ids[e], "created_at": now} for e in emails])
    session.execute(insert(Enrollment), [
        {"session_id": past.id, "candidate_id": ids[e], "created_at": past.opens_at}
        for e in alumni])
    enrollment_ids = dict(session.execute(select(Enrollment.candidate_id, Enrollment.id)
                                          .where(Enrollment.session_id == past.id)).all())
    finished = past.opens_at + timedelta(hours=1)
    session.execute(insert(Attempt), [
        {"enrollment_id": enrollment_ids[ids[e]], "candidate_id": ids[e], "session_id": past.id,
         "number": 1, "seed": random.getrandbits(62), "state": AttemptState.GRADED,
         "started_at": past.opens_at, "deadline": finished, "finished_at": finished,
         "finish_reason": "submitted", "graded_at": finished, "score": 80.0,
         "max_score": 100.0, "passed": True, "sections": []} for e in alumni])
    attempt_ids = dict(session.execute(select(Attempt.candidate_id, Attempt.id)
                                       .where(Attempt.session_id == past.id)).all())
    serials = [new_serial() for _ in alumni]
    session.execute(insert(Certificate), [
        {"serial": s, "holder_id": ids[e], "holder_name": f"持证人 {i}",
         "certification_id": cert.id, "attempt_id": attempt_ids[ids[e]], "issued_at": finished,
         "expires_at": add_months(finished, cert.validity_months)}
        for i, (e, s) in enumerate(zip(alumni, serials, strict=True))])
    session.commit()
    tokens = [token_for(Certificate(serial=s)) for s in serials]
    logins = log_in(session, now, [ids[e] for e in emails[slow_logins:]])
    return World(es.id, emails, slow_logins, tokens, max(ids.values()), logins)


def log_in(session, now: datetime, user_ids: list[int]) -> list[tuple[str, str]]:
    """Open a login session for each user, as POST /auth/login does, and return the
    cookie and CSRF token a browser would hold: what the login storm would have produced,
    without spending 0.35 s of scrypt per candidate before the timed phases."""
    from flask import current_app, g
    from flask import session as cookie_session
    from flask_wtf.csrf import generate_csrf

    app = current_app._get_current_object()
    tokens = [secrets.token_urlsafe(32) for _ in user_ids]
    session.execute(insert(LoginSession), [
        {"id": t, "user_id": u, "created_at": now, "ip": "127.0.0.1", "user_agent": "bench"}
        for t, u in zip(tokens, user_ids, strict=True)])
    session.commit()
    signer = app.session_interface.get_signing_serializer(app)
    out = []
    for token in tokens:
        with app.test_request_context():
            g.pop("csrf_token", None)  # generate_csrf caches per app context, not request
            cookie_session["_user_id"], cookie_session["_fresh"] = token, True
            csrf = generate_csrf()
            out.append((signer.dumps(dict(cookie_session)), csrf))
    return out


def _fix_sequences(session, tables) -> None:
    """Explicit ids bypass PostgreSQL's sequences: move them past the inserted rows."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(db.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT MAX(id) FROM {table}))"))
