"""Ordering: put steps (e.g. of cell manufacturing) in the right sequence."""

import random

from examsys.bank.types.base import (
    QuestionType,
    ResponseError,
    display_id,
    localised,
    original_id,
)
from examsys.bank.types.choice import read_options
from examsys.core.i18n import _

SCORING_MODES = ("partial", "all_or_nothing")


class Ordering(QuestionType):
    """Authored ``options`` are listed in the correct order. ``partial`` scoring gives the
    share of correct adjacent pairs, so one step out of place costs little, not everything
    after it."""

    name = "ordering"
    has_options = True
    fields = ("options", "scoring")

    def validate(self, q, problems):
        options = read_options(q, problems, 3, 10, with_correct=False)
        scoring = q.get("scoring", "partial")
        if scoring not in SCORING_MODES:
            problems.at(q, "scoring", _("must be partial or all_or_nothing"))
        return {"options": options, "scoring": scoring}

    def shuffle(self, payload, rng, shuffle):
        ids = [o["id"] for o in payload["options"]]
        # Always shuffled: the authored order is the key. A shuffle that lands on the key
        # is redone, so no candidate is ever shown the answer.
        # The preview (no attempt) still hides the key, in a stable order.
        rng = rng or random.Random(0)
        shuffled = ids[:]
        for _attempt in range(20):
            rng.shuffle(shuffled)
            if shuffled != ids:
                break
        if shuffled == ids:
            shuffled = ids[1:] + ids[:1]
        return shuffled

    def parse(self, payload, order, response):
        if response is None:
            return None
        if not isinstance(response, list) or len(response) != len(order):
            raise ResponseError(_("an ordering answer lists every step once"))
        canonical = [original_id(order, r) for r in response]
        if len(set(canonical)) != len(canonical):
            raise ResponseError(_("an ordering answer lists every step once"))
        return canonical

    def display(self, order, canonical):
        return None if canonical is None else [display_id(order, c) for c in canonical]

    def grade(self, payload, canonical):
        if not canonical:
            return 0.0
        key = self.key(payload)
        if payload.get("scoring") == "all_or_nothing":
            return 1.0 if canonical == key else 0.0
        pairs = set(zip(key, key[1:], strict=False))
        right = sum(pair in pairs for pair in zip(canonical, canonical[1:], strict=False))
        return right / (len(key) - 1)

    def key(self, payload):
        return [o["id"] for o in payload["options"]]

    def describe_key(self, payload, lang):
        return " → ".join(localised(o["text"], lang) for o in payload["options"])
