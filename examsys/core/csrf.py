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

from flask import current_app, g, request, session
from flask_wtf.csrf import CSRFProtect, logger, same_origin, validate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer
from wtforms import ValidationError

from examsys.core.verified import VerifiedValues

SALT = "wtf-csrf-token"  # Flask-WTF's


class RememberingCSRFProtect(CSRFProtect):
    def __init__(self, app=None):
        self._verified = VerifiedValues()
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
        raw = self._verified.recall(token, key, limit) if token else None
        if raw is not None and field in session and hmac.compare_digest(session[field], raw):
            return
        validate_csrf(token)  # raises, with Flask-WTF's own message
        try:
            raw, signed_at = URLSafeTimedSerializer(key, salt=SALT).loads(
                token, return_timestamp=True)
        except BadData:  # verified with another key than this one: not remembered
            return
        # A key that could change in place (a list of keys) is never remembered against.
        if isinstance(raw, str) and isinstance(key, str | bytes):
            self._verified.keep(token, raw, key, signed_at)
