"""Rate-limit storage for one server: ``memory://``, made safe for threads.

limits' MemoryStorage (5.8) checks that its expiry timer has stopped and starts a new one
without a lock: two threads of one worker (gunicorn's gthread, waitress) can both start
the same timer, and the request fails with "threads can only be started once" (found by
the exam-day benchmark; fixed upstream in limits#352, not yet released). This storage is
the same with that step under a lock. ``RATELIMIT_STORAGE_URI=memory://`` selects it
(see config.py); shared storages (``redis://``) are untouched.

It also sweeps expired counters once a second instead of 10 ms after any hit: the sweep
only frees memory (every read checks a counter's expiry itself), and starting a thread
for it a hundred times a second cost the verification storm about 3 % of its CPU.
"""

import threading

from limits.storage import MemoryStorage

SCHEME = "examsys+memory"


class ThreadSafeMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = [SCHEME]
    sweep_seconds = 1.0

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
                self.timer = threading.Timer(self.sweep_seconds,
                                             self._MemoryStorage__expire_events)
                self.timer.daemon = True  # a process exiting does not wait for a sweep
                self.timer.start()


def storage_uri(configured: str) -> str:
    """The storage to use for ``configured``: ``memory://`` becomes the thread-safe one."""
    return configured.replace("memory://", f"{SCHEME}://", 1) \
        if configured.startswith("memory://") else configured


# Config keys that declare limits for requests the routes' own decorators do not cover.
APP_WIDE_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def check_decorated_routes_only(app, limiter) -> bool:
    """Drop Flask-Limiter's before-request check when nothing needs it; returns whether it
    was dropped.

    Every limit in examsys is a decorator on its route (login, verification, bulk
    verification), and the decorator checks its own limit when the route runs. The
    before-request check is there for application-wide, default and blueprint limits: here
    it found none on every request, at about 0.08 ms of CPU each (a twentieth of an
    autosave, the exam day's busiest request). It stays when a deployment configures
    app-wide limits (``RATELIMIT_DEFAULT``, ``RATELIMIT_APPLICATION``, ``RATELIMIT_META``).
    A limit on a whole blueprint would need it too: limit the routes instead.
    """
    if any(app.config.get(key) for key in APP_WIDE_LIMITS):
        return False
    hooks = app.before_request_funcs.get(None, [])
    # A bound method compares equal to the one Flask-Limiter registered. Should a release
    # rename it, nothing is removed and every request is checked as before.
    check = getattr(limiter, "_check_request_limit", None)
    if check not in hooks:
        return False
    hooks.remove(check)
    return True
