"""The exam-day benchmark: ``python -m benchmarks`` (options: ``--help``).

For each backend (PostgreSQL, then SQLite): build a fresh database with the migrations,
a generated bank of 5,000 questions, N enrolled candidates and past certificate holders;
start the app under gunicorn with gunicorn.conf.py (the production settings) plus the
ceiling routes; play the exam day against it; check every acknowledged save is stored.
Prints a table per backend and the goals; writes JSON and a PNG to benchmarks/results/.
"""

import argparse
import asyncio
import gc
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import select

from benchmarks import cpu, load, report, seed

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
ORDER = ["bare", "read", "read_raw", "insert", "insert_raw", "login", "start_serial", "start",
         "autosave", "verify", "clock", "autosave_max", "verify_max", "submit_serial", "submit"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backends", default="postgresql,sqlite",
                   help="comma-separated: postgresql, sqlite (default: both)")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/bench_d",
                   help="PostgreSQL database to (re)create; its contents are destroyed")
    p.add_argument("--sqlite-path", default=str(RESULTS / "bench.sqlite3"),
                   help="SQLite file to (re)create (default: in benchmarks/results/)")
    p.add_argument("--candidates", type=int, default=1000)
    p.add_argument("--sqlite-candidates", type=int, default=300,
                   help="candidates of the SQLite run (at most --candidates), there for "
                        "comparison (the goals are PostgreSQL's): SQLite commits one "
                        "transaction at a time, and its start and submit storms with a "
                        "thousand took most of a run that must stay under three minutes; "
                        "its sample of scrypt logins shrinks in proportion")
    p.add_argument("--questions", type=int, default=5000)
    p.add_argument("--items", type=int, default=100, help="items per exam form")
    p.add_argument("--slow-logins", type=int, default=12,
                   help="candidates logging in with the production scrypt cost (login storm)")
    p.add_argument("--concurrency", type=int, default=32,
                   help="connections of the closed-loop phases (ceilings, storms)")
    p.add_argument("--seconds", type=float, default=1.0,
                   help="length of each closed-loop slot (ceilings and saturations)")
    p.add_argument("--sqlite-rounds", type=int, default=2,
                   help="rounds of the SQLite run's ceilings and saturations (comparison)")
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds of interleaved ceiling and saturation slots (a ratio compares "
                        "slots measured seconds apart, so that drift in the machine's speed "
                        "hits both sides alike)")
    p.add_argument("--exam-seconds", type=float, default=12.0,
                   help="length of the exam-day phase (paced autosaves + verifications)")
    p.add_argument("--autosave-interval", type=float, default=3.0,
                   help="seconds between one candidate's autosaves")
    p.add_argument("--mid-exam-saves", type=int, default=12,
                   help="autosaves per candidate sent after the exam-day phase and before the "
                        "saturations, not measured, through the shared pool as the "
                        "saturations are: the rounds measure the middle of an exam, when a "
                        "save finds its form in the worker it reaches (exams.form_cache), as "
                        "a browser's saves find it in the worker its connection is served "
                        "by; through the pool, 1 - 0.8^12, about 93 %% of worker and attempt "
                        "pairs with five workers and the defaults. "
                        "PostgreSQL only: SQLite's autosave keeps nothing per worker")
    p.add_argument("--clock-interval", type=float, default=30.0,
                   help="seconds between one candidate's clock reads during the exam-day "
                        "phase (the exam page resynchronises its countdown every 30 s)")
    p.add_argument("--verify-rate", type=float, default=50.0,
                   help="employer verifications per second during the exam-day phase")
    p.add_argument("--serial", type=int, default=20,
                   help="starts and submits measured one at a time (unloaded latency)")
    p.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py)")
    p.add_argument("--threads", type=int, help="threads per worker (default: gunicorn.conf.py)")
    p.add_argument("--port", type=int, default=0, help="0: a free port")
    return p.parse_args(argv)


