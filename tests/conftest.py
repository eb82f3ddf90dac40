"""Fixtures: a real database (SQLite file, or PostgreSQL when EXAMSYS_TEST_DATABASE_URL is
set), built once by the migrations and emptied after every test; the app, a client, users."""

import contextvars
import os
import re
import socket
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import event, text

from examsys import create_app
from examsys.accounts.models import Role
from examsys.accounts.services import create_user
from examsys.bank import importer
from examsys.core.clock import utcnow
from examsys.extensions import db, limiter

# Property tests have no per-example deadline: it is a timing assertion, and on a busy
# 2-core machine it fails examples that are right ("Unreliable test timings").
settings.register_profile("examsys", deadline=None)
settings.load_profile("examsys")

DATA = Path(__file__).parent / "data"
MINI_BANK = DATA / "mini_bank.yaml"
PASSWORD = "correct horse battery"
# Fast scrypt parameters for the many accounts tests create; production's are tested apart.
TEST_HASH = "scrypt:1024:8:1"


def _test_config(url: str, **extra) -> dict:
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret-key",
              "PASSWORD_HASH_METHOD": TEST_HASH, "LOGIN_RATE_LIMIT": "1000 per minute",
              "VERIFY_RATE_LIMIT": "1000 per minute", "SERVER_NAME": "exams.test"}
    config.update(extra)
    return config


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    Tests hold an app context for calling services; without this, requests would share
    its ``g`` and database session. The test's own transaction is committed first so that
    it holds no lock a request would wait for.
    """

    def open(self, *args, **kwargs):
        if has_app_context() and db.session.registry.has():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("EXAMSYS_TEST_DATABASE_URL")
    if url:
        url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    app = create_app(_test_config(url))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        from flask_migrate import upgrade

        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return url


def _empty_all_tables() -> None:
    # The bank generation's one row stays (and moves on: triggers see the emptying).
    tables = [t.name for t in reversed(db.metadata.sorted_tables)
              if t.name != "bank_generation"]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        db.session.execute(text("PRAGMA defer_foreign_keys=ON"))
        for name in tables:
            db.session.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - our table names
    db.session.commit()


@pytest.fixture
def make_app(database_url):
    apps = []

    def factory(**extra):
        app = create_app(_test_config(database_url, **extra))
        app.test_client_class = IsolatedClient
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if apps:
        with apps[0].app_context():
            _empty_all_tables()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    limiter.reset()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def free_port() -> int:
    """A TCP port on the loopback nobody listens on (for servers a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_user(role: Role | str, email: str, name: str = "Test User"):
    user = create_user(db.session, utcnow(), email=email, name=name, role=role,
                       password=PASSWORD)
    db.session.commit()
    return user


@pytest.fixture
def examiner(app):
    return add_user(Role.EXAMINER, "examiner@example.com", "Wang Examiner")


@pytest.fixture
def candidate(app):
    return add_user(Role.CANDIDATE, "cand@example.com", "张伟")


@pytest.fixture
def other_candidate(app):
    return add_user(Role.CANDIDATE, "other@example.com", "Li Other")


@pytest.fixture
def bank(app):
    doc, problems = importer.read_files([MINI_BANK])
    assert problems == []
    importer.apply(db.session, utcnow(), doc, None)
    db.session.commit()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Api:
    """A JSON API client that logs in and sends the CSRF token like an integration would."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def login(self, email: str, password: str = PASSWORD):
        response = self.client.post("/api/v1/auth/login",
                                    json={"email": email, "password": password})
        if response.status_code == 200:
            self.token = response.get_json()["csrf_token"]
        return response

    def _headers(self):
        return {"X-CSRFToken": self.token} if self.token else {}

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, json=None, **kw):
        return self.client.post(url, json=json, headers=self._headers(), **kw)

    def put(self, url, json=None, **kw):
        return self.client.put(url, json=json, headers=self._headers(), **kw)


@pytest.fixture
def api(app):
    return Api(app.test_client())


def login_page(client, email: str, password: str = PASSWORD, next_url: str | None = None):
    """Log in through the HTML form (with its CSRF token, and ``next`` if given); returns
    the response."""
    page = client.get("/login")
    return client.post("/login", query_string={"next": next_url} if next_url else None,
                       data={"email": email, "password": password,
                             "csrf_token": csrf_from(page.get_data(as_text=True))})


def window(hours_before: float = 1, hours_after: float = 3) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(hours=hours_before), now + timedelta(hours=hours_after)


@pytest.fixture
def open_session(app, bank, examiner):
    """A TEST-CERT session open now (1 h ago until 3 h from now), immediate release."""
    from examsys.exams import scheduling

    opens, closes = window()
    es = scheduling.create_session(db.session, utcnow(), certification_code="TEST-CERT",
                                   opens_at=opens, closes_at=closes, access_code=None,
                                   release="immediate", title="Test session",
                                   actor_id=examiner.id)
    db.session.commit()
    return es


@pytest.fixture
def enrolled(app, open_session, candidate):
    from examsys.exams import scheduling

    scheduling.enroll(db.session, utcnow(), open_session,
                      [scheduling.EnrollRow(candidate.email)], actor_id=None)
    db.session.commit()
    return open_session


class _Statements(list):
    """(first word, autocommit) per statement; ``texts`` has the statements in full."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []


@contextmanager
def statements_run():
    """Each statement sent while the block runs, as (first word, whether its connection was
    in autocommit): True on PostgreSQL means a statement that is its own transaction, with
    no BEGIN or COMMIT round trip around it; SQLite's BEGIN is a statement and shows."""
    seen = _Statements()

    def record(conn, _cursor, statement, *_args):
        driver_connection = conn.connection.driver_connection
        seen.append((statement.split()[0].upper(),
                     bool(getattr(driver_connection, "autocommit", False))))
        seen.texts.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
