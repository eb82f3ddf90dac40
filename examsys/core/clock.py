"""The one clock every deadline is checked against.

Services receive ``now`` from :func:`utcnow`; tests move it with time-machine, which
patches the standard library's clock underneath, so no code path can drift from it.
"""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The server's current time, timezone-aware, in UTC, to the microsecond."""
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as the API writes every moment."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def as_utc(value: datetime) -> datetime:
    """Interpret a naive datetime as UTC and convert an aware one to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
