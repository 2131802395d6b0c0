"""Work hours: which weekdays and time windows reminders may be delivered in.

Windows are in local wall-clock time but compared as instants: each window of
each day is turned into one [start, end) span of aware datetimes, so a DST
change can neither double nor skip it. A window may cross midnight (22:00-06:00).

Where the clock is turned back (fall-back), a wall time repeats. A window follows the
wall clock: it closes the first time the clock shows its end and opens the last time
the clock shows its start before that, so it lies on one pass through the repeated
hour and keeps its nominal length (a window that contains the whole repeated hour is an
hour longer that day, as the day is). Where the clock skips ahead (spring-forward), a
start or end in the gap means the end of the gap.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {name: i for i, name in enumerate(DAY_NAMES)} | {
    full: i for i, full in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
DAY_MINUTES = 24 * 60


class WorkHoursError(ValueError):
    """A days or hours value ergo cannot read; str() is a short reason with a hint."""


def parse_days(text: str) -> frozenset[int]:
    """"mon-fri", "mon,wed,fri", "sat-sun", "fri-mon" or "every day" to weekday numbers (0 = Monday)."""
    raw = text.strip().lower()
    if raw in ("every day", "everyday", "daily", "all", "*"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            raise WorkHoursError(f'"{text}" has an empty entry (write e.g. mon-fri or mon,wed,fri)')
        ends = [e.strip() for e in part.split("-")]
        if len(ends) > 2:
            raise WorkHoursError(f'"{part}" is not a day range (write e.g. mon-fri)')
        numbers = []
        for end in ends:
            if end not in _DAY_ALIASES:
                raise WorkHoursError(f'"{end}" is not a day (use {", ".join(DAY_NAMES)})')
            numbers.append(_DAY_ALIASES[end])
        first, last = numbers[0], numbers[-1]
        span = (last - first) % 7
        days.update((first + i) % 7 for i in range(span + 1))
    return frozenset(days)


def _minutes(clock: str, *, allow_24: bool) -> int:
    match = _CLOCK.match(clock.strip())
    if not match:
        raise WorkHoursError(f'"{clock.strip()}" is not a time of day (write HH:MM, e.g. 09:00)')
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not allow_24)):
        raise WorkHoursError(f'"{clock.strip()}" is not a time of day (hours 00-23, minutes 00-59; 24:00 only as an end)')
    return hours * 60 + minutes


@dataclass(frozen=True)
class Window:
    """Minutes after local midnight; `end` may pass 1440 for a window that crosses midnight."""

    start: int
    end: int

    def __str__(self) -> str:
        def clock(m: int) -> str:
            m = m if m == DAY_MINUTES else m % DAY_MINUTES
            return f"{m // 60:02d}:{m % 60:02d}"

        return f"{clock(self.start)}-{clock(self.end)}"


def parse_hours(text: str) -> tuple[Window, ...]:
    """"09:00-12:30, 13:30-18:00" or "22:00-06:00" to windows; empty or overlapping ones are errors."""
    windows: list[Window] = []
    for part in (p.strip() for p in text.split(",")):
        ends = part.split("-")
        if len(ends) != 2:  # "09:00", or "09:00-12:00-13:00" (two windows need a comma)
            raise WorkHoursError(f'"{part}" is not a time window (write e.g. 09:00-17:30)')
        start, end = _minutes(ends[0], allow_24=False), _minutes(ends[1], allow_24=True)
        if start == end:
            raise WorkHoursError(f'"{part}" is an empty window (start and end are the same)')
        if end < start:
            end += DAY_MINUTES  # crosses midnight
        windows.append(Window(start, end))
    for i, a in enumerate(windows):
        for b in windows[i + 1 :]:
            for shift in (-DAY_MINUTES, 0, DAY_MINUTES):
                if a.start < b.end + shift and b.start + shift < a.end:
                    raise WorkHoursError(f"windows {a} and {b} overlap")
    return tuple(sorted(windows, key=lambda w: w.start))


LOCALTIME = Path("/etc/localtime")  # the machine's zone on Linux and macOS (a copy of, or a link to, a zone file)


def local_zone(tz: str | None = None, localtime: Path = LOCALTIME) -> tzinfo:
    """The machine's time zone with its DST rules (TZ, then /etc/localtime), else a fixed offset.

    `tz` stands for the TZ variable and `localtime` for /etc/localtime (tests pass their own)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = os.environ.get("TZ") if tz is None else tz
    if name:
        try:
            return ZoneInfo(name.removeprefix(":"))  # POSIX: TZ=":Europe/Berlin" names a zone file
        except (ZoneInfoNotFoundError, ValueError):
            pass
    if localtime.exists():
        try:
            with localtime.open("rb") as handle:
                return ZoneInfo.from_file(handle, key="localtime")
        except (OSError, ValueError):
            pass
    # A TZ rule zoneinfo cannot read ("EST+5EDT,M3.2.0/2,M11.1.0/2" is one libc can) or no zone file at all.
    return datetime.now().astimezone().tzinfo or timezone.utc


