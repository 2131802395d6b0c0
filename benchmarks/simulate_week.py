"""How long the pure timing Engine takes to simulate a week (issue 4 asks for "well under a second").

    python benchmarks/simulate_week.py [--rounds 20]

Three worlds, each a full week through tests/simulation.py (the same driver the
property tests use): the default intervals with an office week, busy two-minute
intervals all day long, and an office week with idle stretches, locks, a suspend,
do-not-disturb and a pause every day. Prints the median and worst wall time per week.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ergo.timing.decisions import ReminderSpec, Timing  # noqa: E402
from ergo.timing.worktime import WorkHours  # noqa: E402
from tests.simulation import World, simulate  # noqa: E402

START = datetime(2026, 10, 19, tzinfo=timezone.utc)  # a week that contains the October DST change
ZONE = ZoneInfo("Europe/Berlin")
M = timedelta(minutes=1)


def specs(hours: WorkHours, minutes: dict[str, float]) -> dict[str, ReminderSpec]:
    return {k: ReminderSpec(k, m * M, 5 * M, hours) for k, m in minutes.items()}


def busy_world() -> World:
    days = range(7)
    day = lambda d, h, m=0: START + timedelta(days=d, hours=h, minutes=m)  # noqa: E731
    return World(
        idle=[(day(d, 10, 15), day(d, 10, 27)) for d in days] + [(day(d, 15), day(d, 15, 4)) for d in days],
        locked=[(day(d, 12, 30), day(d, 13, 30)) for d in days],
        asleep=[(day(d, 18), day(d + 1, 8, 45)) for d in days],
        dnd=[(day(d, 9, 30), day(d, 10)) for d in days],
        paused=[(day(d, 16), day(d, 16, 20)) for d in days],
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    office = WorkHours.parse("mon-fri", "09:00-12:30, 13:30-18:00", ZONE)
    always = WorkHours.parse("every day", "00:00-24:00", ZONE)
    defaults = {"posture": 30, "hydration": 45, "stretch": 60, "movement": 50}
    cases = {
        "defaults, office week": (specs(office, defaults), World()),
        "2-7 min intervals, all week": (specs(always, {"posture": 2, "hydration": 3, "stretch": 5, "movement": 7}), World()),
        "defaults, office week, daily idle/lock/suspend/DND/pause": (specs(office, defaults), busy_world()),
    }
    print(f"{'case':<58} {'deliveries':>10} {'median':>9} {'worst':>9}")
    for name, (case_specs, world) in cases.items():
        times = []
        for _ in range(args.rounds):
            began = time.perf_counter()
            run = simulate(case_specs, Timing(), world, START, START + timedelta(days=7))
            times.append(time.perf_counter() - began)
        print(f"{name:<58} {len(run.deliveries):>10} {statistics.median(times) * 1000:>7.1f}ms {max(times) * 1000:>7.1f}ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
