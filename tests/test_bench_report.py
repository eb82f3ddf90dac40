"""The benchmark's arithmetic: throughput over interleaved slots, ratios to ceilings, goals.
(The benchmark itself runs apart: ``python -m benchmarks``; no timing is asserted here.)"""

from benchmarks import report
from benchmarks.sample import Sample


def samples(op: str, start: float, seconds: float, count: int, status: int = 200):
    step = seconds / count
    return [Sample(op, start + i * step, 0.01, status) for i in range(count)]


def test_ratios_pool_the_interleaved_slots_and_keep_each_rounds_own():
    slots, rows = [], []
    # Round 1: insert 1,000/s then autosave 700/s; round 2 the machine is half as fast.
    for r, (start, speed) in enumerate([(0.0, 1.0), (10.0, 0.5)], start=1):
        rows += samples("insert", start, 2.0, int(2000 * speed))
        rows += samples("autosave_max", start + 2.0, 2.0, int(1400 * speed))
        slots += [{"op": "insert", "round": r, "start": start, "end": start + 2.0},
                  {"op": "autosave_max", "round": r, "start": start + 2.0, "end": start + 4.0}]
    ops = report.summarise(rows, slots)
    # 3,000 inserts in 4 s of insert slots, not over the 12 s from first to last.
    assert ops["insert"]["throughput"] == 750.0
    assert ops["autosave_max"]["throughput"] == 525.0
    assert ops["autosave_max"]["ratio"] == 0.7
    assert ops["autosave_max"]["round_ratios"] == [0.7, 0.7]


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
