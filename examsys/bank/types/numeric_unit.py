"""Numeric with units: a value and a unit, converted before comparing (2500 mAh = 2.5 Ah)."""

from examsys.bank.types.base import QuestionType, ResponseError
from examsys.bank.types.numeric import number, read_tolerance, tolerance_text, within
from examsys.bank.types.units import factor_to, same_dimension, unit_key
from examsys.core.i18n import _

MAX_UNITS = 20


class NumericUnit(QuestionType):
    """``answer`` in ``unit`` with a tolerance (in that unit, or relative). ``units`` lists
    the units a candidate may answer in: names from the built-in table (same dimension as
    ``unit``), or a mapping of name to its factor to ``unit`` for any other unit. Omitted:
    every unit of the table of that dimension. The stored payload holds the resolved
    mapping, so a version grades the same forever."""

    name = "numeric_unit"
    parse_reads_payload = True  # the units a candidate may answer in
    fields = ("answer", "unit", "tolerance", "units")

    def validate(self, q, problems):
        answer = number(q.get("answer"))
        if answer is None:
            problems.at(q, "answer", _("must be a finite number"))
        tolerance = read_tolerance(q, problems)
        unit = q.get("unit")
        if not isinstance(unit, str) or not unit.strip() or len(unit) > 20:
            problems.at(q, "unit", _("is required: a short unit such as Ah or kWh"))
            return {"answer": answer, "tolerance": tolerance, "unit": None, "units": {}}
        unit = unit.strip()
        raw = q.get("units")
        if raw is None:
            units = same_dimension(unit)
        elif isinstance(raw, list) and 0 < len(raw) <= MAX_UNITS:
            units = {unit: 1.0}
            for i, name in enumerate(raw):
                factor = factor_to(name, unit) if isinstance(name, str) else None
                if factor is None:
                    problems.at(q, f"units[{i}]", _(
                        "is not a known unit convertible to %(unit)s; give units as a "
                        "mapping of unit to factor instead", unit=unit))
                else:
                    units[name.strip()] = factor
        elif isinstance(raw, dict) and 0 < len(raw) <= MAX_UNITS:
            units = {unit: 1.0}
            for name, factor in raw.items():
                factor = number(factor)
                if not isinstance(name, str) or not name.strip() or len(name) > 20:
                    problems.at(q, "units", _("unit names are short texts"))
                elif factor is None or factor <= 0:
                    problems.at(q, f"units.{name}", _("must be a factor above 0"),
                                path=("units", name))
                else:
                    units[name.strip()] = factor
        else:
            problems.at(q, "units", _("give up to %(n)d units as a list of names or a "
                                      "mapping of name to factor", n=MAX_UNITS))
            units = {unit: 1.0}
        keys = [unit_key(u) for u in units]
        if len(set(keys)) != len(keys):
            problems.at(q, "units", _("lists the same unit twice"))
        return {"answer": answer, "tolerance": tolerance, "unit": unit, "units": units}

    def present(self, payload, order, lang):
        view = super().present(payload, order, lang)
        # Alphabetical, so the list's order does not point at the answer's unit.
        view["units"] = sorted(payload["units"], key=lambda u: (u.casefold(), u))
        return view

    def parse(self, payload, order, response):
        if response is None:
            return None
        if not isinstance(response, dict) or set(response) - {"value", "unit"}:
            raise ResponseError(_('a numeric answer with a unit is {"value": number, '
                                  '"unit": text}'))
        value, unit = response.get("value"), response.get("unit")
        if isinstance(value, str):
            try:
                value = float(value.strip().replace(",", "."))
            except ValueError:
                raise ResponseError(_("a numeric answer is a number")) from None
        if value is None and unit is None:
            return None
        if value is not None:
            value = number(value)
            if value is None:
                raise ResponseError(_("a numeric answer is a finite number"))
        if unit is not None:
            unit = self._accepted(payload, unit)
        return {"value": value, "unit": unit}

    def _accepted(self, payload, unit) -> str:
        if not isinstance(unit, str) or len(unit) > 20:
            raise ResponseError(_("unknown unit %(unit)s", unit=repr(unit)))
        key = unit_key(unit)
        exact = [u for u in payload["units"] if unit_key(u) == key]
        if exact:
            return exact[0]
        # "kwh" means kWh; but "MAH" could be mAh or MAh, so only an unambiguous one.
        folded = [u for u in payload["units"] if unit_key(u).casefold() == key.casefold()]
        if len(folded) == 1:
            return folded[0]
        raise ResponseError(_("unknown unit %(unit)s", unit=repr(unit)))

    def grade(self, payload, canonical):
        if not canonical or canonical.get("value") is None or canonical.get("unit") is None:
            return 0.0
        factor = payload["units"].get(canonical["unit"])
        if factor is None:
            return 0.0
        return 1.0 if within(payload, canonical["value"] * factor) else 0.0

    def key(self, payload):
        return {"value": payload["answer"], "unit": payload["unit"]}

    def describe_key(self, payload, lang):
        return (f"{payload['answer']:g} {payload['unit']} "
                f"({tolerance_text(payload['tolerance'])}; "
                + _("accepted units: %(units)s", units=", ".join(payload["units"])) + ")")