@dataclass(frozen=True)
class WorkHours:
    """The days and windows in which reminders may be delivered, in the zone `zone`."""

    days: frozenset[int]
    windows: tuple[Window, ...]
    zone: tzinfo

    @classmethod
    def parse(cls, days: str, hours: str, zone: tzinfo) -> "WorkHours":
        return cls(parse_days(days), parse_hours(hours), zone)

    @property
    def always(self) -> bool:
        """True when every instant is inside work hours (the default)."""
        return len(self.days) == 7 and any(w.end - w.start >= DAY_MINUTES for w in self.windows)

    def spans_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The [start, end) spans (UTC) of the windows that begin on local date `day`."""
        return list(_spans(self, day))

    def _compute_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        if day.weekday() not in self.days:
            return []
        midnight = datetime.combine(day, time(0))
        spans = []
        for w in self.windows:
            # Follow the wall clock: the window closes the first time the clock shows its end, and
            # opens the last time the clock shows its start before that. Where the clock is turned
            # back through a window (fall-back), the window is on one pass only, never stretched
            # across both: 11:35-12:00 with 12:00 turned back to 11:00 is the second 11:35-12:00.
            end = self._instant(midnight + timedelta(minutes=w.end), fold=0)
            start = self._instant(midnight + timedelta(minutes=w.start), fold=1)
            if start >= end:
                start = self._instant(midnight + timedelta(minutes=w.start), fold=0)
            if end > start:
                spans.append((start, end))
        return spans

    def _instant(self, naive: datetime, fold: int) -> datetime:
        """A local wall time as a UTC instant; a time skipped by DST maps to the end of the gap."""
        instant = naive.replace(tzinfo=self.zone, fold=fold).astimezone(timezone.utc)
        if instant.astimezone(self.zone).replace(tzinfo=None) != naive:
            # In a gap: fold=1 reads it with the offset after the change, an instant before the gap;
            # walk on to the first minute the clock shows `naive` or later (the clock always gets there).
            instant = naive.replace(tzinfo=self.zone, fold=1).astimezone(timezone.utc)
            while instant.astimezone(self.zone).replace(tzinfo=None) < naive:
                instant += timedelta(minutes=1)
        return instant

    def window_at(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The [start, end) span (UTC) containing `now`, merged with spans that touch it, or None."""
        if self.always:
            return (datetime.min.replace(tzinfo=timezone.utc), datetime.max.replace(tzinfo=timezone.utc))
        today = now.astimezone(self.zone).date()
        for day in (today - timedelta(days=1), today):  # yesterday's window may cross midnight into today
            for start, end in _spans(self, day):
                if start <= now < end:
                    return start, self._extend(end)
        return None

    def _extend(self, end: datetime) -> datetime:
        """Join a span with the next ones that touch it (18:00-24:00 then 00:00-06:00), for a week at most:
        windows that touch all week round never end, so such a window is cut a week after its first span."""
        horizon = end + timedelta(days=7)
        while end < horizon:
            # A span that starts at `end` starts on end's local date (a window begins on the day it is in).
            touching = [s for s in _spans(self, end.astimezone(self.zone).date()) if s[0] == end]
            if not touching:
                return end
            end = touching[0][1]
        return end

    def next_start(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The first span starting strictly after `now`: None only when no day has work hours, or always."""
        if self.always:
            return None
        today = now.astimezone(self.zone).date()
        # Today's spans, then the next days': a week on, today's weekday has its windows again, so eight
        # days always hold a later start (yesterday's spans all start before today).
        for offset in range(8):
            for start, end in _spans(self, today + timedelta(days=offset)):
                if start > now:
                    return start, end
        return None

    def describe(self) -> str:
        if self.always:
            return "every day, all day"
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        return f"{days} {', '.join(str(w) for w in self.windows)}"


# Per-date spans, computed once: the Engine asks about the same few days thousands of times. Equal
# WorkHours (same days, windows and zone) share entries; a tuple, so no caller can change a cached one.
@functools.lru_cache(maxsize=256)
def _spans(hours: WorkHours, day: date) -> tuple[tuple[datetime, datetime], ...]:
    return tuple(hours._compute_spans(day))
