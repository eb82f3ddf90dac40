"""Turning samples into figures: per-operation statistics, goals, a table and a plot."""

from collections import defaultdict

from benchmarks.sample import Sample

# Which ceiling each operation is compared with (same database, same server, same run).
CEILING_OF = {
    "bare": "bare", "read": "read", "insert": "insert",
    "autosave_max": "insert", "autosave": "insert",
    "verify_max": "read", "verify": "read",
}
# The stricter ceilings: the same one-row read and durable insert as one statement in
# autocommit (bench_routes: the least this stack can do per request).
STRICT_CEILING_OF = {"autosave_max": "insert_raw", "autosave": "insert_raw",
                     "verify_max": "read_raw", "verify": "read_raw"}
OK = {200, 201}


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def summarise(samples: list[Sample], slots: list[dict] = ()) -> dict[str, dict]:
    """Throughput, latency percentiles (ms) and errors per operation.

    A closed-loop operation measured in ``slots`` (interleaved rounds) counts the answers
    that arrived while its slot was sending (from ``start`` to ``stop``: every connection
    busy) over those seconds; any other operation, every answer over its span from first
    request to last answer. Ratios to a ceiling pool every round of both; each round's
    own ratio is kept beside them. (Counting a slot until its last answer would add the
    drain, when fewer and fewer requests are in flight and the slowest decides its length:
    a charge for the harness's stopping, heavier on the slower operation.)
    """
    by_op: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_op[s.op].append(s)
    windows: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for sl in slots:
        windows[sl["op"]].append(_window(sl))
    out = {}
    for op, rows in by_op.items():
        first = min(r.at for r in rows)
        last = max(r.at + r.latency for r in rows)
        answered = len(rows)
        if op in windows:
            first, last = 0.0, sum(b - a for a, b in windows[op])
            answered = sum(_answered_in(rows, w) for w in windows[op])
        latencies = sorted(r.latency * 1000 for r in rows)
        errors = sum(r.status not in OK for r in rows)
        statuses: dict[str, int] = defaultdict(int)
        for r in rows:
            statuses[str(r.status)] += 1
        out[op] = {"count": len(rows), "errors": errors, "statuses": dict(statuses),
                   "seconds": round(last - first, 3),
                   "throughput": round(answered / (last - first), 1) if last > first else 0.0,
                   "p50_ms": round(percentile(latencies, 50), 2),
                   "p95_ms": round(percentile(latencies, 95), 2),
                   "p99_ms": round(percentile(latencies, 99), 2),
                   "max_ms": round(latencies[-1], 2)}
    def compare(op: str, ceiling: str | None) -> tuple[float | None, list | None]:
        """``op``'s throughput over ``ceiling``'s, pooled and (slots) per round."""
        theirs = out.get(ceiling or "")
        if not theirs or not theirs["throughput"] or op == ceiling:
            return None, None
        return (round(out[op]["throughput"] / theirs["throughput"], 3),
                _round_ratios(by_op[op], by_op[ceiling], op, ceiling, slots)
                if op in windows else None)

    for op, stats in out.items():
        stats["ceiling"] = CEILING_OF.get(op)
        stats["ratio"], rounds = compare(op, stats["ceiling"])
        if rounds is not None:
            stats["round_ratios"] = rounds
        strict, rounds = compare(op, STRICT_CEILING_OF.get(op))
        if strict is not None:
            stats["strict_ceiling"], stats["strict_ratio"] = STRICT_CEILING_OF[op], strict
            if rounds is not None:
                stats["strict_round_ratios"] = rounds
    return out


def _window(slot: dict) -> tuple[float, float]:
    """When a slot was sending; ``end`` (its last answer) in results written before
    ``stop`` was recorded."""
    return slot["start"], slot.get("stop", slot["end"])


def _answered_in(samples, window: tuple[float, float]) -> int:
    start, stop = window
    return sum(start <= s.at + s.latency <= stop for s in samples)


def _round_ratios(rows, ceiling_rows, op: str, ceiling: str, slots) -> list[float]:
    def rate(samples, sl):
        start, stop = _window(sl)
        return _answered_in(samples, (start, stop)) / (stop - start)

    ratios = []
    for mine in (sl for sl in slots if sl["op"] == op):
        theirs = next((sl for sl in slots if sl["op"] == ceiling
                       and sl["round"] == mine["round"]), None)
        if theirs is not None and rate(ceiling_rows, theirs):
            ratios.append(round(rate(rows, mine) / rate(ceiling_rows, theirs), 3))
    return ratios


