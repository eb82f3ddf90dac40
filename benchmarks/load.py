"""The load generator: an asyncio HTTP client (aiohttp) playing candidates and employers.

Two ways to apply load, and the latency each one means:

- closed loop (``saturate``): C workers send back-to-back requests for a fixed time. The
  throughput is the server's capacity for that operation; ceilings and hot paths are
  measured this way, at the same concurrency, so that their ratio compares like with like.
- open loop (``paced``): every candidate acts on its own clock (an autosave every few
  seconds). A request's latency runs from the moment it was due, not from when a
  connection became free, so a server that falls behind shows it (no coordinated
  omission).

Connections: a candidate's own requests (start, paced autosaves and clock reads, submit)
go over a keep-alive connection of its own, as from its browser; the closed-loop
saturations and the ceilings share one pool of ``connections``, so that their ratios
compare like with like. Through a shared pool the few connections in use carried the
whole exam day, and gunicorn serves a connection in the worker that accepted it: one
worker of five served every start of the storm and half of the autosaves (measured with
per-worker CPU), a load a thousand browsers never put on one process.
"""

import asyncio
import itertools
import json
import random
import time
from dataclasses import dataclass, field

import aiohttp

from benchmarks.sample import Sample

COOKIE = "examsys_session"


@dataclass
class Candidate:
    email: str
    cookie: str = ""
    csrf: str = ""
    attempt_id: int | None = None
    items: list[dict] = field(default_factory=list)
    seq: int = 0
    # Its browser's keep-alive connection (``Client.browser``).
    http: aiohttp.ClientSession | None = None
    # Every save the server acknowledged: (position, seq), checked against the database.
    acked_all: list[tuple[int, int]] = field(default_factory=list)

    def headers(self) -> dict:
        return {"Cookie": f"{COOKIE}={self.cookie}", "X-CSRFToken": self.csrf,
                "Content-Type": "application/json"}


def event_loop_factory():
    """uvloop's event loop where it is installed (the bench extra), else asyncio's.

    The load generator shares the machine with the server: every microsecond its event
    loop spends per request is taken from the server, and a loop running late delays the
    paced requests, which the recorder counts as the server's latency (it measures from
    when a request fell due). uvloop's loop and transports are written in C.
    """
    try:
        import uvloop
    except ImportError:  # pragma: no cover - the bench extra installs it
        return None
    return uvloop.new_event_loop


class Recorder:
    def __init__(self):
        self.t0 = time.perf_counter()
        self.samples: list[Sample] = []

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def add(self, op: str, due: float, status: int) -> None:
        self.samples.append(Sample(op, due, self.now() - due, status))


# Seconds a browser keeps an idle connection it has used (Firefox 115; Chromium longer).
# aiohttp's own 15 s would close a candidate's connection during the start storm, before
# its first save: a browser's stays, and the server's keep-alive decides.
BROWSER_IDLE = 120.0


