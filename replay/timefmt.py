"""Wall-clock time at the edges: UTC ISO-8601 with ``Z`` out, ISO-8601 in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def format_utc(t: datetime) -> str:
    """``2026-11-25T17:46:49.123Z`` (UTC, milliseconds)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(text: str) -> datetime:
    """An ISO-8601 date or date-time; local time unless it names a zone.

    Raises
    ------
    ValueError
        If it is not ISO-8601.
    """
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    t = datetime.fromisoformat(s)
    if t.tzinfo is None:
        t = t.astimezone()  # local time
    return t.astimezone(UTC)


def at_offset(start: datetime, seconds: float) -> datetime:
    """``start`` plus ``seconds``."""
    return start + timedelta(seconds=seconds)
