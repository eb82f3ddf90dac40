"""The benchmark's arithmetic: throughput over interleaved slots, ratios to ceilings, goals.
(The benchmark itself runs apart: ``python -m benchmarks``; no timing is asserted here.)"""

import pytest

from benchmarks import cpu, report
from benchmarks.sample import Sample


def samples(op: str, start: float, seconds: float, count: int, status: int = 200,
            latency: float = 0.01):
    step = seconds / count
    return [Sample(op, start + i * step, latency, status) for i in range(count)]


def test_ratios_pool_the_interleaved_slots_and_keep_each_rounds_own():
    slots, rows = [], []
    # Round 1: insert 1,000/s then autosave 700/s; round 2 the machine is half as fast.
    for r, (start, speed) in enumerate([(0.0, 1.0), (10.0, 0.5)], start=1):
        rows += samples("insert", start, 2.0, int(2000 * speed), latency=0.0)
        rows += samples("autosave_max", start + 2.0, 2.0, int(1400 * speed), latency=0.0)
        slots += [{"op": "insert", "round": r, "start": start, "stop": start + 2.0,
                   "end": start + 2.0},
                  {"op": "autosave_max", "round": r, "start": start + 2.0, "stop": start + 4.0,
                   "end": start + 4.0}]
    ops = report.summarise(rows, slots)
    # 3,000 inserts in 4 s of insert slots, not over the 12 s from first to last.
    assert ops["insert"]["throughput"] == 750.0
    assert ops["autosave_max"]["throughput"] == 525.0
    assert ops["autosave_max"]["ratio"] == 0.7
    assert ops["autosave_max"]["round_ratios"] == [0.7, 0.7]


def test_a_slot_counts_the_answers_while_it_was_sending_not_its_drain():
    # 1,000 answers/s for the 1 s of sending; then the 32 requests still in flight drain,
    # the slowest answering 0.41 s after sending stopped.
    rows = samples("insert", 0.0, 1.0, 1000, latency=0.0)
    rows += samples("autosave_max", 0.0, 1.0, 700, latency=0.0)
    rows += [Sample("autosave_max", 0.99, 0.02 + 0.4 * i / 31, 200) for i in range(32)]
    slots = [{"op": "insert", "round": 1, "start": 0.0, "stop": 1.0, "end": 1.05},
             {"op": "autosave_max", "round": 1, "start": 0.0, "stop": 1.0, "end": 1.42}]
    ops = report.summarise(rows, slots)
    # 700 answered by 1.0 s: not 732 over 1.42 s.
    assert ops["autosave_max"]["throughput"] == 700.0
    assert ops["autosave_max"]["ratio"] == 0.7
    assert ops["autosave_max"]["count"] == 732  # latencies still count every request
    assert ops["autosave_max"]["round_ratios"] == [ops["autosave_max"]["ratio"]]
    # Results written before "stop" existed are read with the slot's end.
    old = [dict(sl) for sl in slots]
    for sl in old:
        del sl["stop"]
    assert report.summarise(rows, old)["autosave_max"]["throughput"] \
        == round(732 / 1.42, 1)


def test_an_operation_without_slots_is_measured_over_its_own_span():
    ops = report.summarise(samples("submit", 5.0, 4.0, 400))
    assert 99 < ops["submit"]["throughput"] < 101
    assert ops["submit"]["ratio"] is None


def test_errors_and_percentiles():
    rows = samples("verify_max", 0.0, 1.0, 99) + [Sample("verify_max", 0.5, 2.0, 0)]
    ops = report.summarise(rows)
    assert ops["verify_max"]["errors"] == 1
    assert ops["verify_max"]["statuses"] == {"200": 99, "0": 1}
    assert ops["verify_max"]["p50_ms"] == 10.0
    assert ops["verify_max"]["max_ms"] == 2000.0


def test_goals_say_met_or_missed_from_the_figures():
    ops = {"autosave_max": {"ratio": 0.64}, "verify_max": {"ratio": 0.72},
           "autosave": {"p99_ms": 40.0, "errors": 0, "unsent_behind": 0},
           "start_serial": {"p50_ms": 38.0}, "submit_serial": {"p50_ms": 60.0}}
    met = {g["goal"].split(" (")[0]: g["met"]
           for g in report.goals(ops, {"missing": 0}, 1000)}
    assert met["autosave throughput / durable-insert ceiling"] is False
    assert met["verification throughput / single-row-read ceiling"] is True
    assert met["submit-and-score p50, unloaded, 100 items"] is False
    assert met["acknowledged saves missing from the database"] is True


