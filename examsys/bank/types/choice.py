"""Single and multiple choice."""

import re

from examsys.bank.types.base import (
    QuestionType,
    ResponseError,
    display_id,
    original_id,
    read_texts,
)
from examsys.core.i18n import _

OPTION_ID = re.compile(r"^[a-z0-9_]{1,16}$")
SCORING_MODES = ("all_or_nothing", "partial")


def read_options(q, problems, min_count: int, max_count: int, *, field: str = "options",
                 with_correct: bool = True) -> list[dict]:
    """A list of ``{id, text}`` (and ``correct`` when ``with_correct``) under ``field``."""
    raw = q.get(field)
    if not isinstance(raw, list) or not (min_count <= len(raw) <= max_count):
        problems.at(q, field, _("give between %(lo)d and %(hi)d options",
                                lo=min_count, hi=max_count))
        return []
    options, seen = [], set()
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        line = q.line_of(where)  # the item's own line, a mapping's or a plain value's
        if not isinstance(item, dict):
            problems.add(line, where, _("must be a mapping with id and text"))
            continue
        oid = read_id(item.get("id"), f"{where}.id", seen, problems, line)
        text = read_texts(item.get("text"), f"{where}.text", problems, line)
        option = {"id": oid, "text": text or {}}
        if with_correct:
            correct = item.get("correct", False)
            if not isinstance(correct, bool):
                problems.add(line, f"{where}.correct", _("must be true or false"))
            option["correct"] = correct is True
        elif "correct" in item:
            problems.add(line, f"{where}.correct", _("is not used by this type"))
        options.append(option)
    return options


def read_id(raw, where: str, seen: set, problems, line: int) -> str:
    """A short id, unique among ``seen`` (which it joins)."""
    oid = str(raw if raw is not None else "")
    if not OPTION_ID.match(oid):
        problems.add(line, where, _("must be a short id such as a, b, c"))
    elif oid in seen:
        problems.add(line, where, _("duplicate option id %(id)s", id=repr(oid)))
    seen.add(oid)
    return oid


class SingleChoice(QuestionType):
    name = "single_choice"
    has_options = True
    fields = ("options",)

    def validate(self, q, problems):
        options = read_options(q, problems, 2, 8)
        if options and sum(o["correct"] for o in options) != 1:
            problems.at(q, "options", _("exactly one option must be correct: true"))
        return {"options": options}

    def parse(self, payload, order, response):
        if response is None:
            return None
        return original_id(order, response)

    def display(self, order, canonical):
        return None if canonical is None else display_id(order, canonical)

    def grade(self, payload, canonical):
        return 1.0 if canonical is not None and canonical == self.key(payload) else 0.0

    def key(self, payload):
        return next(o["id"] for o in payload["options"] if o["correct"])


class MultipleChoice(QuestionType):
    name = "multiple_choice"
    has_options = True
    fields = ("options", "scoring")

    def validate(self, q, problems):
        options = read_options(q, problems, 3, 8)
        if options and sum(o["correct"] for o in options) < 2:
            problems.at(q, "options", _("at least two options must be correct: true "
                                        "(use single_choice for one)"))
        scoring = q.get("scoring", "all_or_nothing")
        if scoring not in SCORING_MODES:
            problems.at(q, "scoring", _("must be all_or_nothing or partial"))
        return {"options": options, "scoring": scoring}

    def parse(self, payload, order, response):
        if response is None:
            return None
        if not isinstance(response, list):
            raise ResponseError(_("a multiple-choice answer is a list of option ids"))
        chosen = {original_id(order, r) for r in response}
        return sorted(chosen)

    def display(self, order, canonical):
        return None if canonical is None else sorted(display_id(order, c) for c in canonical)

    def grade(self, payload, canonical):
        if not canonical:
            return 0.0
        key = set(self.key(payload))
        chosen = set(canonical)
        if payload.get("scoring") == "partial":
            right = len(chosen & key)
            wrong = len(chosen - key)
            return max(0.0, (right - wrong) / len(key))
        return 1.0 if chosen == key else 0.0

    def key(self, payload):
        return sorted(o["id"] for o in payload["options"] if o["correct"])