def goals(ops: dict[str, dict], saves: dict, candidates: int) -> list[dict]:
    """The issue's goals, each with the measured value and whether it is met."""
    def get(op, key):
        return ops.get(op, {}).get(key)

    rows = [
        ("autosave throughput / durable-insert ceiling (closed loop)", get("autosave_max", "ratio"),
         ">= 0.70", lambda v: v >= 0.70),
        (f"autosave p99 at {candidates} candidates, exam-day pace (ms)", get("autosave", "p99_ms"),
         "< 100", lambda v: v < 100),
        ("autosaves failed or left unsent (server behind), exam-day pace",
         None if "autosave" not in ops else
         ops["autosave"]["errors"] + ops["autosave"].get("unsent_behind", 0),
         "== 0", lambda v: v == 0),
        ("acknowledged saves missing from the database", saves.get("missing"), "== 0",
         lambda v: v == 0),
        ("verification throughput / single-row-read ceiling (closed loop)",
         get("verify_max", "ratio"), ">= 0.70", lambda v: v >= 0.70),
        ("stricter: autosave throughput / one-statement autocommit insert (closed loop)",
         get("autosave_max", "strict_ratio"), ">= 0.70", lambda v: v >= 0.70),
        ("stricter: verification throughput / one-statement autocommit read (closed loop)",
         get("verify_max", "strict_ratio"), ">= 0.70", lambda v: v >= 0.70),
        ("exam start p50, unloaded, 100 of 5,000 items (ms)", get("start_serial", "p50_ms"),
         "< 50", lambda v: v < 50),
        ("submit-and-score p50, unloaded, 100 items (ms)", get("submit_serial", "p50_ms"),
         "< 50", lambda v: v < 50),
    ]
    return [{"goal": name, "value": value, "target": target,
             "met": None if value is None else bool(test(value))}
            for name, value, target, test in rows]


def table(backend: str, ops: dict[str, dict], order: list[str]) -> str:
    head = (f"{'operation':<14}{'count':>7}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'p99 ms':>9}{'errors':>8}  vs ceiling")
    lines = [f"== {backend} ==", head, "-" * len(head)]
    for op in [o for o in order if o in ops] + sorted(set(ops) - set(order)):
        s = ops[op]
        ratio = f"{s['ratio']:.0%} of {s['ceiling']}" if s["ratio"] is not None else ""
        if s.get("round_ratios"):
            ratio += " (rounds: " + ", ".join(f"{r:.0%}" for r in s["round_ratios"]) + ")"
        if s.get("strict_ratio") is not None and s["ratio"] is not None:
            ratio += f"; {s['strict_ratio']:.0%} of {s['strict_ceiling']}"
        lines.append(f"{op:<14}{s['count']:>7}{s['throughput']:>9.1f}{s['p50_ms']:>9.1f}"
                     f"{s['p95_ms']:>9.1f}{s['p99_ms']:>9.1f}{s['errors']:>8}  {ratio}")
    return "\n".join(lines)


def add_cpu(ops: dict[str, dict], slots: list[dict]) -> None:
    """Each closed-loop operation's CPU per request by group (µs), over its slots: the
    answers of the whole slot, drain included, as the CPU was read then."""
    by_op: dict[str, list[dict]] = defaultdict(list)
    for sl in slots:
        if sl.get("cpu_us"):
            by_op[sl["op"]].append(sl["cpu_us"])
    for op, rows in by_op.items():
        if op in ops:
            ops[op]["cpu_us"] = {g: round(sum(r[g] for r in rows) / len(rows))
                                 for g in rows[0]}


def cpu_lines(ops: dict[str, dict], order: list[str]) -> str:
    rows = [(op, ops[op]["cpu_us"]) for op in order if op in ops and ops[op].get("cpu_us")]
    if not rows:
        return ""
    groups = list(rows[0][1])
    lines = ["CPU per request, µs (" + " / ".join(groups) + " / all):"]
    lines += [f"  {op:<14}" + " / ".join(f"{c[g]:>5}" for g in groups)
              + f" / {sum(c.values()):>5}" for op, c in rows]
    return "\n".join(lines)


def share_lines(phases: list[dict]) -> str:
    """The app workers' shares of the CPU in the busy phases (see cpu.shares)."""
    rows = [(p["phase"], p["worker_cpu_shares"]) for p in phases
            if "storm" in p["phase"] or p["phase"].startswith("exam day")
            if p.get("worker_cpu_shares")]
    if not rows:
        return ""
    return "app workers' shares of their CPU, %, largest first:\n" + "\n".join(
        f"  {name}: {' / '.join(map(str, shares))}" for name, shares in rows)


def goal_lines(rows: list[dict]) -> str:
    marks = {True: "MET ", False: "MISS", None: "n/a "}
    return "\n".join(f"  [{marks[r['met']]}] {r['goal']}: {r['value']} (goal {r['target']})"
                     for r in rows)


def plot(path, runs: dict[str, list[Sample]], order: list[str]) -> None:
    """Latency over time, one panel per backend, one colour per operation (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(runs), 1, figsize=(11, 3.6 * len(runs)), squeeze=False)
    colours = plt.get_cmap("tab20")
    for ax, (backend, samples) in zip(axes[:, 0], runs.items(), strict=True):
        ops = [o for o in order if any(s.op == o for s in samples)]
        for i, op in enumerate(ops):
            rows = [s for s in samples if s.op == op]
            step = max(1, len(rows) // 4000)  # keep the file small
            rows = rows[::step]
            ax.scatter([s.at for s in rows], [max(s.latency * 1000, 0.1) for s in rows],
                       s=2, color=colours(i % 20), label=op, alpha=0.6, linewidths=0)
        ax.set_yscale("log")
        ax.set_title(f"{backend}: latency of every request over the run")
        ax.set_xlabel("seconds since start")
        ax.set_ylabel("latency (ms)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(markerscale=4, fontsize=7, ncol=4, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
