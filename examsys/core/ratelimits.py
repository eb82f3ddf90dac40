"""Rate-limit storage for one server: ``memory://``, made safe for threads.

limits' MemoryStorage (5.8) checks that its expiry timer has stopped and starts a new one
without a lock: two threads of one worker (gunicorn's gthread, waitress) can both start
the same timer, and the request fails with "threads can only be started once" (found by
the exam-day benchmark; fixed upstream in limits#352, not yet released). This storage is
the same with that step under a lock. ``RATELIMIT_STORAGE_URI=memory://`` selects it
(see config.py); shared storages (``redis://``) are untouched.
"""

import threading

from limits.storage import MemoryStorage

SCHEME = "examsys+memory"


class ThreadSafeMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self._expiry_lock = threading.Lock()
        super().__init__(uri, wrap_exceptions, **options)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_expiry_lock", None)
        return state

    def __setstate__(self, state) -> None:
        self._expiry_lock = threading.Lock()
        super().__setstate__(state)

    # Overrides MemoryStorage.__schedule_expiry (a private name, hence the mangled form).
    def _MemoryStorage__schedule_expiry(self) -> None:
        with self._expiry_lock:
            if not self.timer.is_alive():
                self.timer = threading.Timer(0.01, self._MemoryStorage__expire_events)
                self.timer.start()


def storage_uri(configured: str) -> str:
    """The storage to use for ``configured``: ``memory://`` becomes the thread-safe one."""
    return configured.replace("memory://", f"{SCHEME}://", 1) \
        if configured.startswith("memory://") else configured
