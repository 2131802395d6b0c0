"""A calendar event marked busy is running now: .ics files, or folders of them (an export, or the
files a calendar sync such as vdirsyncer keeps), read with icalendar and recurring-ical-events, so
recurring events and their exceptions count as the calendar program shows them.

Holds: events that are opaque (TRANSP is OPAQUE, the default) and not cancelled. Not holding: all-day
events (a date, not a time), free (TRANSPARENT) and cancelled ones. A file is re-read only when its
size or modification time changed; files over 20 MB and anything but regular files are passed over.
"""

from __future__ import annotations

import os
import stat
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ergo.busy.base import Busy, PolledSource, plain
from ergo.errors import BackendUnavailable

MAX_FILE = 20 * 1024 * 1024
MAX_FILES = 2000  # .ics files in all named folders together
LOOK_AROUND = timedelta(days=1)


def probe() -> str | None:
    try:
        import icalendar  # noqa: F401
        import recurring_ical_events  # noqa: F401
    except ImportError as error:
        return f"{error.name} is not installed"
    return None


class CalendarSource(PolledSource):
    name = "calendar"

    def __init__(self, paths: tuple[str, ...]) -> None:
        if not paths:
            raise BackendUnavailable("no calendar files named ([meetings] calendar)")
        reason = probe()
        if reason is not None:
            raise BackendUnavailable(reason)
        self.paths = tuple(Path(os.path.expanduser(p)) for p in paths)
        self._cache: dict[Path, tuple[tuple[int, int], Any]] = {}
        self.problems: list[str] = []  # what could not be read at the last check, for the log

    def files(self) -> list[Path]:
        found: list[Path] = []
        for path in self.paths:
            try:
                info = path.stat()
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                for root, _dirs, names in os.walk(path):
                    found += [Path(root) / n for n in sorted(names) if n.lower().endswith(".ics")]
                    if len(found) >= MAX_FILES:
                        break
            else:
                found.append(path)
        return found[:MAX_FILES]

    def _calendar(self, path: Path) -> Any:
        import icalendar

        try:
            info = os.stat(path)
        except OSError:
            self._cache.pop(path, None)
            return None
        key = (info.st_size, info.st_mtime_ns)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        calendar = None
        if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE:
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
                with os.fdopen(fd, "rb") as file:
                    calendar = icalendar.Calendar.from_ical(file.read(MAX_FILE + 1))
            except Exception as error:  # a broken file is passed over, named in the log
                self.problems.append(f"{path}: {plain(error, 80)}")
        else:
            self.problems.append(f"{path}: not a regular file of at most 20 MB")
        self._cache[path] = (key, calendar)
        return calendar

    def check(self, now: datetime) -> Busy | None:
        import recurring_ical_events

        self.problems = []
        current: list[tuple[datetime, str]] = []
        for path in self.files():
            calendar = self._calendar(path)
            if calendar is None:
                continue
            try:
                events = recurring_ical_events.of(calendar).between(now - LOOK_AROUND, now + LOOK_AROUND)
            except Exception as error:
                self.problems.append(f"{path}: {plain(error, 80)}")
                continue
            for event in events:
                span = busy_span(event)
                if span is not None and span[0] <= now < span[1]:
                    current.append((span[1], plain(event.get("SUMMARY", "an event"), 40)))
        if not current:
            return None
        end, summary = max(current)
        return Busy(f"in a meeting ({summary})", until=end)


def busy_span(event: Any) -> tuple[datetime, datetime] | None:
    """(start, end) in UTC of an event that holds reminders; None for all-day, free or cancelled ones."""
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return None
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    start = event.get("DTSTART")
    if start is None:
        return None
    start = start.dt
    if not isinstance(start, datetime):  # a date: all day
        return None
    end_prop, duration = event.get("DTEND"), event.get("DURATION")
    end = end_prop.dt if end_prop is not None else start + (duration.dt if duration is not None else timedelta(0))
    if isinstance(end, date) and not isinstance(end, datetime):
        return None
    return _utc(start), _utc(end)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:  # floating time: the local zone
        value = value.astimezone()
    return value.astimezone(timezone.utc)
