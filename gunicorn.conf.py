"""gunicorn settings for examsys in production: ``gunicorn -c gunicorn.conf.py``.

Every setting can be overridden from the environment (names below) or the command line.
Sizing: each worker is a process with ``threads`` threads; each thread holds at most one
database connection at a time, so one app server opens up to workers × threads
connections. Keep the sum over all app servers under PostgreSQL's max_connections
(100 by default) minus a margin for cron, migrations and psql, or put PgBouncer between.
"""

import gc
import os
import random

from examsys.config import env_number
from examsys.extensions import db


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use (containers)
    except AttributeError:  # pragma: no cover - macOS
        return os.cpu_count() or 1


wsgi_app = os.environ.get("EXAMSYS_WSGI_APP", "examsys:create_app()")
bind = os.environ.get("EXAMSYS_BIND", "0.0.0.0:8000")

# Workers: 2 per core plus one, the usual rule for requests that wait on the database
# about as long as they compute. Threads: a request mostly waits for PostgreSQL (the
# commit's fsync above all), so a few threads per worker keep the CPU busy and let
# PostgreSQL group several commits into one WAL flush.
# (gunicorn reads WEB_CONCURRENCY itself too, first: a value that is no number, or an
# empty one, stops it with its own error, which does not name the variable.)
workers = env_number("WEB_CONCURRENCY", 2 * _cpus() + 1, minimum=1)
worker_class = os.environ.get("EXAMSYS_WORKER_CLASS", "gthread")
threads = env_number("EXAMSYS_THREADS", 4, minimum=1)

# A request that takes longer than this is stuck: the worker is killed and replaced.
# Nothing in examsys legitimately takes 30 s (bank imports run in one request: keep them
# under it, or import from the command line).
timeout = env_number("EXAMSYS_WORKER_TIMEOUT", 30)
graceful_timeout = 30  # on SIGTERM (a deploy), finish the requests in flight
# Seconds an idle keep-alive connection stays open: longer than the exam page's quietest
# spell (it reads the server's clock every 30 s, exam.js), so that a sitting candidate's
# browser keeps one connection for the whole exam and its saves reach the worker that
# served its start and holds its form (exams.form_cache); above the usual balancers' idle
# timeout (60 s), so that the balancer, not gunicorn, closes an idle connection (else a
# request sent just as gunicorn closes one fails with a 502). What it was measured to
# gain, what it costs (worker_connections, a stopping worker's wait) and when to change
# it: docs/deploy.md, the keepalive row.
keepalive = env_number("EXAMSYS_KEEPALIVE", 75)
# A keep-alive connection is served by the worker that accepted it for as long as it lasts:
# a balancer that keeps a few connections open to this server (or a client with a pool)
# can pile its load on one or two workers while the others idle, each worker running its
# Python on one core at a time. Closing a connection after about this many requests
# (at random, so that connections opened together do not all close together) lets the
# reconnection land on whichever worker accepts first, an idle one most often, as
# nginx's keepalive_requests and Apache's MaxKeepAliveRequests do. 0: never.
# Each close costs the worker's main thread a moment: gunicorn waits there for the client
# to close its side too (up to 2 s), as it does for a client that asks for the close.
keepalive_requests = max(0, env_number("EXAMSYS_KEEPALIVE_REQUESTS", 100, minimum=None))
# Recycle workers now and then so that slow leaks never matter; jitter avoids all at once.
# Not often: a new worker reads each running attempt's form again on its first save there
# (exams.form_cache), a few minutes apart at exam-day load is plenty.
max_requests = 200000
max_requests_jitter = 20000

# Load the app once in the master: workers fork with the code already imported (faster
# start, shared memory) and a broken app fails the start instead of every worker.
preload_app = True

# Headers from the load balancer (X-Forwarded-Proto) are trusted only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("EXAMSYS_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
loglevel = os.environ.get("EXAMSYS_LOG_LEVEL", "info")
proc_name = "examsys"


def pre_fork(server, worker):
    """Keep what the master loaded (code, catalogues, metadata) out of the workers' garbage
    collections: it never becomes garbage, and walking it made every full collection a
    pause of tens of milliseconds in the middle of an exam. It also keeps those pages
    shared between workers instead of copied."""
    gc.freeze()


def post_fork(server, worker):
    """Drop the database connections inherited from the master.

    With preload_app the master may have opened connections (seeding, a ping); a socket
    shared by two processes corrupts both sessions. ``close=False`` leaves the parent's
    sockets alone and gives this worker a fresh pool.
    """
    app = getattr(server.app, "callable", None)
    if app is None or not hasattr(app, "app_context"):
        return
    with app.app_context():
        db.engine.dispose(close=False)


def pre_request(worker, req):
    """Close the connection after this response, now and then (``keepalive_requests``);
    and log the request at debug level, as gunicorn's own hook does."""
    worker.log.debug("%s %s", req.method, req.path)
    if keepalive_requests and random.random() * keepalive_requests < 1:  # noqa: S311
        req.must_close = True
