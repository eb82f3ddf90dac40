"""Duplicate questions: the same normalised stem (NFKC, case-folded, whitespace collapsed)
as a question already in the bank or earlier in the same import.

A question whose key is already in the bank is not a duplicate: importing it again updates
that question (a new version, or nothing when unchanged).
"""

from dataclasses import dataclass

from sqlalchemy import select

from examsys.bank.interchange.common import normalise_stem
from examsys.bank.models import Question, QuestionVersion
from examsys.bank.validation import BankDocument


@dataclass(frozen=True)
class Duplicate:
    key: str            # the imported question
    file: str
    line: int
    stem: str
    other: str          # the bank question's key, or "file:line" of the earlier one
    in_bank: bool

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key}: {self.stem[:80]!r} = {self.other}"

    def as_dict(self) -> dict:
        return {"key": self.key, "file": self.file, "line": self.line, "stem": self.stem,
                "other": self.other, "in_bank": self.in_bank}


def find(session, doc: BankDocument) -> list[Duplicate]:
    """Every imported question whose stem (in any language) is already taken."""
    if not doc.questions:
        return []
    bank: dict[str, str] = {}
    # One query over current versions; the stems of a 2,000-question bank fit in memory.
    rows = session.execute(select(Question.external_key, QuestionVersion.payload).join(
        QuestionVersion, QuestionVersion.id == Question.current_version_id))
    known: set[str] = set()
    for key, payload in rows:
        known.add(key)
        for text in (payload.get("stem") or {}).values():
            bank.setdefault(normalise_stem(text), key)
    seen: dict[str, tuple[str, str]] = {}
    found = []
    for q in doc.questions:
        if q.key in known:
            # An update of a bank question: any likeness was accepted when it came in.
            for text in q.payload.get("stem", {}).values():
                seen.setdefault(normalise_stem(text), (q.key, f"{q.file}:{q.line}"))
            continue
        for _lang, text in sorted(q.payload.get("stem", {}).items()):
            norm = normalise_stem(text)
            if norm in bank and bank[norm] != q.key:
                found.append(Duplicate(q.key, q.file, q.line, text, bank[norm], True))
                break
            if norm in seen and seen[norm][0] != q.key:
                found.append(Duplicate(q.key, q.file, q.line, text, seen[norm][1], False))
                break
        for text in q.payload.get("stem", {}).values():
            seen.setdefault(normalise_stem(text), (q.key, f"{q.file}:{q.line}"))
    return found
