"""Translation for domain code that also runs without an app (validation, question types)."""

from flask import has_app_context
from flask_babel import gettext


def _(message: str, **values) -> str:
    """``gettext`` inside the app; the English message, formatted, outside it."""
    if has_app_context():
        return gettext(message, **values)
    return message % values if values else message
