"""Two APScheduler triggers the daemon needs.

CatchUpIntervalTrigger: APScheduler 3 lists every missed fire time before coalescing
them; after a far forward clock jump (or a long suspend with a short interval) that list
can be millions long. This trigger jumps straight to the first grid time not before
`now`, so coalescing sees at most one missed run.

FollowingTrigger: fires a changing number of seconds after each run, so the daemon can
change how often it reads idle time without rescheduling the job (a reschedule wakes
APScheduler's thread once more on every reading).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger


class CatchUpIntervalTrigger(IntervalTrigger):
    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        if previous_fire_time is not None and previous_fire_time + self.interval < now:
            behind = (now - previous_fire_time).total_seconds()
            steps = max(1, math.floor(behind / self.interval_length))
            previous_fire_time = previous_fire_time + self.interval * (steps - 1)
        return super().get_next_fire_time(previous_fire_time, now)


class FollowingTrigger(BaseTrigger):
    """Next fire time: `delay()` seconds from now (`delay` reads a plain number: no lock taken)."""

    def __init__(self, delay: Callable[[], float]) -> None:
        self._delay = delay

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        return now + timedelta(seconds=self._delay())

    def __str__(self) -> str:
        return f"following[{self._delay():g}s]"
