"""A simulated world for the pure timing Engine: work hours, idle stretches, locks,
suspends, do-not-disturb and pauses over days, driven the way the daemon drives it
(a perfect timer calling tick at next_wakeup, idle readings at every step).

No real clock is involved: this is the time-travel seam the standards allow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ergo.timing.policy import Engine
from ergo.timing.decisions import Deliver, KindHold, Record, ReminderSpec, Timing

Period = tuple[datetime, datetime]


def examples(count: int) -> int:
    """How many examples a property test of the Engine draws: `count`, or a sixth of it (at least 5) under
    mutmut (benchmarks/mutation.sh), which runs the covering tests once per mutant. The mutation run
    leans on the exact unit tests (tests/test_policy_rules.py) and on hypothesis replaying, first, the
    examples that killed earlier mutants (its database in mutants/.hypothesis)."""
    return max(5, count // 6) if os.environ.get("MUTANT_UNDER_TEST") else count


@dataclass
class World:
    """What happens to the person and the machine, as [start, end) periods of true time."""

    idle: list[Period] = field(default_factory=list)
    locked: list[Period] = field(default_factory=list)
    asleep: list[Period] = field(default_factory=list)
    dnd: list[Period] = field(default_factory=list)
    paused: list[Period] = field(default_factory=list)
    busy: list[Period] = field(default_factory=list)  # a call, full screen or a meeting

    def boundaries(self) -> list[datetime]:
        times = set()
        for periods in (self.idle, self.locked, self.asleep, self.dnd, self.paused, self.busy):
            for start, end in periods:
                times.update((start, end))
        return sorted(times)

    @staticmethod
    def inside(periods: list[Period], t: datetime) -> bool:
        return any(start <= t < end for start, end in periods)

    def idle_for(self, t: datetime) -> timedelta:
        for start, end in self.idle:
            if start <= t < end:
                return t - start
        return timedelta(0)


@dataclass
class Run:
    deliveries: list[Deliver]
    records: list[Record]
    ticks: int


def merge_periods(periods: list[Period]) -> list[Period]:
    """Join overlapping or touching periods so each kind of event is on or off, never nested."""
    merged: list[Period] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def simulate(specs: dict[str, ReminderSpec], timing: Timing, world: World, start: datetime, end: datetime,
             holds: dict[str, KindHold] | None = None) -> Run:
    """Drive an Engine from `start` to `end` through `world` (with a running plan's `holds`); return what it
    delivered and recorded."""
    engine = Engine.start(specs, timing, start)
    engine.set_kind_holds(holds or {})
    events = [b for b in world.boundaries() if start <= b < end]
    deliveries: list[Deliver] = []
    records: list[Record] = []
    t = start
    ticks = 0
    index = 0
    first = True
    while t < end:
        if not first:
            wake = engine.next_wakeup(t)
            assert wake is None or wake > t, f"the timer would spin at {t}"  # ticked at t: never again at once
            while index < len(events) and events[index] <= t:
                index += 1
            upcoming = [x for x in (wake, events[index] if index < len(events) else None, end) if x is not None and x > t]
            t = min(upcoming)
            if t >= end:
                break
        first = False
        ticks += 1
        outcomes = []
        for why, periods in (("asleep", world.asleep), ("locked", world.locked)):
            for p_start, p_end in periods:
                if t == p_start:
                    engine.leave(t, why)
                if t == p_end:
                    outcomes += engine.back(t, why)
        for p_start, p_end in world.paused:
            if t == p_start:
                engine.pause(t, None)
            if t == p_end:
                engine.resume(t)
        engine.set_dnd(t, world.inside(world.dnd, t))
        # Busy is asked as the daemon asks it: when something is due and only busy may hold it, and
        # then followed (the follower sees the spell end at its boundary).
        if engine.busy is not None or (engine.hold(t) in (None, "busy") and engine.due_now(t)):
            engine.set_busy(t, "in a call" if world.inside(world.busy, t) else None)
        outcomes += engine.observe_idle(t, world.idle_for(t))
        outcomes += engine.tick(t)
        for outcome in outcomes:
            (deliveries if isinstance(outcome, Deliver) else records).append(outcome)
    return Run(deliveries, records, ticks)
