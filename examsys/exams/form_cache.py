"""What an autosave needs to know about an attempt's items and that never changes, kept
in each worker process.

An item's id, its question version's type, the option order drawn for it and, for the
types whose parse reads it, the question's payload are fixed when the form is drawn
(question versions are immutable; a regrade changes the key an item is graded with, not
these). With them in hand, PostgreSQL's autosave parses the answer first and then
checks and writes in one statement (``delivery.plain_save``): the round trip that read
them is paid once per attempt and worker instead of once per save.

A form is served only to a login that has read it (the read checks that the login owns
the attempt), and the save checks the attempt's seed (see ``Form``).
One cache per engine (a database's ids mean nothing to another's), bounded by
``FORM_CACHE_ATTEMPTS`` attempts, least recently used first out. A form is about 20 kB
(a hundred items); size the bound to the candidates sitting at once on one app server.
"""

import threading
from collections import OrderedDict
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

DEFAULT_ATTEMPTS = 2000


class ItemFacts(NamedTuple):
    """One item's facts, as ``Form.item`` hands them out."""

    item_id: int
    type: str
    option_order: Any
    payload: dict | None  # only for types whose parse reads it (see QuestionType)


def facts(item_id: int, qtype: str, option_order, payload) -> tuple:
    """An item's facts as the cache keeps them: a plain tuple of plain values (``frozen``),
    which the garbage collector stops tracking. A worker holds a hundred items for each
    of a thousand candidates: kept as ItemFacts (a tuple subclass, which CPython tracks
    for ever) they were 100,000 of a worker's 125,000 tracked objects, and a full
    collection, a pause of every thread of the worker, took 28 ms of CPU on average
    instead of 16 (benchmark, 1,000 candidates)."""
    return (item_id, qtype, frozen(option_order), payload)


def frozen(value):
    """JSON read from the database, its lists as tuples: nothing can change a cached
    copy, and a tuple of plain values is not tracked by the garbage collector. (A list
    built in C and no call for a plain value: a worker freezes a hundred option orders
    at its first save in each attempt, all at an exam's start.)"""
    if type(value) is list:
        return tuple([frozen(v) if type(v) is list else v for v in value])
    return value


Items = dict[int, tuple]  # by position, each made by ``facts``


class Form(NamedTuple):
    """An attempt's items, its seed (which the save compares with the attempt's: a database
    restored under running workers could give its id to another attempt), and the logins
    that have shown they own it: another login is not served from here, so that no request
    can learn from the cost of its answer what someone else's form holds."""

    seed: int
    items: Items
    logins: frozenset[str]

    def item(self, position: int) -> ItemFacts | None:
        kept = self.items.get(position)
        return None if kept is None else ItemFacts._make(kept)


MAX_LOGINS = 8  # a candidate who logs in again and again starts the list afresh


class FormCache:
    def __init__(self, capacity: int):
        self.capacity = max(1, capacity)
        self._forms: OrderedDict[int, Form] = OrderedDict()
        self._lock = threading.Lock()  # gthread workers: a worker's threads share it

    def get(self, attempt_id: int, login: str) -> Form | None:
        """The attempt's form if ``login`` has shown it owns it, else None."""
        with self._lock:
            form = self._forms.get(attempt_id)
            if form is None or login not in form.logins:
                return None
            self._forms.move_to_end(attempt_id)
            return form

    def put(self, attempt_id: int, login: str, seed: int, items: Items) -> Form:
        """Keep the form read for ``login`` (its owner's: the read checks it)."""
        with self._lock:
            known = self._forms.get(attempt_id)
            logins = known.logins if known is not None and known.seed == seed else frozenset()
            if len(logins) >= MAX_LOGINS:
                logins = frozenset()
            form = self._forms[attempt_id] = Form(seed, items, logins | {login})
            self._forms.move_to_end(attempt_id)
            while len(self._forms) > self.capacity:
                self._forms.popitem(last=False)
            return form

    def clear(self) -> None:
        with self._lock:
            self._forms.clear()

    def __len__(self) -> int:
        return len(self._forms)


_caches: "WeakKeyDictionary[Any, FormCache]" = WeakKeyDictionary()
_caches_lock = threading.Lock()


def for_engine(engine, capacity: int = DEFAULT_ATTEMPTS) -> FormCache:
    """The cache of ``engine``'s database in this process (made on first use)."""
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = FormCache(capacity)
        return cache
