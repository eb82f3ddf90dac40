"""The production setup: gunicorn's configuration, the pool settings, serve --production."""

import re
import runpy
from pathlib import Path

import pytest

from examsys import cli, config

ROOT = Path(__file__).resolve().parent.parent


def gunicorn_settings(monkeypatch, **env) -> dict:
    for name in ("WEB_CONCURRENCY", "EXAMSYS_THREADS", "EXAMSYS_BIND", "EXAMSYS_WSGI_APP",
                 "EXAMSYS_KEEPALIVE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_sizes_workers_from_the_cpus_it_may_use(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: {0, 1, 2}, raising=False)
    settings = gunicorn_settings(monkeypatch)
    assert settings["workers"] == 7
    assert settings["worker_class"] == "gthread" and settings["threads"] == 4
    assert settings["preload_app"] is True
    assert settings["timeout"] == 30 and settings["graceful_timeout"] == 30
    assert settings["wsgi_app"] == "examsys:create_app()"


def test_a_sitting_candidates_connection_outlives_the_exam_pages_quiet_spells(monkeypatch):
    """The exam page reads the server's clock every so often (exam.js): gunicorn keeps an
    idle connection longer than that, so a browser keeps one connection through the exam
    and its saves stay with the worker that holds its form."""
    script = (ROOT / "examsys" / "static" / "exam.js").read_text()
    waits = [int(ms) / 1000 for ms in re.findall(r"setTimeout\(resync, (\d+)\)", script)]
    assert waits
    assert gunicorn_settings(monkeypatch)["keepalive"] > max(waits)


def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    settings = gunicorn_settings(monkeypatch, WEB_CONCURRENCY="3", EXAMSYS_THREADS="2",
                                 EXAMSYS_BIND="0.0.0.0:9000")
    assert (settings["workers"], settings["threads"], settings["bind"]) == (3, 2, "0.0.0.0:9000")


def test_workers_drop_the_masters_database_connections_after_fork(app):
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    disposed = []

    class Server:
        class app:  # noqa: N801 - gunicorn's attribute names
            callable = app

    from examsys.extensions import db

    original = type(db.engine).dispose
    try:
        type(db.engine).dispose = lambda self, close=True: disposed.append(close)
        settings["post_fork"](Server, None)
    finally:
        type(db.engine).dispose = original
    assert disposed == [False]  # the parent's sockets are left alone


def test_postgresql_gets_a_bounded_pool_from_the_environment(monkeypatch):
    monkeypatch.setenv("EXAMSYS_DB_POOL_SIZE", "7")
    monkeypatch.setenv("EXAMSYS_DB_MAX_OVERFLOW", "3")
    options = config.engine_options("postgresql+psycopg://db/examsys")
    assert options["pool_size"] == 7 and options["max_overflow"] == 3
    assert options["pool_recycle"] == 1800
    assert options["connect_args"]["application_name"] == "examsys"


def test_sqlite_keeps_the_default_pool():
    assert config.engine_options("sqlite:///x.sqlite3") == {}


def test_idle_connections_are_pinged_after_a_second_unless_told_otherwise(monkeypatch):
    assert config.ping_after_idle() == 1.0
    monkeypatch.setenv("EXAMSYS_DB_PING_IDLE", "0")
    assert config.ping_after_idle() == 0.0  # every checkout
    monkeypatch.setenv("EXAMSYS_DB_PRE_PING", "0")
    assert config.ping_after_idle() is None  # never


@pytest.mark.parametrize(("name", "value"), [
    ("WEB_CONCURRENCY", "four"), ("EXAMSYS_THREADS", "0"), ("EXAMSYS_KEEPALIVE", "2.5"),
    ("EXAMSYS_WORKER_TIMEOUT", "-1")])
def test_a_gunicorn_setting_that_is_no_number_stops_it_naming_the_variable(
        monkeypatch, name, value):
    with pytest.raises(config.ConfigError, match=f"^{name} must be a whole number"):
        gunicorn_settings(monkeypatch, **{name: value})


def test_gunicorn_refuses_a_bad_setting_before_it_serves(tmp_path):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "EXAMSYS_THREADS": "lots", "HOME": str(tmp_path)}
    done = subprocess.run(  # noqa: S603 - our own interpreter and config
        [sys.executable, "-m", "gunicorn", "--check-config", "-c",
         str(ROOT / "gunicorn.conf.py")], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60)
    assert done.returncode != 0
    assert "EXAMSYS_THREADS must be a whole number of at least 1, not 'lots'." in (
        done.stdout + done.stderr)


