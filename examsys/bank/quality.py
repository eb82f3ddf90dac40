"""Quality checks of a bank that `examsys check-bank` adds to the import validation.

Imports accept anything valid; a bank that certifies people must also be consistent:
every calculation's explanation states the result it keys, and no two questions share a
stem.
"""

import re
import unicodedata

from examsys.bank.validation import BankDocument
from examsys.bank.yamlio import Problem
from examsys.core.i18n import _

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE]-?\d+)?")


def normalised_stem(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())


def _numbers(text: str) -> list[float]:
    values = []
    for token in NUMBER.findall(text):
        try:
            values.append(float(token.replace(",", "")))
        except ValueError:
            continue
    return values


def _explains_result(payload: dict) -> list[str]:
    """Languages whose explanation does not state a number within tolerance of the key."""
    answer, tolerance = payload.get("answer"), payload.get("tolerance") or {}
    if not isinstance(answer, int | float) or len(tolerance) != 1:
        return []
    (kind, amount), = tolerance.items()
    allowed = amount if kind == "absolute" else abs(answer) * amount
    explanation = payload.get("explanation") or {}
    return [lang for lang, text in explanation.items()
            if not any(abs(value - answer) <= allowed + 1e-9 for value in _numbers(text))]


def check(doc: BankDocument) -> list[Problem]:
    problems = []
    seen: dict[str, tuple] = {}
    for q in doc.questions:
        if "answer" in q.payload and "tolerance" in q.payload:
            if not q.payload.get("explanation"):
                problems.append(Problem(q.file, q.line, f"{q.key}.explanation",
                                        _("a calculation needs an explanation that works it "
                                          "out")))
            for lang in _explains_result(q.payload):
                problems.append(Problem(q.file, q.line, f"{q.key}.explanation.{lang}",
                                        _("does not state the keyed result %(answer)s",
                                          answer=f"{q.payload['answer']:g}")))
        for lang, text in q.payload["stem"].items():
            norm = (lang, normalised_stem(text))
            if norm in seen and seen[norm][0] != q.key:
                first = seen[norm]
                problems.append(Problem(q.file, q.line, f"{q.key}.stem.{lang}",
                                        _("same stem as %(other)s (%(where)s)", other=first[0],
                                          where=f"{first[1]}:{first[2]}")))
            seen.setdefault(norm, (q.key, q.file, q.line))
    return problems
