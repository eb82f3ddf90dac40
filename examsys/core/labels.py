"""Translated names of codes shown on pages (levels, statuses, question types)."""

from flask import g
from flask_babel import gettext as _

from examsys.bank.types.base import localised as _localised


def level_name(code: str) -> str:
    return {
        "assistant_engineer": _("Assistant engineer"),
        "engineer": _("Engineer"),
        "senior_engineer": _("Senior engineer"),
        "skill_5": _("Skill level 5 (junior worker)"),
        "skill_4": _("Skill level 4 (intermediate worker)"),
        "skill_3": _("Skill level 3 (senior worker)"),
        "skill_2": _("Skill level 2 (technician)"),
        "skill_1": _("Skill level 1 (senior technician)"),
    }.get(code, code)


def status_name(code: str) -> str:
    return {"draft": _("draft"), "review": _("in review"), "active": _("active"),
            "retired": _("retired"), "in_progress": _("in progress"),
            "submitted": _("submitted"), "expired": _("closed at the deadline"),
            "graded": _("graded"), "invalidated": _("invalidated"), "valid": _("valid"),
            "revoked": _("revoked"), "not_found": _("not found"),
            "invalid": _("invalid"), "suspended": _("suspended"),
            "superseded": _("superseded"), "marking": _("awaiting marking"),
            "open": _("open"), "upheld": _("upheld"), "dismissed": _("dismissed")}.get(code, code)


def type_name(code: str) -> str:
    return {"single_choice": _("Single choice"), "multiple_choice": _("Multiple choice"),
            "true_false": _("True/false"), "numeric": _("Numeric"),
            "short_text": _("Short text"), "ordering": _("Ordering"),
            "matching": _("Matching"), "essay": _("Essay / practical"),
            "numeric_unit": _("Numeric with units")}.get(code, code)


def release_name(code: str) -> str:
    return {"immediate": _("immediately after grading"),
            "after_close": _("after every window closes"),
            "manual": _("when an examiner releases them")}.get(code, code)


def localised(texts: dict | None) -> str:
    return _localised(texts or {}, getattr(g, "lang", "en"))


def filters_args(filters: dict) -> dict:
    return {k: v for k, v in filters.items() if v}


TEMPLATE_GLOBALS = {f.__name__: f for f in (level_name, status_name, type_name, release_name,
                                             localised, filters_args)}
