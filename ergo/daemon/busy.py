"""Busy: asking the sources in ergo/busy/ when a reminder is due, and following a busy spell to its end.

Nothing runs while nothing is due. The timer thread asks the sources just before the Engine decides
(outside the daemon's lock: a source may take a moment); if one says busy, the Engine holds every due
reminder ("busy"), and one follower thread waits on that source (on its events where it has them, the
microphone; otherwise every RECHECK seconds, a calendar every minute and at its event's end) and asks
again, that source first and the others only once it is no longer busy, until no
source is busy. The Engine then holds `[meetings] after` longer and the timers take over: what fell
due goes out once, merged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ergo.busy.base import Busy, BusySource
from ergo.timing.clock import Clock
from ergo.timing.policy import Engine

log = logging.getLogger("ergo")
RECHECK = 10.0  # seconds between two asks while held, for sources without events (ergo's choice)
EVENT_WAIT = 300.0  # an event-driven source is still asked again this often, in case an event was missed

Select = Callable[[Any], tuple[list[BusySource], list[str]]]  # PlainMeetings -> sources, one reason each


class BusyWatch:
    """The daemon's part that knows whether the person is busy."""

    def __init__(self, engine: Engine, clock: Clock, lock: threading.RLock, apply: Callable[[list, datetime], None],
                 select: Select | None) -> None:
        self.engine, self.clock, self.lock, self._apply = engine, clock, lock, apply
        self._select = select
        self.sources: list[BusySource] = []
        self.reasons: list[str] = []
        self._meetings: Any = None
        self._follower: threading.Thread | None = None
        self._stop = threading.Event()

    def configure(self, meetings: Any) -> None:
        """(Re)build the sources for these [meetings] settings; nothing changes when they did not."""
        if self._select is None or meetings == self._meetings:
            return
        self.close_sources()
        self._meetings = meetings
        self.sources, self.reasons = self._select(meetings)
        for line in self.reasons:
            log.debug("busy source %s", line)

    def wanted(self, now: datetime) -> bool:
        """Under the lock: ask only when something is due, nothing but busy holds it, and no follower asks."""
        return (bool(self.sources) and self._follower is None and self.engine.hold(now) in (None, "busy")
                and self.engine.due_now(now))

    def ask(self, now: datetime, first: BusySource | None = None) -> tuple[Busy | None, BusySource | None]:
        """Outside the lock: the first source that says busy (a failing source counts as not busy). `first`
        is asked before the others: while it stays busy, nobody else is asked (no needless child processes)."""
        order = list(self.sources)
        if first is not None and first in order:
            order.remove(first)
            order.insert(0, first)
        for source in order:
            try:
                found = source.check(now)
            except Exception:
                log.exception("busy source %s failed", source.name)
                continue
            if found is not None:
                return found, source
        return None, None

    def settle(self, now: datetime, found: Busy | None, source: BusySource | None) -> None:
        """Under the lock: tell the Engine, and follow a busy spell that just began."""
        before = self.engine.busy
        self.engine.set_busy(now, found.reason if found else None, found.until if found else None)
        if found is None:
            if before is not None:
                log.info("no longer busy; what is due goes out after %s", self.engine.timing.busy_after)
            return
        if before != found.reason:
            log.info("holding reminders: %s", found.reason)
        if self._follower is None and source is not None:
            self._stop.clear()
            self._follower = threading.Thread(target=self._follow, args=(source,), name="ergo-busy", daemon=True)
            self._follower.start()

    def _follow(self, source: BusySource) -> None:
        try:
            while not self._stop.is_set():
                with self.lock:
                    now, until = self.clock.now(), self.engine.busy_until
                timeout = EVENT_WAIT if getattr(source, "events", False) else getattr(source, "recheck", RECHECK)
                if until is not None:
                    timeout = max(0.2, min(timeout, (until - now).total_seconds() + 0.2))
                source.wait(timeout, self._stop)
                if self._stop.is_set():
                    return
                now = self.clock.now()
                found, by = self.ask(now, source)
                with self.lock:
                    now = self.clock.now()
                    if found is None:
                        self._follower = None
                        self.settle(now, None, None)
                        self._apply([], now)  # the timers pick up the end of the hold
                        return
                    self.settle(now, found, by)
                    self._apply([], now)  # status subscribers see a changed reason
                    source = by or source
        except Exception:
            log.exception("following a busy spell failed; reminders go on")
            with self.lock:
                self._follower = None
                now = self.clock.now()
                self.settle(now, None, None)
                self._apply([], now)

    def close_sources(self) -> None:
        self._stop.set()
        follower = self._follower
        if follower is not None and follower is not threading.current_thread():
            follower.join(timeout=3)
        self._follower = None
        for source in self.sources:
            try:
                source.close()
            except Exception:
                pass
        self.sources = []

    def status(self, now: datetime) -> dict[str, Any]:
        """For `ergo status`: the reason while busy, when the hold ends, and each source's line."""
        engine = self.engine
        after = engine.busy_after_until if engine.busy is None and engine.busy_after_until and engine.busy_after_until > now else None
        return {"busy": engine.busy, "busy_until": engine.busy_until.isoformat() if engine.busy_until else None,
                "busy_after_until": after.isoformat() if after else None, "busy_sources": list(self.reasons)}
