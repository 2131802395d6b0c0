"""The coming reminders as a timeline: what `ergo schedule` prints, from an Engine played forward.

Pure: an Engine (a copy: `tick` changes it), the plan's steps and the work hours in, (time, text)
events out. `ergo schedule` uses it twice: the running daemon plays a copy of its own Engine
(with its pauses, snoozes and plan), and with no daemon the CLI plays a fresh one "as if ergo
started now".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ergo.timing.decisions import Deliver
from ergo.timing.policy import Engine

MAX_EVENTS = 500  # a 1-second interval over 14 days would print forever


def reminders(engine: Engine, start: datetime, end: datetime, limit: int = MAX_EVENTS) -> list[tuple[datetime, str]]:
    """Each notification the engine would send in (start, end]: "posture", or "posture + stretch  (merged)"."""
    events: list[tuple[datetime, str]] = []
    moment = start
    while len(events) < limit:
        wake = engine.next_wakeup(moment)
        if wake is None or wake > end:
            break
        moment = wake
        for outcome in engine.tick(moment):
            if isinstance(outcome, Deliver):
                events.append((moment, " + ".join(outcome.kinds) + ("  (merged)" if len(outcome.kinds) > 1 else "")))
    return events


def window_events(specs: dict[str, Any], start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Work-hour window starts and ends within [start, end)."""
    events: set[tuple[datetime, str]] = set()
    for spec in specs.values():
        if spec.hours.always:
            continue
        moment = start
        while True:
            upcoming = spec.hours.next_start(moment)
            if upcoming is None or upcoming[0] >= end:
                break
            events.add((upcoming[0], "-- work hours begin"))
            if upcoming[1] < end:
                events.add((upcoming[1], "-- work hours end"))
            moment = upcoming[0]
        current = spec.hours.window_at(start)
        if current is not None and current[1] < end:
            events.add((current[1], "-- work hours end"))
    return sorted(events)


def work_hours(specs: dict[str, Any]) -> list[str]:
    """One line per distinct work-hours setting: "every day, all day", or "mon-fri 09:00-17:00 (for posture)"."""
    lines: list[str] = []
    several = len({spec.hours for spec in specs.values()}) > 1
    for kind, spec in specs.items():
        text = spec.hours.describe()
        line = text + (f" (for {kind})" if several else "")
        if text not in {existing.split(" (for ")[0] for existing in lines}:
            lines.append(line)
    return lines
