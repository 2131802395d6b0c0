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


class JumpDetector:
    """Notices wall-clock time moving differently from monotonic time: a suspend, or a clock change."""

    def __init__(self, clock: Clock, tolerance: timedelta = timedelta(seconds=5)) -> None:
        self._clock = clock
        self._tolerance = tolerance
        self._wall = clock.now()
        self._mono = clock.monotonic()

    def check(self) -> timedelta | None:
        """How far the wall clock jumped since the last check (positive = forward), if beyond tolerance."""
        wall, mono = self._clock.now(), self._clock.monotonic()
        jump = (wall - self._wall) - timedelta(seconds=mono - self._mono)
        self._wall, self._mono = wall, mono
        return jump if abs(jump) > self._tolerance else None
