"""Which questions a blueprint section may draw: shared by assembly and the bank check."""

from examsys.bank.types import REGISTRY


def section_types(section: dict) -> list[str]:
    """The question types a section draws: its ``types``, else every auto-graded type.

    Human-marked types (essays) are drawn only where a section asks for them by name, so an
    exam never waits for marking by accident.
    """
    return list(section.get("types") or
                sorted(name for name, qtype in REGISTRY.items() if qtype.auto_graded))


def in_topics(path: str, roots: list[str]) -> bool:
    """Whether the topic at ``path`` is one of ``roots`` or below one of them."""
    return any(path == r or path.startswith(r + "/") for r in roots)
