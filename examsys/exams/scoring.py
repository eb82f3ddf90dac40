"""Scoring a closed attempt: objective items graded by their type, human-marked items from
their marks, then sections and pass/fail.

An attempt with an item whose type is not ``auto_graded`` (an essay, a practical task) waits
in the state ``marking`` until every such item is marked; only then is its result final.
"""

from collections.abc import Callable
from datetime import datetime

from examsys.bank.types import get_type
from examsys.exams.models import Attempt, AttemptItem, AttemptState

PENDING, RECONCILE, DONE = "pending", "reconcile", "done"


def rubric_max(payload: dict, points: float) -> float:
    """The most a marker can give: the sum of the rubric's criteria (else the item's points)."""
    rubric = payload.get("rubric") or []
    return float(sum(c.get("points", 0) for c in rubric)) or points


def is_blank(response) -> bool:
    return response is None or (isinstance(response, str | list | dict) and not response)


def item_score(item: AttemptItem, fraction: float) -> tuple[float, float]:
    """The item's (fraction, awarded points) for a fraction of its credit, kept in [0, 1]."""
    fraction = min(1.0, max(0.0, fraction))
    return fraction, round(item.points * fraction, 4)


def set_fraction(item: AttemptItem, fraction: float) -> None:
    item.fraction, item.awarded = item_score(item, fraction)


def grade_attempt(attempt: Attempt, now: datetime,
                  assign: Callable[[AttemptItem, float], None] = set_fraction) -> bool:
    """Grade every objective item of a closed attempt and send the others to marking.

    Pure over the loaded attempt: the caller commits (and issues the certificate).
    ``assign`` records an item's fraction: by default on the item, for the ORM to write
    at the flush; a caller that writes the scores itself passes its own.
    Returns True when the result is final.
    """
    for item in attempt.items:
        version = item.scoring_version
        qtype = get_type(version.type)
        if qtype.auto_graded:
            assign(item, qtype.grade(version.payload, item.response))
        elif item.marking is None:
            # A blank answer earns nothing whoever marks it: no marker's time is spent on it.
            if is_blank(item.response):
                item.marking = DONE
                assign(item, 0.0)
            else:
                item.marking = PENDING
    return tally(attempt, now)


def decide(blueprint, sections: list[dict]) -> tuple[float, float, bool, list[dict]]:
    """Score, maximum, pass and the finished section rows from per-section sums.

    ``sections`` holds {key, title, score, max, pass_mark}; shared by grading and the
    set-based regrade so that both decide pass/fail the same way.
    """
    score = sum(s["score"] for s in sections)
    max_score = sum(s["max"] for s in sections)
    passed = max_score > 0 and 100 * score / max_score >= blueprint.pass_mark - 1e-9
    out = []
    for s in sections:
        row = dict(s, score=round(s["score"], 4))
        row["percent"] = round(100 * row["score"] / row["max"], 2) if row["max"] else 0.0
        row["passed"] = row["pass_mark"] is None or row["percent"] >= row["pass_mark"] - 1e-9
        passed = passed and row["passed"]
        out.append(row)
    return round(score, 4), max_score, bool(passed), out


def tally(attempt: Attempt, now: datetime) -> bool:
    """Sum the items' points into sections and pass/fail once nothing waits for a marker.

    While an item waits the attempt is ``marking`` with no score; returns True when final.
    """
    if any(item.marking in (PENDING, RECONCILE) for item in attempt.items):
        attempt.state = AttemptState.MARKING
        attempt.score = attempt.passed = attempt.sections = attempt.graded_at = None
        attempt.max_score = None
        return False
    blueprint = attempt.session.blueprint
    sections = {s["key"]: {"key": s["key"], "title": s["title"], "score": 0.0, "max": 0.0,
                           "pass_mark": s.get("pass_mark")} for s in blueprint.sections}
    for item in attempt.items:
        sections[item.section]["score"] += item.awarded or 0.0
        sections[item.section]["max"] += item.points
    attempt.score, attempt.max_score, attempt.passed, attempt.sections = decide(
        blueprint, list(sections.values()))
    attempt.state = AttemptState.GRADED
    attempt.graded_at = now
    return True
