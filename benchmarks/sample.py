"""One request as the benchmark saw it (kept apart from the load generator, so that the
report's arithmetic can be tested without an HTTP client installed)."""

from dataclasses import dataclass


@dataclass
class Sample:
    op: str
    at: float  # seconds since the run started, when the request was due
    latency: float  # seconds
    status: int  # HTTP status, 0 for a transport error
