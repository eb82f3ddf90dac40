"""One error shape for the JSON API, HTML error pages for everything else."""

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

# Machine-readable codes for the HTTP errors the API can answer with.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    503: "busy",
}
# Seconds a client is asked to wait before trying again when the database is busy.
BUSY_RETRY_AFTER = 2


class DomainError(Exception):
    """A rule of the domain said no; views turn it into a 4xx answer or a flash."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 details: dict | list | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Invalid(DomainError):
    status = 422
    code = "invalid"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


def wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, details=None):
    body = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return jsonify(body), status


# Translated when an error is answered, and only the one answered (a flood of 429s should
# cost as little as possible).
_MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please log in."),
    403: _l("You do not have access to this page."),
    404: _l("Nothing was found at this address."),
    405: _l("This method is not allowed here."),
    409: _l("The request conflicts with the current state."),
    413: _l("The upload is too large."),
    415: _l("Send the request body as JSON."),
    422: _l("The request is not valid."),
    429: _l("Too many requests. Please wait a moment and try again."),
    500: _l("Something went wrong on the server. Please try again; if it happens again, "
            "tell the exam office."),
    503: _l("The server is busy. Please try again in a moment; nothing was changed."),
}


def status_message(status: int, default: str = "") -> str:
    """The user-facing message for an HTTP status, in the request's language."""
    message = _MESSAGES.get(status)
    return str(message) if message is not None else default


def database_busy(err: OperationalError) -> bool:
    """SQLite's one writer was held longer than the busy timeout (a start storm on the
    embedded database): the request changed nothing and can simply be sent again."""
    return "database is locked" in str(getattr(err, "orig", err))


def error_response(status: int, code: str, message: str, details=None):
    """The API's JSON error body, or the HTML error page, as the request's path asks."""
    if wants_json():
        return api_error(status, code, message, details)
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        return error_response(err.status, err.code, err.message, err.details)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        return error_response(400, "csrf_failed", _(
            "The form has expired or its security token is missing. Please try again."))

    @app.errorhandler(RateLimitExceeded)
    def _rate(err):
        return error_response(429, "rate_limited", status_message(429))

    @app.errorhandler(OperationalError)
    def _busy(err: OperationalError):
        if not database_busy(err):
            raise err
        from examsys.extensions import db

        db.session.rollback()
        response = app.make_response(error_response(503, "busy", status_message(503)))
        response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
        return response

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        return error_response(status, HTTP_CODES.get(status, "error"),
                              status_message(status, err.description or ""))
