"""Units the numeric-with-units type knows, by dimension, as factors to a base unit."""

import re
import unicodedata

UNITS: dict[str, dict[str, float]] = {
    "charge": {"mAh": 1e-3, "Ah": 1.0, "kAh": 1e3, "C": 1 / 3600, "kC": 1e3 / 3600},
    "energy": {"mWh": 1e-3, "Wh": 1.0, "kWh": 1e3, "MWh": 1e6, "GWh": 1e9,
               "J": 1 / 3600, "kJ": 1 / 3.6, "MJ": 1e3 / 3.6},
    "voltage": {"µV": 1e-6, "mV": 1e-3, "V": 1.0, "kV": 1e3},
    "current": {"µA": 1e-6, "mA": 1e-3, "A": 1.0, "kA": 1e3},
    "power": {"mW": 1e-3, "W": 1.0, "kW": 1e3, "MW": 1e6},
    "resistance": {"µΩ": 1e-6, "mΩ": 1e-3, "Ω": 1.0, "kΩ": 1e3},
    "mass": {"mg": 1e-3, "g": 1.0, "kg": 1e3, "t": 1e6},
    "length": {"nm": 1e-9, "µm": 1e-6, "mm": 1e-3, "cm": 1e-2, "m": 1.0, "km": 1e3},
    "time": {"ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0},
    "specific_energy": {"Wh/kg": 1.0, "kWh/kg": 1e3, "mWh/g": 1.0},
    "specific_capacity": {"mAh/g": 1.0, "Ah/kg": 1.0},
    "energy_density": {"Wh/L": 1.0, "kWh/L": 1e3},
}

_OHM = re.compile(r"ohms?$", re.IGNORECASE)


def unit_key(text: str) -> str:
    """A unit as compared: NFKC (µ → μ, Ω sign → Ω, full width → ASCII), no spaces,
    'ohm' → 'Ω' and a leading 'u' → 'μ' (how people type them on any keyboard)."""
    key = unicodedata.normalize("NFKC", text).replace(" ", "")
    key = _OHM.sub("Ω", key)
    if len(key) > 1 and key[0] == "u":
        key = "μ" + key[1:]
    return key


_INDEX = {unit_key(unit): (dim, unit) for dim, table in UNITS.items() for unit in table}


def known(unit: str) -> tuple[str, str] | None:
    """(dimension, the table's spelling) of a unit, if the table has it."""
    return _INDEX.get(unit_key(unit))


def same_dimension(unit: str) -> dict[str, float]:
    """Every unit of ``unit``'s dimension with its factor to ``unit`` (2500 mAh × 0.001 =
    2.5 Ah); just ``{unit: 1}`` for a unit the table lacks."""
    found = known(unit)
    if found is None:
        return {unit: 1.0}
    dim, spelled = found
    base = UNITS[dim][spelled]
    return {other: factor / base for other, factor in UNITS[dim].items()}


def factor_to(unit: str, target: str) -> float | None:
    a, b = known(unit), known(target)
    if a is None or b is None or a[0] != b[0]:
        return None
    return UNITS[a[0]][a[1]] / UNITS[b[0]][b[1]]
