"""The bank's coverage: topics × levels and topics × types, as Markdown tables."""

from collections import Counter

from examsys.bank.models import LEVELS, Status
from examsys.bank.validation import BankDocument

LEVEL_HEADINGS = {"assistant_engineer": "AE", "engineer": "E", "senior_engineer": "SE",
                  "skill_5": "L5", "skill_4": "L4", "skill_3": "L3", "skill_2": "L2",
                  "skill_1": "L1"}
BEGIN, END = "<!-- bank-report:begin -->", "<!-- bank-report:end -->"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def coverage(doc: BankDocument) -> str:
    """Active questions counted by topic and level, and by topic and type."""
    active = [q for q in doc.questions if q.status == Status.ACTIVE]
    topics = [t.path for t in doc.topics] or sorted({q.topic for q in active})
    by_level = Counter((q.topic, lv) for q in active for lv in set(q.levels))
    by_type = Counter((q.topic, q.type) for q in active)
    types = sorted({q.type for q in active})
    names = {t.path: t.name_en for t in doc.topics}
    out = [f"{len(active)} active questions ({len(doc.questions) - len(active)} not active); "
           f"{len(doc.certifications)} certifications.", "",
           "Active questions by topic and level (a question may serve several levels; "
           "AE/E/SE = assistant engineer/engineer/senior engineer, L5…L1 = skill levels):", ""]
    rows = []
    for path in topics:
        counts = [by_level[(path, lv)] for lv in LEVELS]
        total = sum(1 for q in active if q.topic == path)
        if total or any(counts):
            rows.append([f"{path} ({names.get(path, '')})", total, *counts])
    rows.append(["**all**", len(active),
                 *[sum(by_level[(p, lv)] for p in topics) for lv in LEVELS]])
    out += _table(["topic", "questions", *[LEVEL_HEADINGS[lv] for lv in LEVELS]], rows)
    out += ["", "Active questions by topic and type:", ""]
    rows = [[path, *[by_type[(path, t)] for t in types]] for path in topics
            if any(by_type[(path, t)] for t in types)]
    rows.append(["**all**", *[sum(by_type[(p, t)] for p in topics) for t in types]])
    out += _table(["topic", *types], rows)
    return "\n".join(out) + "\n"


def replace_section(text: str, report: str) -> str:
    """Put ``report`` between the bank-report markers of a README."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{report}{END}{tail}"
