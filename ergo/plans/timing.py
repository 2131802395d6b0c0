"""When a plan's steps fall due: pure functions over plain data and the times passed in (like ergo.timing.policy).

Rules, all here:
- a step runs between `start + step.start` and `start + step.end` (or the plan's end);
- `every` steps come at the start of that range (or of a waking span), then every interval,
  only inside waking hours; each waking span starts its own count, so there is no night-time step
  and none in a burst at wake-up;
- `per_day` steps are spread evenly over each day's waking span (at the middle of N equal parts,
  rounded to 5 minutes, plus the step's `shift` so two kinds of step do not coincide);
- an `after` step comes once, that long after the start;
- waking hours hold every day (a back does not rest at the weekend);
- a step more than STALE late (the daemon was down, ergo was paused) is skipped and recorded, not
  delivered; the plan ends by itself at `ends`;
- the warning signs go out in the plan's first notification (also when it was started with no daemon
  running: `warned` is still None), then with the first step of each later day, and at the end;
- what the plan does to the ordinary reminders (`reminder_holds`): a kind held until one of its steps
  begins, or replaced by its steps until it ends; the Engine (ergo.policy) applies the holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

from ergo.timing.durations import DurationError, format_duration, parse_duration
from ergo.errors import ErgoError
from ergo.plans.catalog import Plan, Step
from ergo.timing.decisions import KindHold
from ergo.timing.worktime import DAY_MINUTES, Window, WorkHours, WorkHoursError, parse_hours

STALE = timedelta(minutes=30)
ROUND = 5  # minutes: per_day steps land on a 5-minute mark


@dataclass(frozen=True)
class Running:
    """A started plan, as stored: everything its timing needs, so restarts and edits do not move it."""

    name: str
    started: datetime
    ends: datetime
    waking: str  # one window, "08:00-22:00"
    options: dict[str, Any] = field(default_factory=dict)  # durations as text, counts as int
    last: datetime | None = None  # steps due at or before this are done (delivered or skipped); None: none yet
    warned: str | None = None  # the local day (ISO date) the warning signs last went out; None: not yet

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "started": self.started.isoformat(), "ends": self.ends.isoformat(),
                "waking": self.waking, "options": dict(self.options), "last": None if self.last is None else self.last.isoformat(),
                "warned": self.warned}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Running":
        last, warned = data.get("last"), data.get("warned")
        return cls(data["name"], datetime.fromisoformat(data["started"]), datetime.fromisoformat(data["ends"]),
                   data["waking"], dict(data.get("options", {})), None if last is None else datetime.fromisoformat(last),
                   warned if isinstance(warned, str) and _is_date(warned) else None)  # unreadable: warn again


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def resolve_options(plan: Plan, given: dict[str, str | None]) -> dict[str, Any]:
    """The plan's options with the user's values, checked against the plan's bounds (one-line errors)."""
    resolved: dict[str, Any] = {}
    for name, option in plan.options.items():
        raw = given.get(name)
        flag = "--" + name.replace("_", "-")
        if raw is None:
            value = option.default
        elif isinstance(option.default, int):
            try:
                value = int(raw)
            except ValueError:
                raise ErgoError(f"{flag} {raw}: not a whole number") from None
        else:
            try:
                value = parse_duration(raw)
            except DurationError as error:
                raise ErgoError(f"{flag} {raw}: {error}") from None
        if not option.low <= value <= option.high:  # type: ignore[operator]
            shown = (lambda v: format_duration(v) if isinstance(v, timedelta) else str(v))
            raise ErgoError(f"{flag} {raw}: {plan.name} takes {shown(option.low)} to {shown(option.high)}")
        resolved[name] = format_duration(value) if isinstance(value, timedelta) else value
    unknown = [k for k, v in given.items() if v is not None and k not in plan.options]
    if unknown:
        raise ErgoError(f"--{unknown[0].replace('_', '-')}: {plan.name} has no such option"
                        + (f" (it has {', '.join('--' + o.replace('_', '-') for o in plan.options)})" if plan.options else ""))
    return resolved


def waking_window(plan: Plan, option: str | None, schedule_hours: str) -> str:
    """Waking hours: --waking, else the span of [schedule] hours, else the plan's default (when
    [schedule] covers the whole day, which would mean steps all night)."""
    try:
        if option:
            windows = parse_hours(option)
            if len(windows) != 1:
                raise ErgoError(f"--waking {option}: give one window, e.g. 08:00-22:00")
            return str(windows[0])
        windows = parse_hours(schedule_hours)
    except WorkHoursError as error:
        raise ErgoError(f"--waking {option}: {error}") from None
    span = Window(min(w.start for w in windows), max(w.end for w in windows))
    if span.end - span.start >= DAY_MINUTES:
        return plan.default_waking
    return str(span)


def start(plan: Plan, now: datetime, waking: str, options: dict[str, Any]) -> Running:
    """A plan starting now; a step due at the start itself is due at once."""
    days = options.get("days")
    length = timedelta(days=days) if isinstance(days, int) else plan.length
    return Running(plan.name, now, now + length, waking, dict(options), now - timedelta(microseconds=1))


