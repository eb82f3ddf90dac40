"""Numeric answers with an absolute or relative tolerance."""

import math

from examsys.bank.types.base import QuestionType, ResponseError
from examsys.core.i18n import _

MAX_MAGNITUDE = 1e15


def number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        value = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return value if math.isfinite(value) and abs(value) <= MAX_MAGNITUDE else None


class Numeric(QuestionType):
    name = "numeric"
    fields = ("answer", "tolerance", "unit")

    def validate(self, q, problems):
        answer = number(q.get("answer"))
        if answer is None:
            problems.at(q, "answer", _("must be a finite number"))
        tolerance = read_tolerance(q, problems)
        unit = q.get("unit")
        if unit is not None and (not isinstance(unit, str) or len(unit) > 20):
            problems.at(q, "unit", _("must be a short text such as Wh or mAh"))
        return {"answer": answer, "tolerance": tolerance, "unit": unit}

    def present(self, payload, order, lang):
        view = super().present(payload, order, lang)
        view["unit"] = payload.get("unit")
        return view

    def parse(self, payload, order, response):
        if response is None:
            return None
        if isinstance(response, str):
            try:
                response = float(response.strip())
            except ValueError:
                raise ResponseError(_("a numeric answer is a number")) from None
        value = number(response)
        if value is None:
            raise ResponseError(_("a numeric answer is a finite number"))
        return value

    def allowed_error(self, payload) -> float:
        (kind, amount), = payload["tolerance"].items()
        return amount if kind == "absolute" else abs(payload["answer"]) * amount

    def grade(self, payload, canonical):
        return 1.0 if canonical is not None and within(payload, canonical) else 0.0

    def key(self, payload):
        return payload["answer"]

    def describe_key(self, payload, lang):
        return f"{payload['answer']:g} {payload.get('unit') or ''} " \
               f"({tolerance_text(payload['tolerance'])})".replace("  ", " ")


def tolerance_text(tolerance: dict) -> str:
    (kind, amount), = tolerance.items()
    return f"± {amount:g}" if kind == "absolute" else f"± {amount * 100:g} %"


def read_tolerance(q, problems) -> dict:
    """``{absolute: x}`` or ``{relative: r}`` with r < 1."""
    tolerance = q.get("tolerance") or {}
    if not isinstance(tolerance, dict) or len(tolerance) != 1:
        problems.at(q, "tolerance", _("give exactly one of {absolute: x} or {relative: r}"))
        return {"absolute": 0.0}
    kind, amount = next(iter(tolerance.items()))
    amount = number(amount)
    if kind not in ("absolute", "relative"):
        problems.at(q, "tolerance", _("must be absolute or relative"))
    elif amount is None or amount < 0:
        problems.at(q, f"tolerance.{kind}", _("must be a number ≥ 0"))
    elif kind == "relative" and amount >= 1:
        problems.add(q.line_of("tolerance.relative"), "tolerance.relative",
                     _("is a fraction (0.01 = 1 %); it must be below 1"))
    return {kind: amount}


def within(payload: dict, value: float) -> bool:
    """``value`` is within the tolerance around ``payload['answer']``."""
    answer = payload["answer"]
    (kind, amount), = payload["tolerance"].items()
    allowed = amount if kind == "absolute" else abs(answer) * amount
    # A hair of slack so that 0.1 + 0.2 style rounding never fails an exact key.
    slack = 1e-9 * max(1.0, abs(answer))
    return abs(value - answer) <= allowed + slack
