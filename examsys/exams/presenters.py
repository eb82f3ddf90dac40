"""What an attempt looks like to its candidate and to an examiner (API and pages alike)."""

from collections.abc import Iterable
from datetime import datetime

from examsys.bank.types import get_type
from examsys.bank.types.base import localised
from examsys.certs.models import Certificate
from examsys.certs.services import token_for
from examsys.core.clock import iso
from examsys.exams.appeals import appeal_closes_at
from examsys.exams.assembly import DrawnItem
from examsys.exams.delivery import results_released
from examsys.exams.models import Attempt, AttemptItem


def candidate_items(items: Iterable[AttemptItem | DrawnItem], lang: str) -> list[dict]:
    """The form without any key: stems, options under opaque letters, saved answers."""
    views = []
    for item in items:
        qtype = get_type(item.version.type)
        view = qtype.present(item.version.payload, item.option_order, lang)
        view.update(position=item.position, type=qtype.name, section=item.section,
                    points=item.points,
                    response=qtype.display(item.option_order, item.response),
                    seq=item.last_seq, saved_at=iso(item.saved_at), flagged=item.flagged)
        views.append(view)
    return views


def result(attempt: Attempt, certificate: Certificate | None, lang: str) -> dict:
    sections = [{"key": s["key"], "title": localised(s["title"], lang), "score": s["score"],
                 "max": s["max"], "percent": s["percent"], "passed": s["passed"]}
                for s in attempt.sections or []]
    out = {"score": attempt.score, "max_score": attempt.max_score,
           "percent": round(100 * attempt.score / attempt.max_score, 2)
           if attempt.max_score else 0.0,
           "pass_mark": attempt.session.blueprint.pass_mark,
           "passed": attempt.passed, "sections": sections, "certificate": None,
           "appeal_until": iso(appeal_closes_at(attempt))}
    if certificate is not None:
        out["certificate"] = {"serial": certificate.serial, "verify_token": token_for(certificate),
                              "expires_at": iso(certificate.expires_at)}
    return out


def for_candidate(attempt: Attempt, now: datetime, lang: str,
                  certificate: Certificate | None = None, with_items: bool = True,
                  items: list[DrawnItem] | None = None) -> dict:
    """The attempt as its candidate sees it; ``items``, the form of an attempt drawn in
    this request, stands in for its stored items (nothing saved yet)."""
    es = attempt.session
    items = attempt.items if items is None else items
    out = {
        "attempt_id": attempt.id,
        "state": attempt.state,
        "session": {"id": es.id, "title": es.title,
                    "certification": es.certification.name(lang)},
        "started_at": iso(attempt.started_at),
        "deadline": iso(attempt.deadline),
        "server_time": iso(now),
        "finished_at": iso(attempt.finished_at),
        "last_seq": max((i.last_seq for i in items), default=0),
        "sequential": es.blueprint.sequential,
        "current_position": attempt.current_position,
        "invalidation_reason": attempt.invalidation_reason,
        "released": results_released(attempt, now),
        "result": None,
    }
    if with_items:
        out["items"] = candidate_items(items, lang)
    if out["released"]:
        out["result"] = result(attempt, certificate, lang)
    return out


def for_examiner(attempt: Attempt, now: datetime, lang: str,
                 certificate: Certificate | None = None) -> dict:
    out = for_candidate(attempt, now, lang, certificate, with_items=False)
    out["candidate"] = {"id": attempt.candidate.id, "name": attempt.candidate.name,
                        "email": attempt.candidate.email}
    out["seed"] = str(attempt.seed)
    out["result"] = result(attempt, certificate, lang) if attempt.score is not None else None
    items = []
    for item, view in zip(attempt.items, candidate_items(attempt.items, lang), strict=True):
        # The key the item is scored by: after a regrade, the corrected version's.
        scoring = item.scoring_version
        qtype = get_type(scoring.type)
        key = qtype.key(scoring.payload)
        view.update(question=item.version.question_id, version=scoring.number,
                    key=qtype.display(item.option_order, key), canonical_response=item.response,
                    fraction=item.fraction, awarded=item.awarded)
        items.append(view)
    out["items"] = items
    return out
