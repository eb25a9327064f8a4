"""UTC timestamps and durations, parsed tolerantly and compared exactly."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_ts(value: str | datetime | None) -> datetime | None:
    """Parse an ISO-8601 timestamp into an aware UTC datetime.

    Tolerates fractional seconds of any length, a missing ``Z`` (treated as UTC),
    ``+00:00`` offsets and a space instead of ``T``. Returns None for None/"".
    Raises ValueError for anything else that does not parse.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        s = str(value).strip().replace(" ", "T", 1)
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        m = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", s)
        if m:  # fromisoformat on 3.11 accepts only 3 or 6 fraction digits
            s = f"{m.group(1)}.{(m.group(2) + '000000')[:6]}{m.group(3)}"
        dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def format_ts(dt: datetime | None) -> str | None:
    """Format as ``2026-11-25T12:00:00Z`` (fractions kept only when present)."""
    if dt is None:
        return None
    dt = dt.astimezone(timezone.utc)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_duration(text: str) -> timedelta:
    """Parse ``90d``, ``12h``, ``30m``, ``45s``, ``2w`` into a timedelta."""
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r} (use a number and one of s, m, h, d, w, e.g. 90d)")
    try:
        return timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})
    except OverflowError:
        raise ValueError(f"duration {text!r} is too large (at most {timedelta.max.days} days)") from None


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