def test_the_stricter_ratio_compares_with_the_one_statement_ceiling_of_the_same_rounds():
    slots, rows = [], []
    # Per round: the session insert 1,000/s, the one-statement insert 1,400/s, autosave 840/s.
    for r, start in enumerate([0.0, 10.0], start=1):
        for i, (op, rate) in enumerate([("insert", 1000), ("insert_raw", 1400),
                                        ("autosave_max", 840)]):
            at = start + 2.0 * i
            rows += samples(op, at, 2.0, 2 * rate, latency=0.0)
            slots.append({"op": op, "round": r, "start": at, "stop": at + 2.0, "end": at + 2.0})
    ops = report.summarise(rows, slots)
    assert ops["autosave_max"]["ratio"] == 0.84
    assert (ops["autosave_max"]["strict_ceiling"], ops["autosave_max"]["strict_ratio"]) \
        == ("insert_raw", 0.6)
    assert ops["autosave_max"]["strict_round_ratios"] == [0.6, 0.6]
    assert "84% of insert" in report.table("postgresql", ops, ["autosave_max"])
    assert "60% of insert_raw" in report.table("postgresql", ops, ["autosave_max"])
    met = {g["goal"]: g["met"] for g in report.goals(ops, {"missing": 0}, 1000)}
    assert met["autosave throughput / durable-insert ceiling (closed loop)"] is True
    assert met["stricter: autosave throughput / one-statement autocommit insert "
               "(closed loop)"] is False
    # Without a measured verification, its goals say n/a rather than met or missed.
    assert met["stricter: verification throughput / one-statement autocommit read "
               "(closed loop)"] is None


def test_cpu_per_request_is_averaged_over_an_operations_slots_and_printed():
    from benchmarks import cpu

    before = {"app": 1.0, "database": 2.0, "load generator": 0.5}
    after = {"app": 1.8, "database": 2.2, "load generator": 0.6}
    assert cpu.per_request(before, after, 1000) == {"app": 800, "database": 200,
                                                    "load generator": 100}
    assert cpu.per_request(None, after, 1000) is None
    assert cpu.per_request(before, after, 0) is None
    ops = {"insert_raw": {}, "bare": {}}
    slots = [{"op": "insert_raw", "cpu_us": {"app": 800, "database": 200, "load generator": 100}},
             {"op": "insert_raw", "cpu_us": {"app": 600, "database": 100, "load generator": 50}},
             {"op": "bare", "cpu_us": None}]
    report.add_cpu(ops, slots)
    assert ops["insert_raw"]["cpu_us"] == {"app": 700, "database": 150, "load generator": 75}
    assert "cpu_us" not in ops["bare"]
    lines = report.cpu_lines(ops, ["bare", "insert_raw"]).splitlines()
    assert lines[0] == "CPU per request, µs (app / database / load generator / all):"
    assert lines[1].split() == ["insert_raw", "700", "/", "150", "/", "75", "/", "925"]


def test_cpu_snapshot_counts_this_process_as_the_load_generator():
    from benchmarks import cpu

    sum(i * i for i in range(200_000))  # some CPU of our own
    seen = cpu.snapshot(server_pid=-1)
    if seen is None:
        pytest.skip("no /proc here")
    assert set(seen) == set(cpu.GROUPS)
    assert seen["load generator"] > 0
    assert seen["app"] == 0  # no process has the id or the parent -1


def test_cpu_snapshot_keeps_what_a_servers_exited_workers_spent():
    """A worker that ends during a slot (recycled, or a closed connection's backend) is
    gone from the second reading: its CPU must still count, through its parent."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from benchmarks import cpu

    if cpu.snapshot(-1) is None:
        pytest.skip("no /proc here")
    burn = "sum(i * i for i in range(2_000_000))"
    server = subprocess.Popen([sys.executable, "-c", (  # noqa: S603 - our interpreter
        "import subprocess, sys, time\n"
        "time.sleep(0.5)\n"
        f"subprocess.run([sys.executable, '-c', {burn!r}])\n"
        "time.sleep(60)\n")])
    try:
        before = cpu.snapshot(server.pid)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        deadline = time.monotonic() + 30
        time.sleep(0.6)
        while children.read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.05)
        after = cpu.snapshot(server.pid)
    finally:
        server.kill()
        server.wait()
    spent = after["app"] - before["app"]
    assert spent >= 0.05  # the worker's burn, though it had exited


def test_worker_shares_say_how_evenly_the_workers_spent_their_cpu():
    before = {11: 1.0, 12: 2.0, 13: 0.5}
    after = {11: 4.0, 12: 3.0, 13: 0.5, 14: 0.0}  # 14 forked meanwhile, and idle
    assert cpu.shares(before, after) == [75, 25, 0, 0]
    assert cpu.shares(after, after) == []  # nothing spent: nothing to share
    phases = [{"phase": "start storm", "worker_cpu_shares": [75, 25]},
              {"phase": "on to the middle of the exam (not measured)",
               "worker_cpu_shares": [50, 50]},
              {"phase": "exam day: paced autosaves", "worker_cpu_shares": [60, 40]}]
    assert report.share_lines(phases).splitlines()[1:] == [
        "  start storm: 75 / 25", "  exam day: paced autosaves: 60 / 40"]
