"""What a source of "busy" answers, and the Protocol each source follows.

Threading: `check` runs on the daemon's timer thread when a reminder is due, and on the one busy
follower thread while a reminder is held for the person being busy; `wait` runs on that follower
thread. Neither is called on two threads at once. `check` returns within about a second.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Busy:
    """Why the person is busy, as `ergo status` says it ("in a call (microphone in use by firefox)"),
    and when that is known to end (a calendar event), else None."""

    reason: str
    until: datetime | None = None


@runtime_checkable
class BusySource(Protocol):
    name: str

    def check(self, now: datetime) -> Busy | None:
        """Busy now, or None. A source that cannot tell (its server went away) answers None."""
        ...

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Return when this source may have changed, after `timeout` seconds, or once `stop` is set."""
        ...

    def close(self) -> None:
        """Let go of what the source holds; safe to call twice."""
        ...


class PolledSource:
    """For sources with no events to wait for: `wait` just sleeps (only while a reminder is held)."""

    name = "polled"

    def wait(self, timeout: float, stop: threading.Event) -> None:
        stop.wait(timeout)

    def close(self) -> None:
        pass


def plain(text: object, limit: int = 60) -> str:
    """A name from outside (a window title, an application, an event summary) safe to show: no control
    or format characters, no escape sequences, at most `limit` characters."""
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(text))
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