def _spans(waking: str, zone: tzinfo, lo: datetime, hi: datetime, merge: bool) -> list[tuple[datetime, datetime]]:
    """Waking spans (UTC) that overlap [lo, hi]; with `merge`, touching spans join (a whole-day window)."""
    window = parse_hours(waking)[0]
    hours = WorkHours(frozenset(range(7)), (window,), zone)  # the work windows' rules, DST changes included
    spans: list[tuple[datetime, datetime]] = []
    day: date = lo.astimezone(zone).date() - timedelta(days=1)  # the day before: a window may cross midnight
    last_day = hi.astimezone(zone).date()  # a later day's window begins after hi
    while day <= last_day:
        for begin, finish in hours.spans_on(day):
            if not (finish > lo and begin < hi):
                continue
            if merge and spans and spans[-1][1] >= begin:
                spans[-1] = (spans[-1][0], max(spans[-1][1], finish))
            else:
                spans.append((begin, finish))
        day += timedelta(days=1)
    return spans


def _value(plan: Plan, running: Running, ref: str | int | None) -> Any:
    if isinstance(ref, int) or ref is None:
        return ref
    if ref in running.options:
        value = running.options[ref]
    elif ref in plan.options:
        value = plan.options[ref].default
    else:
        return parse_duration(ref)
    return parse_duration(value) if isinstance(value, str) else value


def _step_times(plan: Plan, running: Running, step: Step, zone: tzinfo, lo: datetime, hi: datetime) -> list[datetime]:
    first = running.started + step.start
    last = min(running.started + step.end, running.ends) if step.end is not None else running.ends
    if step.after is not None:
        at = running.started + step.after
        return [at] if at <= running.ends else []
    lo, hi = max(lo, first), min(hi, last)
    if lo >= hi:
        return []
    times: list[datetime] = []
    if step.every is not None:
        interval: timedelta = _value(plan, running, step.every)
        # from the step's own start: joined spans (waking hours all day) keep one rhythm, whatever [lo, hi) is
        for begin, finish in _spans(running.waking, zone, first, hi, merge=True):
            at = max(begin, first)
            while at < min(finish, last):
                times.append(at)
                at += interval
    elif step.per_day is not None:
        count: int = _value(plan, running, step.per_day)
        for begin, finish in _spans(running.waking, zone, lo, hi, merge=False):
            length = (finish - begin).total_seconds() / 60
            for i in range(count):
                minutes = round(length * (i + 0.5) / count / ROUND) * ROUND
                at = begin + timedelta(minutes=minutes) + step.shift
                if first <= at < last and at < finish and at not in times:  # waking hours too short: once a mark
                    times.append(at)
    return times


def occurrences(plan: Plan, running: Running, zone: tzinfo, lo: datetime, hi: datetime) -> list[tuple[datetime, Step]]:
    """Every step due in (lo, hi], in time order (steps at the same moment keep the plan's order)."""
    found = []
    for order, step in enumerate(plan.steps):
        for at in _step_times(plan, running, step, zone, lo, hi + timedelta(microseconds=1)):
            if lo < at <= hi:
                found.append((at, order, step))
    return [(at, step) for at, _, step in sorted(found)]  # (time, order) is unique: steps are never compared


def due(plan: Plan, running: Running, zone: tzinfo, now: datetime) -> tuple[list[tuple[datetime, Step]], list[tuple[datetime, Step]], Running]:
    """Steps due since the last check: (to deliver, stale ones to skip, the plan with `last` = now)."""
    since = running.last if running.last is not None else running.started - timedelta(microseconds=1)  # as start()
    steps = occurrences(plan, running, zone, since, min(now, running.ends))
    fresh = [(at, s) for at, s in steps if now - at <= STALE]
    stale = [(at, s) for at, s in steps if now - at > STALE]
    return fresh, stale, replace(running, last=now)


def next_time(plan: Plan, running: Running, zone: tzinfo, after: datetime) -> datetime | None:
    """When the next step falls due after `after`, or None when none is left before the end."""
    horizon = after
    while horizon < running.ends:
        upper = min(horizon + timedelta(days=2), running.ends)
        found = occurrences(plan, running, zone, after, upper)
        if found:
            return found[0][0]
        horizon = upper
    return None


def finished(running: Running, now: datetime) -> bool:
    return now >= running.ends


def warn_today(plan: Plan, running: Running, zone: tzinfo, now: datetime) -> bool:
    """Whether a plan notification sent now carries the warning signs: the first one, then once a local day."""
    return bool(plan.warning) and running.warned != now.astimezone(zone).date().isoformat()


def warned(running: Running, zone: tzinfo, now: datetime) -> Running:
    return replace(running, warned=now.astimezone(zone).date().isoformat())


def reminder_holds(plan: Plan, running: Running) -> dict[str, KindHold]:
    """What the plan does to the ordinary reminders, as holds for the Engine: a kind held until a step of
    the plan begins (acute-back: stretching until its gentle movement brings it back), or replaced by the
    plan's own steps until it ends (acute-back: movement)."""
    holds = {}
    for kind, rule in plan.reminders.items():
        end = running.ends
        if rule.held_until is not None:
            end = min(running.started + plan.step(rule.held_until).start, running.ends)
        if end > running.started:
            holds[kind] = KindHold(running.started, end, f"{plan.name} plan: {rule.why}")
    return holds
