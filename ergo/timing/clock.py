"""The clock seam: the daemon reads time only through a Clock, so tests can move it."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC wall-clock time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (and, on Linux, stops during suspend)."""


class SystemClock:
    """The real clocks."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    def boottime(self) -> float | None:
        """Seconds on a clock that never jumps but counts suspend (Linux CLOCK_BOOTTIME); None elsewhere."""
        clock_id = getattr(time, "CLOCK_BOOTTIME", None)
        return None if clock_id is None else time.clock_gettime(clock_id)


def _boottime(clock: Clock) -> float | None:
    read = getattr(clock, "boottime", None)  # a test's time-travel clock may have none
    return read() if read is not None else None


class JumpDetector:
    """Notices wall-clock time moving differently from monotonic time: a suspend, or a clock change.

    `check()` gives the whole jump (wall against monotonic time, which stops during a suspend);
    `set_part` is how much of it was the clock being set: where CLOCK_BOOTTIME exists (Linux) the wall
    clock against boot time, which counts the suspend; elsewhere a backward jump (a suspend only ever
    moves wall time forward)."""

    def __init__(self, clock: Clock, tolerance: timedelta = timedelta(seconds=5)) -> None:
        self._clock = clock
        self._tolerance = tolerance
        self._wall = clock.now()
        self._mono = clock.monotonic()
        self._boot = _boottime(clock)
        self.set_part = timedelta(0)

    def was_set(self) -> bool:
        """Whether the wall clock was set since the last check, looking only (the check stays to do).
        Without CLOCK_BOOTTIME: whether it moved at all against monotonic time."""
        wall, mono, boot = self._clock.now(), self._clock.monotonic(), _boottime(self._clock)
        base = boot - self._boot if boot is not None and self._boot is not None else mono - self._mono
        return abs((wall - self._wall) - timedelta(seconds=base)) > self._tolerance

    def check(self) -> timedelta | None:
        """How far the wall clock jumped since the last check (positive = forward), if beyond tolerance."""
        wall, mono, boot = self._clock.now(), self._clock.monotonic(), _boottime(self._clock)
        moved = wall - self._wall
        jump = moved - timedelta(seconds=mono - self._mono)
        if boot is not None and self._boot is not None:
            self.set_part = moved - timedelta(seconds=boot - self._boot)
        else:
            self.set_part = min(jump, timedelta(0))
        if abs(self.set_part) <= self._tolerance:
            self.set_part = timedelta(0)
        self._wall, self._mono, self._boot = wall, mono, boot
        return jump if abs(jump) > self._tolerance else None
