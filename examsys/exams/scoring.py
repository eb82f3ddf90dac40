"""Scoring a closed attempt: every item graded by its type, then sections and pass/fail."""

from datetime import datetime

from examsys.bank.types import get_type
from examsys.exams.models import Attempt, AttemptState


def grade_attempt(attempt: Attempt, now: datetime) -> None:
    """Grade every item of a submitted or expired attempt and decide pass/fail.

    Pure over the loaded attempt: the caller commits (and issues the certificate).
    """
    blueprint = attempt.session.blueprint
    sections = {s["key"]: {"key": s["key"], "title": s["title"], "score": 0.0, "max": 0.0,
                           "pass_mark": s.get("pass_mark")} for s in blueprint.sections}
    for item in attempt.items:
        qtype = get_type(item.version.type)
        fraction = min(1.0, max(0.0, qtype.grade(item.version.payload, item.response)))
        item.fraction = fraction
        item.awarded = round(item.points * fraction, 4)
        sections[item.section]["score"] += item.awarded
        sections[item.section]["max"] += item.points
    score = sum(s["score"] for s in sections.values())
    max_score = sum(s["max"] for s in sections.values())
    passed = max_score > 0 and 100 * score / max_score >= blueprint.pass_mark - 1e-9
    for s in sections.values():
        s["score"] = round(s["score"], 4)
        s["percent"] = round(100 * s["score"] / s["max"], 2) if s["max"] else 0.0
        s["passed"] = s["pass_mark"] is None or s["percent"] >= s["pass_mark"] - 1e-9
        passed = passed and s["passed"]
    attempt.score, attempt.max_score = round(score, 4), max_score
    attempt.sections = list(sections.values())
    attempt.passed = bool(passed)
    attempt.state = AttemptState.GRADED
    attempt.graded_at = now