def _session(connections: int, keep_idle: float = 15.0) -> aiohttp.ClientSession:
    """An HTTP client keeping up to ``connections`` connections alive, each idle for up to
    ``keep_idle`` seconds, with no cookie jar (each request sends its candidate's cookie)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, keepalive_timeout=keep_idle),
        cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout(total=60))


class Client:
    """One shared connection pool; each simulated user sends its own cookie."""

    def __init__(self, base: str, recorder: Recorder, connections: int):
        self.base = base
        self.rec = recorder
        self.http = _session(connections)
        self.browsers: list[aiohttp.ClientSession] = []

    async def close(self):
        for http in self.browsers:
            await http.close()
        await self.http.close()

    def browser(self, cand: Candidate, own: bool = True) -> aiohttp.ClientSession:
        """The candidate's own connection (opened on first use), or the shared pool."""
        if not own:
            return self.http
        if cand.http is None:
            cand.http = _session(6, BROWSER_IDLE)  # at most 6 connections, as a browser's
            self.browsers.append(cand.http)
        return cand.http

    async def call(self, op: str, method: str, path: str, due: float | None = None,
                   parse: bool = False, http: aiohttp.ClientSession | None = None,
                   **kw) -> tuple[int, dict | None, aiohttp.typedefs.LooseHeaders | None]:
        """One request (over ``http``, else the shared pool); the body is parsed only when
        ``parse`` (the load generator shares the server's CPU: what it spends on answers
        nobody reads is taken from the server, and more from the requests with longer
        answers)."""
        due = self.rec.now() if due is None else due
        try:
            async with (http or self.http).request(method, self.base + path, **kw) as resp:
                body = await resp.read()
                body = json.loads(body) if parse and body else None
                status, headers = resp.status, resp.headers
        except (TimeoutError, aiohttp.ClientError, ValueError):
            status, body, headers = 0, None, None
        self.rec.add(op, due, status)
        return status, body, headers

    # -- the candidate's and the employer's requests ------------------------------------

    async def login(self, cand: Candidate, password: str, op: str) -> bool:
        status, body, headers = await self.call(op, "POST", "/api/v1/auth/login", parse=True,
                                                http=self.browser(cand),
                                                json={"email": cand.email, "password": password})
        if status != 200:
            return False
        morsel = next((c for c in headers.getall("Set-Cookie", [])
                       if c.startswith(COOKIE + "=")), None)
        cand.cookie = morsel.split(";", 1)[0].split("=", 1)[1] if morsel else ""
        cand.csrf = body["csrf_token"]
        return True

    async def start(self, cand: Candidate, session_id: int, op: str = "start") -> bool:
        status, body, _h = await self.call(
            op, "POST", f"/api/v1/exam-sessions/{session_id}/attempts", headers=cand.headers(),
            data=b"{}", parse=True, http=self.browser(cand))
        if status not in (200, 201):
            return False
        cand.attempt_id = body["attempt_id"]
        cand.items = [{"position": i["position"], "type": i["type"],
                       "options": [o["id"] for o in i.get("options", [])]}
                      for i in body["items"]]
        cand.seq = body["last_seq"]
        return True

    async def save(self, cand: Candidate, op: str = "autosave", due: float | None = None,
                   own: bool = True) -> int:
        """An autosave, over the candidate's own connection unless ``own`` is False."""
        item = random.choice(cand.items)
        response = _answer(item)
        cand.seq += 1
        seq = cand.seq
        status, _b, _h = await self.call(
            op, "PUT", f"/api/v1/attempts/{cand.attempt_id}/items/{item['position']}", due=due,
            http=self.browser(cand, own), headers=cand.headers(),
            data=json.dumps({"response": response, "seq": seq}))
        if status == 200:
            cand.acked_all.append((item["position"], seq))
        return status

    async def submit(self, cand: Candidate, op: str = "submit") -> int:
        status, _b, _h = await self.call(op, "POST", f"/api/v1/attempts/{cand.attempt_id}/submit",
                                         http=self.browser(cand), headers=cand.headers())
        return status

    async def clock(self, cand: Candidate, op: str = "clock", due: float | None = None) -> int:
        """The exam page's countdown asking for the server's time (every 30 s, exam.js)."""
        status, _b, _h = await self.call(op, "GET", f"/api/v1/attempts/{cand.attempt_id}/clock",
                                         due=due, http=self.browser(cand),
                                         headers=cand.headers())
        return status

    async def verify(self, token: str, op: str = "verify", due: float | None = None) -> int:
        # Tokens are URL-safe (base64url and dots): no encoding needed.
        status, _b, _h = await self.call(op, "GET", f"/api/v1/certificates/verify?token={token}",
                                         due=due)
        return status


def _answer(item: dict):
    if item["type"] == "single_choice":
        return random.choice(item["options"])
    if item["type"] == "multiple_choice":
        return sorted(random.sample(item["options"], 2))
    if item["type"] == "true_false":
        return random.random() < 0.5
    return round(random.uniform(0, 100), 1)


# -- shapes of load ---------------------------------------------------------------------

async def each(jobs, concurrency: int, action) -> None:
    """Run ``action(job)`` for every job, at most ``concurrency`` at a time (a storm)."""
    queue = iter(jobs)

    async def worker():
        for job in queue:
            await action(job)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def saturate(seconds: float, concurrency: int, action, actors=None) -> None:
    """Closed loop: ``concurrency`` workers call ``action(x)`` back to back for ``seconds``.

    With ``actors`` each worker cycles through its own share of them (so no actor ever has
    two requests in flight: a candidate's saves stay in order); else ``x`` counts up.
    """
    end = time.perf_counter() + seconds

    async def worker(mine):
        for x in mine:
            if time.perf_counter() >= end:
                return
            await action(x)

    if actors is None:
        counter = itertools.count()
        shares = [counter] * concurrency
    else:
        shares = [itertools.cycle(actors[w::concurrency]) for w in range(concurrency)
                  if actors[w::concurrency]]
    await asyncio.gather(*(worker(share) for share in shares))


async def paced(rec: Recorder, seconds: float, actors, interval: float, action) -> int:
    """Open loop: each actor calls ``action(actor, due)`` every ``interval`` seconds, with
    its first call at a random offset so that the load is spread, not synchronised.

    Nothing is sent after ``seconds``: returns how many calls fell due and were not sent
    because the server was behind (0 when it kept up).
    """
    start = rec.now()
    end = start + seconds
    behind = 0

    async def run(actor):
        nonlocal behind
        due = start + random.uniform(0, interval)
        while due < end:
            delay = due - rec.now()
            if delay > 0:
                await asyncio.sleep(delay)  # waking a moment late is the client's doing
            elif rec.now() >= end:
                # The previous answer came back after this call fell due and the phase
                # ended: the server was behind.
                behind += 1
                break
            await action(actor, due)
            due += interval * random.uniform(0.8, 1.2)

    await asyncio.gather(*(run(a) for a in actors))
    return behind
