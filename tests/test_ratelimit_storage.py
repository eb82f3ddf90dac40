"""Rate limits counted in memory (one server, no Redis) under threads: gunicorn's gthread
workers and waitress serve several requests of one process at once."""

import threading
import time

import pytest
from limits.storage import MemoryStorage, storage_from_string

from examsys.core import ratelimits


def with_slow_timer_assignment(storage_class):
    """The storage, with a pause right after it replaces its expiry timer: the moment at
    which another thread can slip in before the new timer is started."""
    class Slow(storage_class):
        @property
        def timer(self):
            return self.__dict__["timer"]

        @timer.setter
        def timer(self, value):
            self.__dict__["timer"] = value
            time.sleep(0.005)

    return Slow


def hit_together(storage, threads: int = 8) -> list[Exception]:
    """Every thread counts one hit at once, just after the expiry timer ran out."""
    storage.timer.join()
    barrier, errors = threading.Barrier(threads), []

    def hit():
        barrier.wait()
        try:
            storage.incr("client", 60)
        except RuntimeError as exc:
            errors.append(exc)

    workers = [threading.Thread(target=hit) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return errors


def test_memory_uri_selects_the_thread_safe_storage(app):
    assert app.config["RATELIMIT_STORAGE_URI"].startswith(ratelimits.SCHEME + "://")
    assert ratelimits.storage_uri("redis://cache:6379") == "redis://cache:6379"
    storage = storage_from_string(ratelimits.storage_uri("memory://"))
    assert isinstance(storage, ratelimits.ThreadSafeMemoryStorage)


def test_hits_from_many_threads_all_count_and_none_fails():
    storage = with_slow_timer_assignment(ratelimits.ThreadSafeMemoryStorage)()
    assert hit_together(storage) == []
    assert storage.get("client") == 8


def test_one_sweep_a_second_and_counters_still_expire_on_time():
    storage = ratelimits.ThreadSafeMemoryStorage()
    storage.timer.join()  # the one the constructor starts (upstream's, 10 ms)
    storage.incr("client", 0.05)
    sweeper = storage.timer
    for _ in range(500):
        storage.incr("other", 60)
    assert storage.timer is sweeper and sweeper.is_alive()  # no thread started per hit
    time.sleep(0.1)
    # Expired although no sweep has run yet: reads check the expiry themselves.
    assert sweeper.is_alive()
    assert storage.get("client") == 0 and storage.get("other") == 500
    assert storage.incr("client", 60) == 1


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning",
                            "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.xfail(reason="limits 5.8's MemoryStorage can start one timer twice "
                          "(limits#352). When this passes, a release carries the fix: "
                          "drop examsys/core/ratelimits.py", strict=True)
def test_the_upstream_storage_still_races():
    # A race shows only when the threads interleave in its window: on a busy machine 40-45 %
    # of rounds miss it (measured with both cores loaded; seen once in CI), 20 in a row
    # about once in ten million runs. The first round that races ends the test.
    for _ in range(20):
        assert hit_together(with_slow_timer_assignment(MemoryStorage)()) == []
