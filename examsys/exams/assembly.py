"""Drawing an exam form from a blueprint: reproducible from the attempt's seed."""

import json
import random
import threading
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from examsys.bank.models import (
    BankGeneration,
    Question,
    QuestionLevel,
    QuestionVersion,
    Status,
    Topic,
)
from examsys.bank.sections import in_topics, section_types
from examsys.bank.types import get_type
from examsys.core.errors import Conflict
from examsys.exams.models import Blueprint


@dataclass
class DrawnItem:
    """One item of a form just drawn, read like a stored item with nothing saved yet (so
    the new attempt can be shown from it without reading the form back)."""

    position: int
    section: str
    version: QuestionVersion
    points: float
    option_order: list[str] | None
    response: None = None
    last_seq: int = 0
    saved_at: None = None
    flagged: bool = False


@dataclass(frozen=True)
class Pool:
    """A section's drawable (question id, current version id) pairs, in id order, and
    the set of those question ids."""

    pairs: tuple[tuple[int, int], ...]
    questions: frozenset[int]


Pools = tuple[Pool, ...]


class PoolCache:
    """The pools of each blueprint's sections, per bank generation, in this app (one
    per app: its database is the one the generation counts for).

    Every start of one exam draws from the same pools until the bank changes; reading
    them is a scan of the bank's eligible questions (thousands of rows), the generation
    is one row. Entries of an older generation are never read again and are dropped when
    a newer one is stored. Threads may compute the same entry at once: both results are
    equal, either may stay.
    """

    def __init__(self, size: int = 64):
        self.size = size
        self._entries: dict[tuple[int, str], Pools] = {}
        self._lock = threading.Lock()

    def get(self, session, sections: list[dict]) -> Pools:
        generation = session.scalar(select(BankGeneration.number)
                                    .where(BankGeneration.id == 1))
        if generation is None:  # the row is gone (emptied by hand): nothing to key on
            return _pools(session, sections)
        key = (generation, json.dumps(sections, sort_keys=True))
        pools = self._entries.get(key)
        if pools is None:
            # Read after the generation: the pools are at least as new as their key.
            pools = _pools(session, sections)
            with self._lock:
                kept = {k: v for k, v in self._entries.items() if k[0] == generation}
                self._entries = (kept if len(kept) < self.size else {}) | {key: pools}
        return pools

    def clear(self) -> None:
        """Forget every entry: the next start reads the pools again (a cold start)."""
        with self._lock:
            self._entries = {}


def pool_cache() -> PoolCache:
    return current_app.extensions.setdefault("examsys.pool_cache", PoolCache())


def _pools(session, sections: list[dict]) -> Pools:
    """For each section, the :class:`Pool` of active questions it may draw: one query for
    the whole blueprint, each section's filter applied here (a scan per section made
    PostgreSQL read the bank once per section).

    Only a section's question types: human-marked ones only where it names them.
    """
    qc, tc, lc = Question.__table__.c, Topic.__table__.c, QuestionLevel.__table__.c
    topics = {p for s in sections for p in s["topics"]}
    # Plain columns, not ORM attributes: thousands of rows, read as tuples.
    rows = session.execute(
        select(qc.id, qc.current_version_id, qc.type, tc.path, lc.level)
        .join_from(Question.__table__, Topic.__table__, qc.topic_id == tc.id)
        .join(QuestionLevel.__table__, lc.question_id == qc.id)
        .where(qc.status == Status.ACTIVE,
               or_(*[or_(tc.path == p, tc.path.startswith(p + "/")) for p in topics]),
               lc.level.in_({v for s in sections for v in s["levels"]}),
               qc.type.in_({k for s in sections for k in section_types(s)}))
        .order_by(qc.id))
    wants = [(frozenset(section_types(s)), frozenset(s["levels"])) for s in sections]
    by_path: dict[str, list[int]] = {}
    pools: list[list[tuple[int, int]]] = [[] for _ in sections]
    last: list[int | None] = [None] * len(sections)
    for qid, vid, qtype, path, level in rows:
        matching = by_path.get(path)
        if matching is None:
            matching = by_path[path] = [i for i, s in enumerate(sections)
                                        if in_topics(path, s["topics"])]
        for i in matching:
            types, levels = wants[i]
            # One row per level of a question: take it once.
            if last[i] != qid and qtype in types and level in levels:
                pools[i].append((qid, vid))
                last[i] = qid
    return tuple(Pool(tuple(pool), frozenset(q for q, _ in pool)) for pool in pools)


def draw_form(session, blueprint: Blueprint, seed: int,
              avoid: set[int] | frozenset[int] = frozenset()) -> list[DrawnItem]:
    """Draw every section's items without repeats, shuffle options, all from ``seed``.

    Questions in ``avoid`` (seen in the candidate's last attempt) are left out where the
    section's pool is large enough without them, else as few as needed are drawn again.
    The same seed, bank and ``avoid`` give the same form. Queries, whatever the number of
    sections: the bank generation, the pools (only when not cached) and the versions.
    """
    rng = random.Random(seed)
    taken: set[int] = set()
    picks: list[tuple[dict, int]] = []
    for section, candidates in zip(blueprint.sections,
                                   pool_cache().get(session, blueprint.sections), strict=True):
        # Sections rarely share questions: when none of this pool's was taken, a plain
        # copy (the same list as the filter would give, so the same draw).
        pool = ([(q, v) for q, v in candidates.pairs if q not in taken]
                if not taken.isdisjoint(candidates.questions) else list(candidates.pairs))
        if len(pool) < section["count"]:
            raise Conflict(_("The question bank cannot fill the section %(section)s of this "
                             "exam: it needs %(count)d active items and has %(found)d.",
                             section=section["key"], count=section["count"], found=len(pool)),
                           code="bank_exhausted")
        fresh = pool
        if avoid:
            fresh = [(q, v) for q, v in pool if q not in avoid]
            if len(fresh) < section["count"]:
                seen = [(q, v) for q, v in pool if q in avoid]
                fresh += rng.sample(seen, section["count"] - len(fresh))
        for qid, vid in rng.sample(fresh, section["count"]):
            taken.add(qid)
            picks.append((section, vid))
    versions = {v.id: v for v in session.scalars(
        select(QuestionVersion).where(QuestionVersion.id.in_([vid for _, vid in picks])))}
    items = []
    for position, (section, vid) in enumerate(picks, start=1):
        version = versions[vid]
        order = get_type(version.type).shuffle(version.payload, rng, blueprint.shuffle_options)
        items.append(DrawnItem(position, section["key"], version, float(section["points"]),
                               order))
    return items
