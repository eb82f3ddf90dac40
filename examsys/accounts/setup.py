"""One-time set-password links for accounts created by enrollment."""

import hashlib

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from examsys.accounts.models import User

SETUP_SALT = "examsys.account.setup.v1"
SETUP_MAX_AGE = 14 * 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    keys = [*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.secret_key]
    return URLSafeTimedSerializer(keys, salt=SETUP_SALT)


def _fingerprint(user: User) -> str:
    # Bound to the current password hash: once a password is set, the link is spent.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def setup_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def setup_url(user: User) -> str:
    return url_for("accounts.setup", token=setup_token(user), _external=True)


def user_for_token(session, token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=SETUP_MAX_AGE)
    except BadSignature:
        return None
    user = session.get(User, data.get("u"))
    if user is None or _fingerprint(user) != data.get("f"):
        return None
    return user
