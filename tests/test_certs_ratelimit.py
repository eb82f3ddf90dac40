# ruff: noqa: S603, S607 - tests run fixed local tools (poppler, this interpreter)
"""Public verification is rate limited per client; with Redis the count is shared by every
worker (two separate server processes here, as gunicorn workers would be)."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

from examsys.extensions import limiter

from .conftest import free_port


def test_verify_api_is_rate_limited_per_client(make_app):
    app = make_app(VERIFY_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [client.get("/api/v1/certificates/verify",
                        query_string={"serial": "LB-1", "name": "x"}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    other = client.get("/api/v1/certificates/verify", query_string={"serial": "x", "name": "y"},
                       environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 200


def test_only_limited_routes_pay_for_a_limit_check(make_app):
    """With no app-wide limits the before-request check is dropped: routes without a limit
    are never counted, and the routes' own limits still hold (above)."""
    app = make_app()
    limiter.reset()
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    client = app.test_client()
    assert {client.get("/verify").status_code for _ in range(5)} == {200}


def test_an_app_wide_default_limit_keeps_the_before_request_check(make_app):
    app = make_app(RATELIMIT_DEFAULT="2 per minute")
    limiter.reset()
    assert limiter._check_request_limit in app.before_request_funcs[None]
    client = app.test_client()
    # GET /verify has no limit of its own (its decorator limits POST): the default applies.
    assert [client.get("/verify").status_code for _ in range(3)] == [200, 200, 429]


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


SERVE = """
import sys
from waitress import serve
from examsys import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "k",
                  "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
                  "RATELIMIT_KEY_PREFIX": sys.argv[3], "VERIFY_RATE_LIMIT": "3 per minute"})
serve(app, host="127.0.0.1", port=int(sys.argv[2]), threads=2)
"""


def get(port: int) -> int:
    url = f"http://127.0.0.1:{port}/api/v1/certificates/verify?serial=LB-1&name=x"
    try:
        return urllib.request.urlopen(url, timeout=10).status  # noqa: S310 - our loopback
    except urllib.error.HTTPError as err:
        return err.code


@pytest.mark.skipif(not redis_up() and not os.environ.get("CI"),
                    reason="needs Redis at 127.0.0.1:6379 (apt-get install redis-server)")
def test_two_workers_share_the_count_through_redis(database_url):
    prefix = f"examsys-test-{uuid.uuid4().hex}"
    ports = [free_port(), free_port()]
    workers = [subprocess.Popen([sys.executable, "-c", SERVE, database_url, str(p), prefix])
               for p in ports]
    try:
        for port in ports:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
        codes = [get(ports[i % 2]) for i in range(4)]
        assert codes == [200, 200, 200, 429]  # 3 per minute in total, not 3 per worker
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=10)
