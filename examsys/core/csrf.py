"""Flask-WTF's CSRF protection, reading the API's header first and remembering the tokens
it has verified.

The JSON API sends the token in a header (X-CSRFToken) on every write, the autosave
included. Flask-WTF looks in the form first, which sets werkzeug parsing a body that is no
form, and then verifies the token from scratch: a serializer built, its key derived, an
HMAC checked, base64 and JSON decoded. That is about 0.09 ms of CPU per autosave here (a
tenth of its work in the app), for a candidate who sends the same token all day.

So, per process, a token that verified is remembered with what it carried (the session's
raw token), the key that signed it and when it was signed. The same bytes under the same
key carry the same contents: a token seen before is checked from memory, against this
request's session and, when the tokens have a time limit, its age, exactly as Flask-WTF
checks it. Anything else (a new token, a changed key, an age out of bounds, another
session) goes through Flask-WTF's own ``validate_csrf`` and answers with its message.
"""

import hmac
import time

from flask import current_app, g, request, session
from flask_wtf.csrf import CSRFProtect, logger, same_origin, validate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer
from wtforms import ValidationError

SALT = "wtf-csrf-token"  # Flask-WTF's


def _now() -> int:
    """The clock itsdangerous measures a token's age with (whole seconds)."""
    return int(time.time())


class RememberingCSRFProtect(CSRFProtect):
    # Enough for every token a worker sees in a season's busiest hour; when full the
    # memory starts afresh (cheaper and simpler than tracking the least recently used).
    capacity = 20_000

    def __init__(self, app=None):
        self._verified: dict[str, tuple[str, str | bytes, int]] = {}
        super().__init__(app)

    def _get_csrf_token(self):
        for header in current_app.config["WTF_CSRF_HEADERS"]:
            if token := request.headers.get(header):
                return token
        return super()._get_csrf_token()

    def protect(self, apply_exemptions: bool = False) -> None:
        """Flask-WTF's ``protect`` (1.2 and 1.3), with the token checked by ``_validate``.
        pyproject.toml admits only those releases: review this copy before a newer one."""
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        try:
            self._validate(self._get_csrf_token())
        except ValidationError as e:
            logger.info(e.args[0])
            self._error_response(e.args[0])
        if request.is_secure and current_app.config["WTF_CSRF_SSL_STRICT"]:
            if not request.referrer:
                self._error_response("The referrer header is missing.")
            if not same_origin(request.referrer, f"https://{request.host}/"):
                self._error_response("The referrer does not match the host.")
        g.csrf_valid = True

    def _validate(self, token: str | None) -> None:
        """Return if ``token`` is this session's, signed with the key, in time; else raise
        Flask-WTF's ``ValidationError``."""
        config = current_app.config
        key = config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key)
        field, limit = config["WTF_CSRF_FIELD_NAME"], config["WTF_CSRF_TIME_LIMIT"]
        known = self._verified.get(token) if token else None
        if (known is not None and known[1] == key and field in session
                and hmac.compare_digest(session[field], known[0])
                and (limit is None or 0 <= _now() - known[2] <= limit)):
            return
        validate_csrf(token)  # raises, with Flask-WTF's own message
        try:
            raw, signed_at = URLSafeTimedSerializer(key, salt=SALT).loads(
                token, return_timestamp=True)
        except BadData:  # verified with another key than this one: not remembered
            return
        # A key that could change in place (a list of keys) is never remembered against.
        if isinstance(raw, str) and isinstance(key, str | bytes):
            if len(self._verified) >= self.capacity:
                self._verified = {}
            self._verified[token] = (raw, key, int(signed_at.timestamp()))
