"""Translated names of certificate events and verification reasons, for templates."""

from flask_babel import gettext as _

from examsys.core.labels import status_name


def event_name(kind: str) -> str:
    return {"issued": _("issued"), "suspended": _("suspended"), "reinstated": _("reinstated"),
            "revoked": _("revoked"), "superseded": _("superseded"),
            "reminded": _("expiry reminder"),
            "education_recorded": _("continuing education recorded")}.get(kind, kind)


def reason_name(code: str) -> str:
    return {"unknown_serial": _("no certificate has this serial"),
            "name_mismatch": _("the name does not match"),
            "bad_signature": _("the link is not genuine"),
            "missing_serial": _("malformed: no serial"),
            "missing_name": _("malformed: no name"),
            "too_many_columns": _("malformed: more than two columns"),
            "too_long": _("malformed: serial or name too long"),
            "unreadable_csv": _("malformed: not readable as CSV"),
            "not_an_object": _("malformed: not an object"),
            "not_text": _("malformed: serial, name and token must be text"),
            }.get(code) or status_name(code)


TEMPLATE_GLOBALS = {"event_name": event_name, "reason_name": reason_name}
