"""Configuration from the environment; nothing secret lives in the code."""

import math
import os
import secrets
from pathlib import Path

from examsys.core import ratelimits

DEFAULT_PASSWORD_HASH = "scrypt:131072:8:1"  # noqa: S105 - n = 2^17, r = 8, p = 1


class ConfigError(ValueError):
    """A setting from the environment that cannot be used; the message names it."""


def env_number(name: str, default, *, minimum: float | None = 0, kind: type = int):
    """The number in the environment variable ``name``, or ``default`` when it is unset or
    empty. Anything but a ``kind`` (int: a whole number) of at least ``minimum`` stops
    the app or gunicorn at its start with a message naming the variable, instead of
    Python's "invalid literal for int()" with no name, or a nonsense value at run time."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if (value is None or (kind is float and not math.isfinite(value))
            or (minimum is not None and value < minimum)):
        what = "a whole number" if kind is int else "a number"
        bound = "" if minimum is None else f" of at least {minimum:g}"
        raise ConfigError(f"{name} must be {what}{bound}, not {raw!r}.")
    return value


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into the instance folder.

    The generated key keeps a single-machine install working across restarts; several app
    servers must share one SECRET_KEY through the environment.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def engine_options(database_url: str) -> dict:
    """Connection pool settings; PostgreSQL's come from the environment.

    Each gunicorn thread holds at most one connection at a time, so a pool of
    EXAMSYS_DB_POOL_SIZE (default 5, gunicorn.conf.py's 4 threads plus the odd
    background use) never makes a request wait; overflow covers bursts. Connections are
    recycled after EXAMSYS_DB_POOL_RECYCLE seconds so that a load balancer or PgBouncer
    in between never closes one under us. Liveness checks: see ``ping_after_idle``.
    """
    options: dict = {}
    if database_url.startswith("postgresql"):
        options.update(
            pool_size=env_number("EXAMSYS_DB_POOL_SIZE", 5),
            max_overflow=env_number("EXAMSYS_DB_MAX_OVERFLOW", 5, minimum=-1),
            pool_timeout=env_number("EXAMSYS_DB_POOL_TIMEOUT", 10.0, kind=float),
            pool_recycle=env_number("EXAMSYS_DB_POOL_RECYCLE", 1800, minimum=-1),
            connect_args={"connect_timeout": 10, "application_name": "examsys"},
        )
    return options


def ping_after_idle() -> float | None:
    """Seconds a pooled connection may sit idle before it is pinged at checkout
    (EXAMSYS_DB_PING_IDLE, default 1; 0 pings at every checkout), or None for never
    (EXAMSYS_DB_PRE_PING=0: a dead connection then fails one request instead of being
    replaced). See ``core.database.ping_when_idle``."""
    if os.environ.get("EXAMSYS_DB_PRE_PING", "1") == "0":
        return None
    return env_number("EXAMSYS_DB_PING_IDLE", 1.0, kind=float)


def issuer_names(cfg) -> tuple[str, str]:
    """The issuing body's name in Chinese and in English (the English one if no Chinese
    name is set)."""
    return cfg.get("ISSUER_NAME_ZH") or cfg["ISSUER_NAME"], cfg["ISSUER_NAME"]


def issuer_name(cfg, lang: str) -> str:
    """The issuing body's name for a reader of ``lang`` (zh, zh_CN …: the Chinese one)."""
    zh, en = issuer_names(cfg)
    return zh if lang.startswith("zh") else en


def load(app, overrides: dict | None = None) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'examsys.sqlite3'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url.removeprefix("postgres://")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    app.config.update(
        SECRET_KEY=None,
        SECRET_KEY_FALLBACKS=_list(os.environ.get("SECRET_KEY_FALLBACKS")),
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(database_url),
        DB_PING_AFTER_IDLE=ping_after_idle(),
        # Attempts whose items' facts each worker keeps for autosave (exams.form_cache).
        FORM_CACHE_ATTEMPTS=env_number("EXAMSYS_FORM_CACHE_ATTEMPTS", 2000, minimum=1),
        PASSWORD_HASH_METHOD=os.environ.get("EXAMSYS_PASSWORD_HASH", DEFAULT_PASSWORD_HASH),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("EXAMSYS_SECURE_COOKIES", "0") == "1",
        SESSION_COOKIE_NAME="examsys_session",
        REMEMBER_COOKIE_DURATION=0,
        WTF_CSRF_TIME_LIMIT=None,  # the login session bounds the token's life
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        BABEL_DEFAULT_LOCALE="en",
        BABEL_DEFAULT_TIMEZONE="UTC",
        LANGUAGES=["en", "zh_CN"],
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        RATELIMIT_HEADERS_ENABLED=True,
        LOGIN_RATE_LIMIT=os.environ.get("EXAMSYS_LOGIN_RATE_LIMIT", "10 per minute"),
        VERIFY_RATE_LIMIT=os.environ.get("EXAMSYS_VERIFY_RATE_LIMIT", "60 per minute"),
        # Days a candidate has to appeal a result, counted from its release.
        APPEAL_DAYS=env_number("EXAMSYS_APPEAL_DAYS", 30),
        # The issuing body in each language: pages show the reader's, certificates both.
        ISSUER_NAME=os.environ.get("EXAMSYS_ISSUER", "Lithium Battery Certification Board"),
        ISSUER_NAME_ZH=os.environ.get("EXAMSYS_ISSUER_ZH", "锂电池认证委员会"),
        # Email through an outbox (core.mail): the server, the sender, the site's address.
        SMTP_URL=os.environ.get("EXAMSYS_SMTP_URL") or None,
        MAIL_FROM=os.environ.get("EXAMSYS_MAIL_FROM", "examsys <noreply@localhost>"),
        BASE_URL=os.environ.get("EXAMSYS_BASE_URL") or None,
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
        PROXY_HOPS=env_number("EXAMSYS_PROXY_HOPS", 0),
    )
    if overrides:
        app.config.update(overrides)
    app.config["RATELIMIT_STORAGE_URI"] = ratelimits.storage_uri(
        app.config["RATELIMIT_STORAGE_URI"])
    if app.config["SMTP_URL"]:
        from examsys.core.mail import parse_url

        parse_url(app.config["SMTP_URL"])  # a wrong address stops the app at its start
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = secret_key(instance)