def test_an_empty_setting_means_its_default_and_a_bad_one_stops_the_app(
        monkeypatch, make_app):
    monkeypatch.setenv("EXAMSYS_DB_POOL_SIZE", "")
    monkeypatch.setenv("EXAMSYS_DB_POOL_TIMEOUT", "2.5")
    options = config.engine_options("postgresql+psycopg://db/examsys")
    assert options["pool_size"] == 5 and options["pool_timeout"] == 2.5
    monkeypatch.setenv("EXAMSYS_DB_POOL_TIMEOUT", "nan")
    with pytest.raises(config.ConfigError, match="^EXAMSYS_DB_POOL_TIMEOUT must be a number"):
        config.engine_options("postgresql+psycopg://db/examsys")
    monkeypatch.setenv("EXAMSYS_PROXY_HOPS", "9" * 400)  # no float holds it: still a number
    assert config.env_number("EXAMSYS_PROXY_HOPS", 0) == int("9" * 400)
    monkeypatch.delenv("EXAMSYS_PROXY_HOPS")
    monkeypatch.setenv("EXAMSYS_APPEAL_DAYS", "thirty")
    with pytest.raises(config.ConfigError, match="^EXAMSYS_APPEAL_DAYS must be a whole number"):
        make_app()


def test_serve_production_migrates_then_hands_over_to_gunicorn(runner, monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "init_database", lambda seed=True: calls.append(("init", seed)))
    def execv(path, argv):  # the real one never returns: this process becomes gunicorn
        calls.append(("exec", argv))
        raise SystemExit(0)

    monkeypatch.setattr(cli.os, "execv", execv)
    result = runner.invoke(args=["serve", "--production", "--host", "10.0.0.7", "--port",
                                 "8000", "--workers", "3"])
    assert result.exit_code == 0, result.output
    assert calls[0] == ("init", False)  # migrations, never seeding, in production
    argv = calls[1][1]
    assert argv[1:4] == ["-m", "gunicorn", "-c"] and argv[4].endswith("gunicorn.conf.py")
    assert argv[5:] == ["--bind", "10.0.0.7:8000", "--workers", "3"]


@pytest.mark.parametrize("flag", ["0", None])
def test_bench_routes_exist_only_when_asked_for(monkeypatch, make_app, flag):
    from benchmarks import bench_routes

    if flag is None:
        monkeypatch.delenv(bench_routes.ENV_FLAG, raising=False)
    else:
        monkeypatch.setenv(bench_routes.ENV_FLAG, flag)
    app = make_app()
    assert bench_routes.register(app) is False
    assert not any(r.rule.startswith("/bench") for r in app.url_map.iter_rules())


def test_bench_routes_answer_when_enabled(monkeypatch, make_app):
    from benchmarks import bench_routes
    from examsys.extensions import db

    monkeypatch.setenv(bench_routes.ENV_FLAG, "1")
    app = make_app()
    assert bench_routes.register(app) is True
    client = app.test_client()
    with app.app_context():
        bench_routes.create_bench_table()
        try:
            assert client.get("/bench/bare").get_json() == {"ok": True}
            assert client.get("/bench/read").status_code == 200
            assert client.post("/bench/insert").status_code == 201
        finally:
            db.session.execute(db.text(f"DROP TABLE {bench_routes.BENCH_TABLE}"))
            db.session.commit()


def test_the_app_runs_on_sqlite_without_the_optional_packages(tmp_path):
    """The quick start installs no extras: psycopg and redis must not be needed to import
    the app, serve a page or load the exam code (a module-level import would break it)."""
    import subprocess
    import sys

    script = """
import sys
sys.modules["psycopg"] = sys.modules["redis"] = None  # as if not installed
from examsys import create_app
import examsys.core.driver, examsys.exams.delivery, examsys.certs.public
app = create_app({"SECRET_KEY": "x" * 32})
with app.test_client() as client:
    print(client.get("/verify").status_code)
"""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bare.sqlite3'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path,  # noqa: S603
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "200"


@pytest.mark.parametrize("every", [4, 0])
def test_gunicorn_closes_a_keepalive_connection_now_and_then(tmp_path, every):
    """A keep-alive connection stays with the worker that accepted it: closed after about
    ``EXAMSYS_KEEPALIVE_REQUESTS`` requests (at random), the client's next connection goes
    to whichever worker accepts it. 0: kept for as long as the client keeps it."""
    import http.client
    import os
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'keepalive.sqlite3'}",
               SECRET_KEY="k" * 40, EXAMSYS_BENCH_ROUTES="1",
               EXAMSYS_WSGI_APP="benchmarks.bench_wsgi:app", EXAMSYS_BIND=f"127.0.0.1:{port}",
               WEB_CONCURRENCY="1", EXAMSYS_THREADS="2", EXAMSYS_KEEPALIVE_REQUESTS=str(every))
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and config
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")], cwd=ROOT,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "no gunicorn"
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        closed = 0
        for _ in range(200):
            conn.request("GET", "/bench/bare")
            response = conn.getresponse()
            assert response.status == 200 and response.read()
            if response.getheader("Connection", "").lower() == "close":
                closed += 1
                conn.close()  # http.client opens a new one for the next request
        conn.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    if every:
        assert 15 <= closed <= 100  # 50 expected; 15 and 100 are beyond 5 standard deviations
    else:
        assert closed == 0
