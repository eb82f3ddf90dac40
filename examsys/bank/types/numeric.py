"""Numeric answers with an absolute or relative tolerance."""

import math

from examsys.bank.types.base import QuestionType, ResponseError
from examsys.core.i18n import _

MAX_MAGNITUDE = 1e15


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        value = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return value if math.isfinite(value) and abs(value) <= MAX_MAGNITUDE else None


class Numeric(QuestionType):
    name = "numeric"

    def validate(self, q, problems):
        answer = _number(q.get("answer"))
        if answer is None:
            problems.add(q.line, "answer", _("must be a finite number"))
        tolerance = q.get("tolerance") or {}
        kind = None
        if not isinstance(tolerance, dict) or len(tolerance) != 1:
            problems.add(q.line, "tolerance",
                         _("give exactly one of {absolute: x} or {relative: r}"))
        else:
            kind, amount = next(iter(tolerance.items()))
            amount = _number(amount)
            if kind not in ("absolute", "relative"):
                problems.add(q.line, "tolerance", _("must be absolute or relative"))
            elif amount is None or amount < 0:
                problems.add(q.line, f"tolerance.{kind}", _("must be a number ≥ 0"))
            elif kind == "relative" and amount >= 1:
                problems.add(q.line, "tolerance.relative",
                             _("is a fraction (0.01 = 1 %); it must be below 1"))
            tolerance = {kind: amount}
        unit = q.get("unit")
        if unit is not None and (not isinstance(unit, str) or len(unit) > 20):
            problems.add(q.line, "unit", _("must be a short text such as Wh or mAh"))
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
        number = _number(response)
        if number is None:
            raise ResponseError(_("a numeric answer is a finite number"))
        return number

    def allowed_error(self, payload) -> float:
        (kind, amount), = payload["tolerance"].items()
        return amount if kind == "absolute" else abs(payload["answer"]) * amount

    def grade(self, payload, canonical):
        if canonical is None:
            return 0.0
        # A hair of slack so that 0.1 + 0.2 style rounding never fails an exact key.
        slack = 1e-9 * max(1.0, abs(payload["answer"]))
        error = abs(canonical - payload["answer"])
        return 1.0 if error <= self.allowed_error(payload) + slack else 0.0

    def key(self, payload):
        return payload["answer"]