# -- databases ---------------------------------------------------------------------------

def recreate_postgres(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def recreate_sqlite(path: str) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def build_world(url: str, args, secret: str) -> tuple[seed.World, dict]:
    """Migrate and seed the database in this process (the server is started afterwards)."""
    from flask_migrate import upgrade

    from benchmarks.bench_routes import create_bench_table
    from examsys import create_app
    from examsys.core.clock import utcnow
    from examsys.extensions import db

    os.environ["DATABASE_URL"] = url
    app = create_app({"SECRET_KEY": secret})
    timings = {}
    with app.app_context():
        t = time.perf_counter()
        upgrade(directory=app.extensions["migrate"].directory)
        timings["migrate_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        seed.load_bank(db.session, utcnow(), args.questions, {seed.BENCH_CERT: args.items})
        timings["bank_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        world = seed.populate(db.session, utcnow(), args.candidates, args.slow_logins)
        create_bench_table()
        # Planner statistics, as autovacuum would have them on a live server by now.
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        timings["people_s"] = round(time.perf_counter() - t, 2)
        db.engine.dispose()
    return world, timings


def lost_saves(url: str, candidates: list[load.Candidate], secret: str) -> dict:
    """Every save the server acknowledged (200) must be in the response log."""
    from examsys import create_app
    from examsys.exams.models import AttemptItem, ResponseEvent
    from examsys.extensions import db

    os.environ["DATABASE_URL"] = url
    app = create_app({"SECRET_KEY": secret})
    acked = {(c.attempt_id, pos, seq) for c in candidates for pos, seq in c.acked_all}
    with app.app_context():
        attempt_ids = list({c.attempt_id for c in candidates if c.attempt_id})
        stored = set()
        for i in range(0, len(attempt_ids), 500):
            stored |= set(db.session.execute(
                select(AttemptItem.attempt_id, AttemptItem.position, ResponseEvent.seq)
                .join(ResponseEvent, ResponseEvent.attempt_item_id == AttemptItem.id)
                .where(AttemptItem.attempt_id.in_(attempt_ids[i:i + 500]))).all())
        db.engine.dispose()
    missing = acked - stored
    return {"acknowledged": len(acked), "stored_events": len(stored), "missing": len(missing),
            "missing_examples": sorted(missing)[:5]}


# -- the server --------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, args, world: seed.World, secret: str, port: int, log: Path):
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secret, EXAMSYS_BENCH_ROUTES="1",
               EXAMSYS_BENCH_READ_MAX_ID=str(world.max_user_id),
               EXAMSYS_WSGI_APP="benchmarks.bench_wsgi:app", EXAMSYS_BIND=f"127.0.0.1:{port}",
               # Every simulated client comes from 127.0.0.1: per-address limits would
               # turn the storms into 429s. Production keeps its limits (docs/deploy.md).
               EXAMSYS_LOGIN_RATE_LIMIT="1000000 per minute",
               EXAMSYS_VERIFY_RATE_LIMIT="1000000 per minute")
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads:
        env["EXAMSYS_THREADS"] = str(args.threads)
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and config
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"gunicorn did not start; see {log}")


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


# -- the exam day ------------------------------------------------------------------------

async def exam_day(base: str, world: seed.World, args, phases: list, slots: list,
                   unsent: dict, server_pid: int, postgresql: bool) -> tuple[list, list]:
    rec = load.Recorder()
    client = load.Client(base, rec, connections=max(args.concurrency, 64))
    cands = [load.Candidate(e) for e in world.candidates]
    tokens = world.verify_tokens
    C, D = args.concurrency, args.seconds

    async def save(cand, op, due=None, own=True):
        await client.save(cand, op, due, own)

    spread = cpu.workers(server_pid)  # each worker's CPU when the current phase began

    def phase(name):
        nonlocal spread
        now_spread = cpu.workers(server_pid)
        if phases:
            # How evenly the workers shared the phase that ends here.
            phases[-1]["worker_cpu_shares"] = cpu.shares(spread, now_spread)
        spread = now_spread
        phases.append({"phase": name, "start": round(rec.now(), 3)})

    async def slot(op, action, round_no, actors=None):
        start, sent = rec.now(), len(rec.samples)
        used = cpu.snapshot(server_pid, database=postgresql)
        workers_used = cpu.workers(server_pid)
        await load.saturate(D, C, action, actors=actors)
        # Sending stopped at start + D; the last answers arrived by "end".
        slots.append({"op": op, "round": round_no, "start": start, "stop": start + D,
                      "end": rec.now(), "cpu_us": cpu.per_request(
                          used, cpu.snapshot(server_pid, database=postgresql),
                          len(rec.samples) - sent),
                      "worker_cpu_shares": cpu.shares(workers_used, cpu.workers(server_pid))})

    try:
        await load.each(range(200), 8, lambda _i: client.call("warmup", "GET", "/bench/bare"))
        phase("login storm (production scrypt)")
        slow = cands[:world.slow_logins]
        await load.each(slow, len(slow) or 1, lambda c: client.login(c, seed.PASSWORD, "login"))
        # Everyone else logged in before the clock started (seed.log_in).
        for cand, (cookie, csrf) in zip(cands[world.slow_logins:], world.logins, strict=True):
            cand.cookie, cand.csrf = cookie, csrf
        ready = [c for c in cands if c.cookie]

        phase("start, one at a time")
        await load.each(ready[:args.serial], 1, lambda c: client.start(c, world.session_id,
                                                                       "start_serial"))
        phase("start storm")
        await load.each(ready[args.serial:], C, lambda c: client.start(c, world.session_id))
        sitting = [c for c in ready if c.attempt_id]

        phase("exam day: paced autosaves, clock reads + verifications")
        employers = range(max(1, round(args.verify_rate)))
        behind = await asyncio.gather(
            load.paced(rec, args.exam_seconds, sitting, args.autosave_interval,
                       lambda c, due: save(c, "autosave", due)),
            load.paced(rec, args.exam_seconds, employers, 1.0,
                       lambda _e, due: client.verify(secrets.choice(tokens), "verify", due)),
            load.paced(rec, args.exam_seconds, sitting, args.clock_interval,
                       lambda c, due: client.clock(c, "clock", due)))
        unsent.update(autosave=behind[0], verify=behind[1], clock=behind[2])

        if postgresql and args.mid_exam_saves:
            # Only PostgreSQL's autosave keeps forms per worker (exams.form_cache): SQLite's
            # has nothing to warm, and the run keeps its three minutes.
            phase("on to the middle of the exam (not measured)")
            await load.each(sitting * args.mid_exam_saves, C,
                            lambda c: save(c, "warmup", own=False))

        phase("ceilings and saturations, interleaved")
        for r in range(1, args.rounds + 1):
            await slot("bare", lambda _i: client.call("bare", "GET", "/bench/bare"), r)
            await slot("read", lambda _i: client.call("read", "GET", "/bench/read"), r)
            await slot("read_raw",
                       lambda _i: client.call("read_raw", "GET", "/bench/read_raw"), r)
            await slot("verify_max",
                       lambda i: client.verify(tokens[i % len(tokens)], "verify_max"), r)
            await slot("insert", lambda _i: client.call("insert", "POST", "/bench/insert"), r)
            await slot("insert_raw",
                       lambda _i: client.call("insert_raw", "POST", "/bench/insert_raw"), r)
            await slot("autosave_max", lambda c: save(c, "autosave_max", own=False), r,
                       actors=sitting)

        phase("submit, one at a time")
        await load.each(sitting[:args.serial], 1, lambda c: client.submit(c, "submit_serial"))
        phase("submit storm at the deadline")
        await load.each(sitting[args.serial:], C, lambda c: client.submit(c))
        phase("end")
    finally:
        await client.close()
    return [s for s in rec.samples if s.op != "warmup"], cands


def run_backend(backend: str, args, secret: str, stamp: str) -> tuple[dict, list]:
    t0 = time.perf_counter()
    if backend == "sqlite":
        # A smaller day, the same shape: the scrypt logins' sample shrinks with it.
        candidates = min(args.sqlite_candidates, args.candidates)
        slow = round(args.slow_logins * candidates / max(1, args.candidates))
        args = argparse.Namespace(**{**vars(args), "candidates": candidates,
                                     "slow_logins": max(1, slow) if args.slow_logins else 0,
                                     "rounds": args.sqlite_rounds})
    if backend == "postgresql":
        recreate_postgres(args.pg_url)
        url = args.pg_url
    else:
        url = recreate_sqlite(args.sqlite_path)
    world, timings = build_world(url, args, secret)
    port = args.port or free_port()
    log = RESULTS / f"gunicorn-{backend}-{stamp}.log"
    proc = start_server(url, args, world, secret, port, log)
    phases: list = []
    slots: list = []
    unsent: dict = {}
    # The load generator is Python too: one full collection of its heap (a thousand
    # candidates' forms, every sample so far) stalls it for a fifth of a second, and each
    # request due meanwhile would count the stall as the server's latency. It collects
    # before and after the exam day, never during it.
    gc.collect()
    gc.disable()
    try:
        with asyncio.Runner(loop_factory=load.event_loop_factory()) as runner:
            samples, cands = runner.run(exam_day(
                f"http://127.0.0.1:{port}", world, args, phases, slots, unsent, proc.pid,
                backend == "postgresql"))
    finally:
        gc.enable()
        stop_server(proc)
    saves = lost_saves(url, cands, secret)
    ops = report.summarise(samples, slots)
    report.add_cpu(ops, slots)
    for op, count in unsent.items():
        if op in ops:
            # Due at the exam-day pace but never sent: the server had fallen behind.
            ops[op]["unsent_behind"] = count
    result = {"backend": backend, "database": url, "candidates": args.candidates,
              "slow_logins": args.slow_logins, "rounds": args.rounds,
              "setup": timings, "phases": phases,
              "slots": slots,
              "operations": ops, "saves": saves,
              "goals": report.goals(ops, saves, args.candidates),
              "seconds": round(time.perf_counter() - t0, 1), "server_log": str(log)}
    return result, samples


def more_open_files() -> None:
    """A thousand candidates' connections and the pool's: raise the soft limit on open
    files (often 1,024) to the hard one, for this process and the server it starts."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if resource.RLIM_INFINITY not in (soft, hard) and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv=None) -> int:
    args = parse_args(argv)
    more_open_files()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    secret = secrets.token_hex(32)
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    out = {"command": command.strip(), "started_at": stamp,
           "machine": {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(),
                       "platform": platform.platform()},
           "settings": {k: v for k, v in vars(args).items() if k != "pg_url"}, "runs": []}
    all_samples = {}
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        print(f"-- {backend}: building the world and serving it ...", flush=True)
        result, samples = run_backend(backend, args, secret, stamp)
        out["runs"].append(result)
        all_samples[backend] = samples
        print(report.table(backend, result["operations"], ORDER))
        print(report.cpu_lines(result["operations"], ORDER))
        if shares := report.share_lines(result["phases"]):
            print(shares)
        s = result["saves"]
        print(f"acknowledged saves: {s['acknowledged']}, missing from the database: "
              f"{s['missing']}")
        print(report.goal_lines(result["goals"]))
        print(f"({result['seconds']} s, setup {result['setup']})\n", flush=True)
    json_path = RESULTS / f"bench-{stamp}.json"
    png_path = RESULTS / f"bench-{stamp}.png"
    json_path.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    report.plot(png_path, all_samples, ORDER)
    print(f"wrote {json_path.relative_to(ROOT)} and {png_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
