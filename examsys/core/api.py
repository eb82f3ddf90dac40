"""Helpers for the JSON API."""

from flask import jsonify, request
from flask_babel import gettext as _

from examsys.core.errors import DomainError


def json_body() -> dict:
    """The request's JSON object, or a 415/400 error in the API's one shape."""
    if not request.is_json:
        raise DomainError(_("Send the request body as JSON."), code="unsupported_media_type",
                          status=415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise DomainError(_("The body must be a JSON object."), code="bad_request", status=400)
    return body


def ok(data: dict, status: int = 200):
    return jsonify(data), status
