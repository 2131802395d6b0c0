"""What a reader of another program's settings returns, and the checks every reader shares."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ergo.timing.durations import format_duration
from ergo.errors import ConfigError

MAX_INTERVAL = timedelta(hours=24)
MAX_LONG = timedelta(hours=24)  # natural_break and idle.away_after, as ergo.config.model bounds them
#: 2**53, JavaScript's largest exact integer: no break timer writes a larger setting, so a file holding
#: one (1e308, a 20-digit integer, an int64 at its limit) is damaged and refused, not "out of range".
MAX_NUMBER = 2**53


@dataclass(frozen=True)
class Mapped:
    """One ergo key ("table.key", e.g. "posture.interval") set from the other program's `origin`."""

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
        if not 1 <= seconds <= MAX_INTERVAL.total_seconds():  # checked before timedelta(), which overflows at 1e308
            self.unmapped.append(Unmapped(origin, f"{_seconds(seconds)} is outside ergo's 1s-24h range for {key}"))
            return
        self.mapped.append(Mapped(key, format_duration(timedelta(seconds=seconds)), origin))

    def duration(self, key: str, seconds: float, origin: str) -> None:
        """Map a positive duration of at most 24h (natural breaks, idle); any other is listed as not imported."""
        if seconds <= 0:
            self.unmapped.append(Unmapped(origin, f"{seconds:g}s: ergo needs a positive duration for {key}"))
            return
        if seconds > MAX_LONG.total_seconds():
            self.unmapped.append(Unmapped(origin, f"{_seconds(seconds)} is longer than ergo's 24h limit for {key}"))
            return
        self.mapped.append(Mapped(key, format_duration(timedelta(seconds=seconds)), origin))

    def skip(self, names: list[str], why: str) -> None:
        self.unmapped.extend(Unmapped(name, why) for name in names)


def _seconds(seconds: float) -> str:
    """A number of seconds too large or small for format_duration, spelled plainly."""
    return format_duration(timedelta(seconds=seconds)) if 1 <= seconds <= MAX_INTERVAL.total_seconds() * 10 else f"{seconds:g}s"


def load_json(text: str, where: str, what: str) -> Any:
    """JSON of another program, refused in one line when it is not plain data ergo can store: NaN or
    Infinity (not JSON at all, though Python's parser takes them), numbers beyond MAX_NUMBER, nesting
    deep enough to exhaust the parser, and strings with lone surrogates (\\ud800 escapes)."""

    def constant(name: str) -> Any:
        raise refuse(where, f"{name} is not a number JSON allows: not a {what} ergo can read")

    try:
        data = json.loads(text, parse_constant=constant)
    except json.JSONDecodeError:
        raise refuse(where, f"not JSON: not a {what}") from None
    except RecursionError:
        raise refuse(where, f"JSON nested too deeply: not a {what}") from None
    except ValueError as error:  # an integer past Python's 4300-digit limit
        raise refuse(where, f"{str(error).splitlines()[0]}: not a {what}") from None
    check_data(data, where, what)
    return data


def check_data(data: Any, where: str, what: str) -> None:
    """Every key and string must be encodable text (no lone surrogates), every number finite and at
    most MAX_NUMBER; walked without recursion."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():  # a key may start with a dot: ".a" is named ".a"
                _encodable(key, f"{path}.{key!a}" if path else ascii(key), where, what)
                stack.append((f"{path}.{key}" if path else key, value))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", value) for i, value in enumerate(node))
        elif isinstance(node, str):
            _encodable(node, path or "the file", where, what)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            check_number(node, path or "a value", where, what)


def check_number(value: float, path: str, where: str, what: str) -> None:
    """A finite number no larger than MAX_NUMBER, or the file is refused (1e999 parses as inf)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise refuse(where, f"{path} is {value}, not a finite number: not a {what} ergo can read")
    if abs(value) > MAX_NUMBER:
        shown = f"{value:.3g}" if isinstance(value, float) else f"a {len(str(abs(value)))}-digit number"
        raise refuse(where, f"{path} is {shown}, larger than any setting (2^53): a damaged {what}, nothing imported")


def _encodable(text: str, path: str, where: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        bad = text[error.start]
        path = path.encode("ascii", "backslashreplace").decode()
        raise refuse(where, f"{path}: a lone surrogate (\\u{ord(bad):04x}) at character {error.start + 1} is not text: "
                            f"not a {what} ergo can read") from None


def refuse(where: str, message: str) -> ConfigError:
    """A file of the wrong program or an unknown version: one line, exit 2."""
    return ConfigError(f"{where}: {message}")


def number(data: dict[str, Any], key: str, where: str, program: str) -> float:
    """A numeric setting the mapping needs; anything else refuses the file in one line. `data` comes
    from load_json, which has refused every number that is not finite or is beyond MAX_NUMBER."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise refuse(where, f"{key} is {_short(value)}, not a number: not a {program} configuration ergo can read")
    return float(value)


def _short(value: Any) -> str:
    text = ascii(value)
    return text if len(text) <= 40 else text[:37] + "..."
