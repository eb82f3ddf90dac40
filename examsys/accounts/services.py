"""Accounts: creating users, checking passwords, login sessions."""

import secrets
import unicodedata
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from examsys.accounts.models import LoginSession, Role, User
from examsys.core import audit
from examsys.core.errors import Conflict, Invalid

MIN_PASSWORD_LENGTH = 10
# No scrypt hash ever equals this, so no password matches it.
UNUSABLE_PASSWORD = "!unset"  # noqa: S105 - a marker, not a secret
# Checked against when the email is unknown, so that a wrong email costs as much time
# as a wrong password and timing does not reveal which accounts exist.
_DUMMY_HASH: dict[str, str] = {}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_name(name: str) -> str:
    """Names compare equal across width, case and spacing (张三 = 张 三, ＡＢ = ab)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(folded.split())


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def create_user(session, now: datetime, *, email: str, name: str, role: Role | str,
                password: str | None, actor_id: int | None = None) -> User:
    """Create a user; the email must be new and the password long enough.

    Without a password the account cannot log in until its holder sets one through a
    set-password link (see accounts.setup).
    """
    email = normalise_email(email)
    name = name.strip()
    if "@" not in email or not name:
        raise Invalid(_("A user needs an email address and a name."))
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(_("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(_("A user with the email %(email)s already exists.", email=email),
                       code="email_taken")
    password_hash = hash_password(password) if password else UNUSABLE_PASSWORD
    user = User(email=email, name=name, role=Role(role), password_hash=password_hash,
                created_at=now)
    session.add(user)
    audit.record(session, now, actor_id, "user.create", user, {"role": user.role.value})
    return user


def authenticate(session, email: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or user.password_hash == UNUSABLE_PASSWORD:
        # The same scrypt work as a real check: the time taken must not tell which emails
        # have an account, or which accounts have no password yet.
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def _dummy_hash(method: str) -> str:
    if method not in _DUMMY_HASH:
        _DUMMY_HASH[method] = generate_password_hash("x", method=method)
    return _DUMMY_HASH[method]


def open_login_session(session, now: datetime, user: User, ip: str | None,
                       user_agent: str | None) -> LoginSession:
    login = LoginSession(id=secrets.token_urlsafe(32), user=user, created_at=now, ip=ip,
                         user_agent=(user_agent or "")[:300])
    session.add(login)
    user.login_token = login.id
    return login


def end_login_session(session, now: datetime, token: str | None) -> None:
    if not token:
        return
    login = session.get(LoginSession, token)
    if login is not None and login.ended_at is None:
        login.ended_at = now


def load_login(session, token: str) -> User | None:
    """The user of a live login session, or None when it has ended or never existed."""
    login = session.get(LoginSession, token)
    if login is None or login.ended_at is not None or not login.user.active:
        return None
    login.user.login_token = token
    return login.user


def set_password(session, now: datetime, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(_("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    user.password_hash = hash_password(password)
    audit.record(session, now, user.id, "user.set_password", user)
