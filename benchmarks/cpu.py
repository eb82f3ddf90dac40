"""CPU time by who spent it, read from /proc: the app server, the database, the load
generator. Taken around each closed-loop slot, it gives the CPU one request costs each of
them (everything shares the machine's cores, so a ratio of throughputs is mostly a ratio
of these sums). Linux only; elsewhere nothing is measured."""

import os
from pathlib import Path

GROUPS = ("app", "database", "load generator")


def snapshot(server_pid: int, database: bool = True) -> dict[str, float] | None:
    """Seconds of CPU (user + system) so far: gunicorn's master and workers, every
    PostgreSQL process (unless ``database`` is False: SQLite runs inside the app), and
    this process. Each process counts with its children that have exited and been
    reaped (a recycled worker in gunicorn's master, a closed connection's backend in the
    postmaster): a process that ends during a slot is not lost from the second reading.
    None where /proc is missing."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    out = dict.fromkeys(GROUPS, 0.0)
    me = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = _fields(stat)
        pid, ppid = int(entry.name), int(fields[1])
        seconds = sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
        if pid == me:
            # Without the server, which this process started (reaped only at the end).
            out["load generator"] += _own_seconds(fields, tick)
        elif pid == server_pid or ppid == server_pid:
            out["app"] += seconds
        elif database and name.startswith("postgres"):
            out["database"] += seconds
    return out


def _fields(stat: str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces)."""
    return stat[stat.rindex(")") + 2:].split()


def _own_seconds(fields: list[str], tick: int) -> float:
    """A process's own CPU seconds (utime + stime), without its reaped children's."""
    return (int(fields[11]) + int(fields[12])) / tick


def per_request(before: dict | None, after: dict | None, answered: int) -> dict | None:
    """Microseconds of CPU per answered request, by group."""
    if before is None or after is None or not answered:
        return None
    return {g: round((after[g] - before[g]) / answered * 1e6) for g in GROUPS}


def workers(server_pid: int) -> dict[int, float]:
    """Seconds of CPU (user + system) so far of each of gunicorn's workers, by pid; empty
    where /proc is missing."""
    proc = Path("/proc")
    children = proc / str(server_pid) / "task" / str(server_pid) / "children"
    try:
        pids = [int(p) for p in children.read_text().split()]
    except OSError:
        return {}
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            stat = (proc / str(pid) / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        out[pid] = _own_seconds(_fields(stat), tick)
    return out


def shares(before: dict[int, float], after: dict[int, float]) -> list[int]:
    """Each worker's share of the workers' CPU between two readings, in %, largest first:
    how evenly the load was spread over the processes (each runs Python on one core at
    a time)."""
    spent = sorted((after[p] - before.get(p, 0.0) for p in after), reverse=True)
    total = sum(spent)
    return [round(s / total * 100) for s in spent] if total > 0 else []
