"""Human durations ("90s", "20m", "1h30m", ISO 8601 "PT45M") to and from timedelta.

pydantic's own timedelta parsing reads "45:00" as 45 *hours*, so ergo parses
durations itself and rejects bare, ambiguous forms with a hint.
"""

from __future__ import annotations

import re
from datetime import timedelta

# Patterns, not compiled at import: re caches them on first use, and `ergo status` never parses one.
_HUMAN = (
    r"^\s*(?:(?P<d>\d+(?:\.\d+)?)\s*d)?\s*(?:(?P<h>\d+(?:\.\d+)?)\s*h)?\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*m(?:in)?)?\s*(?:(?P<s>\d+(?:\.\d+)?)\s*s)?\s*$"
)
_ISO = (
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
HINT = "try 45m or 1h30m"


class DurationError(ValueError):
    """The text is not a duration ergo accepts; str() is a short human reason."""


def parse_duration(text: object) -> timedelta:
    """Read a human or ISO 8601 duration; raise DurationError with a hint otherwise."""
    if isinstance(text, timedelta):
        return text
    if isinstance(text, bool) or not isinstance(text, str):
        raise DurationError(f"{text!r} is not a duration: write it as a string with a unit ({HINT})")
    raw = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", raw) or re.fullmatch(r"\d+:\d+(:\d+)?", raw):
        raise DurationError(f'"{text}" is ambiguous: add a unit ({HINT}, or 90s)')
    if raw.startswith("-"):
        raise DurationError(f'"{text}" is negative: durations must be positive ({HINT})')
    match = re.match(_ISO if raw[:1] in "pP" else _HUMAN, raw, re.IGNORECASE)
    if not raw or match is None or not any(match.groupdict().values()):
        raise DurationError(f'"{text}" is not a duration ({HINT})')
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    try:
        return timedelta(
            days=parts.get("d", 0), hours=parts.get("h", 0), minutes=parts.get("m", 0), seconds=parts.get("s", 0)
        )
    except (OverflowError, ValueError):  # beyond what a timedelta holds (about 2.7 million years)
        shown = text if len(text) <= 24 else text[:20] + "..."
        raise DurationError(f'"{shown}" is far too long ({HINT})') from None


def format_duration(value: timedelta) -> str:
    """The shortest human form that parse_duration reads back to the same value."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    total, micro = value.days * 86400 + value.seconds, value.microseconds
    if total == 0 and micro == 0:
        return "0s"
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    second_text = f"{seconds}.{micro:06d}".rstrip("0").rstrip(".")  # "5.000000" -> "5"
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{second_text}s" if seconds or micro else "")
    return sign + text
