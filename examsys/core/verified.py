"""Signed values remembered, per process, once verified: session cookies
(``core.cookies``) and CSRF tokens (``core.csrf``).

The same bytes under the same keys carry the same contents: a value seen before can be
read from memory, its age checked again as itsdangerous checks it, instead of deriving
the key, checking the HMAC and decoding it on every request of a candidate who sends
the same cookie and token all day.
"""

import time
from datetime import datetime


def now() -> int:
    """The clock itsdangerous measures a signature's age with (whole seconds)."""
    return int(time.time())


class VerifiedValues:
    """Value → (what it carried, the keys it was verified under, when it was signed)."""

    # Enough for every candidate a worker serves in a season's busiest hour; when full the
    # memory starts afresh (cheaper and simpler than tracking the least recently used).
    capacity = 20_000

    def __init__(self) -> None:
        self._seen: dict[str, tuple[object, object, int]] = {}

    def recall(self, value: str, keys, max_age: int | None):
        """What ``value`` carried if it was verified under ``keys`` and signed at most
        ``max_age`` seconds ago (None: no limit), else None."""
        known = self._seen.get(value)
        if known is None or known[1] != keys:
            return None
        if max_age is not None and not 0 <= now() - known[2] <= max_age:
            return None
        return known[0]

    def keep(self, value: str, contents, keys, signed_at: datetime) -> None:
        """Remember ``value`` as verified; ``contents`` must not change in place, nor ``keys``."""
        if len(self._seen) >= self.capacity:
            self._seen = {}
        self._seen[value] = (contents, keys, int(signed_at.timestamp()))

    def __contains__(self, value: str) -> bool:
        return value in self._seen
