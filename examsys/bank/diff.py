"""Differences between two versions of a question: stem, options, key and the rest."""

from dataclasses import dataclass

from examsys.bank.types import get_type


@dataclass
class Change:
    field: str
    old: str | None
    new: str | None

    @property
    def kind(self) -> str:
        return "added" if self.old is None else "removed" if self.new is None else "changed"


def _flat(prefix: str, value, out: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) and "id" in v
                                                   for v in value):
        # Options, pairs and criteria are compared by id, so reordering reads as such.
        for position, v in enumerate(value, start=1):
            _flat(f"{prefix}[{v['id']}]", {**{k: x for k, x in v.items() if k != "id"},
                                           "position": position}, out)
    elif value is not None:
        out[prefix] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def flatten(version) -> dict[str, str]:
    """A version as field path → text (``stem.en``, ``options[b].text.zh``, ``key``…)."""
    out: dict[str, str] = {}
    payload = dict(version.payload)
    _flat("", {"type": version.type, "difficulty": version.difficulty,
               "reference": version.reference, "tags": version.tags or None}, out)
    _flat("", payload, out)
    qtype = get_type(version.type)
    _flat("key", qtype.describe_key(payload, "en"), out)
    return out


def diff(old, new) -> list[Change]:
    """Every field that differs, in the new version's field order (removed ones last)."""
    a, b = flatten(old) if old is not None else {}, flatten(new)
    changes = [Change(f, a.get(f), b[f]) for f in b if a.get(f) != b[f]]
    changes += [Change(f, a[f], None) for f in a if f not in b]
    return changes
