"""An IntervalTrigger that never enumerates missed runs.

APScheduler 3 lists every missed fire time before coalescing them; after a far
forward clock jump (or a long suspend with a short interval) that list can be
millions long. This trigger jumps straight to the first grid time not before
`now`, so coalescing sees at most one missed run.
"""

from __future__ import annotations

import math
from datetime import datetime

from apscheduler.triggers.interval import IntervalTrigger


class CatchUpIntervalTrigger(IntervalTrigger):
    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        if previous_fire_time is not None and previous_fire_time + self.interval < now:
            behind = (now - previous_fire_time).total_seconds()
            steps = max(1, math.floor(behind / self.interval_length))
            previous_fire_time = previous_fire_time + self.interval * (steps - 1)
        return super().get_next_fire_time(previous_fire_time, now)
