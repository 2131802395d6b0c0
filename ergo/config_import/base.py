"""What a reader of another program's settings returns, and the checks every reader shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ergo.timing.durations import format_duration
from ergo.errors import ConfigError

MAX_INTERVAL = timedelta(hours=24)


@dataclass(frozen=True)
class Mapped:
    """One ergo key (dotted, e.g. "posture.interval") set from the other program's `origin`."""

    key: str
    value: Any
    origin: str


@dataclass(frozen=True)
class Unmapped:
    """A setting of the other program that ergo has no counterpart for, and why."""

    name: str
    why: str


@dataclass
class Imported:
    program: str  # "Safe Eyes", "Stretchly", "Workrave"
    source: str  # the file, or "gsettings (live)"
    mapped: list[Mapped] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)

    def interval(self, key: str, seconds: float, origin: str) -> None:
        """Map a duration that ergo bounds to 1s..24h; one out of range is listed, not clamped."""
        value = timedelta(seconds=seconds)
        if value < timedelta(seconds=1) or value > MAX_INTERVAL:
            self.unmapped.append(Unmapped(origin, f"{format_duration(value)} is outside ergo's 1s-24h range for {key}"))
            return
        self.mapped.append(Mapped(key, format_duration(value), origin))

    def duration(self, key: str, seconds: float, origin: str) -> None:
        """Map a positive duration (natural breaks, idle); zero or less is listed as not imported."""
        if seconds <= 0:
            self.unmapped.append(Unmapped(origin, f"{seconds:g}s: ergo needs a positive duration for {key}"))
            return
        self.mapped.append(Mapped(key, format_duration(timedelta(seconds=seconds)), origin))

    def skip(self, names: list[str], why: str) -> None:
        self.unmapped.extend(Unmapped(name, why) for name in names)


def refuse(where: str, message: str) -> ConfigError:
    """A file of the wrong program or an unknown version: one line, exit 2."""
    return ConfigError(f"{where}: {message}")


def number(data: dict[str, Any], key: str, where: str, program: str) -> float:
    """A numeric setting the mapping needs; anything else refuses the file in one line."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise refuse(where, f"{key} is {value!r}, not a number: not a {program} configuration ergo can read")
    return float(value)
