"""What to remind of and when: pure decisions over plain data and a clock passed in.

The daemon feeds the Engine events (timer ticks, idle readings, suspend, lock,
do-not-disturb, control commands) with the time they happened; the Engine
answers with outcomes (deliver these kinds now, a natural break was taken, a
stale reminder was skipped). Nothing here sleeps, reads a clock or does I/O, so
a simulated week runs in milliseconds.

Rules, in one place:
- a reminder is due `interval` after its countdown started (its anchor);
- outside its work hours nothing is delivered, and a window's start begins a fresh countdown;
- while paused, countdowns freeze; while away, locked, asleep, in the quiet minute after
  a resume, or in do-not-disturb, due reminders are held (pending);
- an absence (idle, lock, suspend) at least as long as a reminder's natural_break counts
  as that break taken: its countdown restarts when the person is back;
- while busy (a call, a full-screen window, a busy calendar event; the daemon asks its sources
  when something is due) and for `busy_after` once that ends, due reminders are held too; a busy
  hold never makes a reminder stale, so what fell due goes out once, merged, when it lifts; being
  busy is not being away, so it is never a natural break;
- a reminder held (by one of the other holds above) for longer than its interval has gone stale:
  it is skipped and recorded; keeping notifications apart is not a hold and never makes one stale;
- the spacing is merge_window, but at most half the shortest enabled interval, so it never
  starves a short interval; reminders due within the spacing of each other go out as one
  notification, and two notifications are never closer than the spacing (`ergo now` aside);
- a reminder delayed only by the spacing, or pulled forward to merge, keeps its countdown grid
  (its next one is due an interval after this one was due); after a hold, the countdown
  starts afresh at the delivery;
- a running plan may hold one kind for a span (a `KindHold`: acute-back holds stretch reminders until
  its own gentle movement brings stretching back, and movement reminders for its whole length, its
  own steps taking their place): nothing of that kind is due in the span, it never goes stale there,
  and the span's end begins a fresh countdown, like the start of a work window.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Literal

from ergo.timing.decisions import (ON_TIME, Deliver, HoldReason, KindHold, Outcome, Record, ReminderSpec, ReminderState,
                                   Timing, format_seconds, stale_detail)


@dataclass
class Engine:
    """All timing state of a running ergo; every method takes the current time."""

    specs: dict[str, ReminderSpec]
    timing: Timing
    reminders: dict[str, ReminderState] = field(default_factory=dict)
    paused_at: datetime | None = None
    pause_until: datetime | None = None  # None while paused = until `resume`
    away_since: datetime | None = None
    gone: dict[str, datetime] = field(default_factory=dict)  # "locked"/"asleep" -> since
    quiet_until: datetime | None = None
    dnd: bool = False
    last_delivery: datetime | None = None
    busy: str | None = None  # why the person is busy, in plain words ("in a call (microphone in use by firefox)")
    busy_until: datetime | None = None  # when the busy spell is known to end (a calendar event), else None
    busy_after_until: datetime | None = None  # a busy spell ended: still held until then
    kind_holds: dict[str, KindHold] = field(default_factory=dict)  # from the running plan; derived, not saved

    @classmethod
    def start(cls, specs: dict[str, ReminderSpec], timing: Timing, now: datetime) -> "Engine":
        """A fresh engine: every countdown starts now."""
        return cls(specs, timing, {kind: ReminderState(anchor=now) for kind in specs})

    # --- questions ----------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    def hold(self, now: datetime) -> HoldReason | None:
        """Why nothing may be delivered right now, if anything holds all reminders."""
        if self.paused:
            return "paused"
        if "asleep" in self.gone:
            return "asleep"
        if "locked" in self.gone:
            return "locked"
        if self.quiet_until is not None and now < self.quiet_until:
            return "quiet after resume"
        if self.away_since is not None:
            return "away"
        if self.dnd:
            return "do not disturb"
        if self.busy is not None or (self.busy_after_until is not None and now < self.busy_after_until):
            return "busy"
        return None

    def due_now(self, now: datetime) -> bool:
        """Whether some reminder is due at `now` (held or not): when the daemon asks whether you are busy."""
        return not self.paused and any((d := self.next_due(k, now)) is not None and d <= now for k in self.specs)

    def plan_hold(self, kind: str, now: datetime) -> KindHold | None:
        """The running plan's hold on `kind`, if it holds it now."""
        hold = self.kind_holds.get(kind)
        return hold if hold is not None and hold.start <= now < hold.end else None

    def set_kind_holds(self, holds: dict[str, KindHold]) -> None:
        """A plan started, ended or was restored: its holds replace the old ones."""
        self.kind_holds = dict(holds)

    def next_due(self, kind: str, now: datetime) -> datetime | None:
        """When `kind` falls due, ignoring global holds; None if it never will in the coming week.

        A plan's hold on the kind moves it past the hold's end, counting afresh from there; once the
        hold has begun that includes a reminder already overdue (held while you were away)."""
        hold = self.kind_holds.get(kind)
        if hold is None:
            return self._due(kind, now, None)
        if hold.end <= now:
            return self._due(kind, now, hold.end)
        due = self._due(kind, now, None)
        if due is None or (due < hold.start and now < hold.start):
            return due  # falls due, and is shown, before the hold begins
        return self._due(kind, hold.end, hold.end)  # due or overdue within the hold: after it, afresh

    def _due(self, kind: str, now: datetime, floor: datetime | None) -> datetime | None:
        spec, state = self.specs[kind], self.reminders[kind]
        anchor = self._thawed(state.anchor, now)
        if floor is not None:
            anchor = max(anchor, floor)
        window = spec.hours.window_at(now)
        if window is None:
            upcoming = spec.hours.next_start(now)
            return None if upcoming is None else upcoming[0] + spec.interval
        start, end = window
        due = max(anchor, start) + spec.interval
        if state.snoozed_until is not None:
            due = max(due, state.snoozed_until)
        if due >= end:
            upcoming = spec.hours.next_start(end - timedelta(microseconds=1))
            return None if upcoming is None else upcoming[0] + spec.interval
        return due

    def _thawed(self, anchor: datetime, now: datetime) -> datetime:
        """The anchor as if a pause ended now: countdowns do not run while paused."""
        if self.paused_at is None:
            return anchor
        return anchor + (now - max(anchor, self.paused_at))

    @property
    def spacing(self) -> timedelta:
        """The least time between two notifications: merge_window, but at most half the shortest interval."""
        return min([self.timing.merge_window, *(spec.interval / 2 for spec in self.specs.values())])

    def spaced_until(self, now: datetime) -> datetime | None:
        """When the spacing since the last notification ends, if it has not yet."""
        if self.last_delivery is None:
            return None
        end = self.last_delivery + self.spacing
        return end if now < end else None

    def waiting_for(self, kind: str, now: datetime) -> str | None:
        """Why a due reminder has not gone out yet, in plain words; None if it is not due."""
        if self.paused:
            return "paused"
        held = self.plan_hold(kind, now)
        if held is not None:
            return held.why
        due = self.next_due(kind, now)
        if due is None or due > now:
            return None
        reason = self.hold(now)
        if reason is not None:
            return reason
        spaced = self.spaced_until(now)
        if spaced is not None:
            return f"keeping notifications {format_seconds(self.spacing)} apart"  # `ergo status` shows until when, in local time
        return "being delivered now"

    def last_delivered(self) -> tuple[str, ...]:
        """The kinds of the notification delivered last (several when it was merged), for commands with no kind."""
        fired = {kind: s.last_fired for kind, s in self.reminders.items() if s.last_fired is not None and kind in self.specs}
        if not fired:
            return ()
        latest = max(fired.values())
        return tuple(sorted((k for k, at in fired.items() if at == latest), key=lambda k: list(self.specs).index(k)))

    def outside_hours(self, kind: str, now: datetime) -> bool:
        return self.specs[kind].hours.window_at(now) is None

    def next_wakeup(self, now: datetime) -> datetime | None:
        """The earliest future moment at which `tick` may have something to do."""
        if self.paused:
            return self.pause_until
        free = self.hold(now) is None
        candidates = [self.quiet_until, self.busy_after_until]  # the ends of the holds that end by themselves
        for kind in self.specs:
            due = self.next_due(kind, now)
            if due is not None and due <= now and free:  # overdue, nothing holds it: now, or once spacing allows
                return now if self.last_delivery is None else max(now, self.last_delivery + self.spacing)
            candidates.append(due)
        return min((c for c in candidates if c is not None and c > now), default=None)

    # --- the timer ----------------------------------------------------------

    def tick(self, now: datetime) -> list[Outcome]:
        """Deliver what is due, hold what must wait, skip what went stale."""
        outcomes: list[Outcome] = []
        if self.paused and self.pause_until is not None and now >= self.pause_until:
            self.resume(self.pause_until)
        for state in self.reminders.values():
            if state.snoozed_until is not None and state.snoozed_until <= now:
                state.snoozed_until = None
        due_now = {k: d for k in self.specs if (d := self.next_due(k, now)) is not None and d <= now}
        for kind, state in self.reminders.items():
            if kind not in due_now:  # e.g. a new work window began: an old hold no longer applies
                state.pending_since = state.pending_reason = None
                state.after_hold = state.spaced = False
        if not due_now:
            return outcomes
        reason = self.hold(now)
        if reason is not None:
            for kind, due in due_now.items():
                state = self.reminders[kind]
                if state.pending_since is None:
                    state.pending_since, state.pending_reason = due, reason
                elif (state.pending_reason == "busy") != (reason == "busy"):  # busy time never counts to staleness
                    state.pending_since, state.pending_reason = now, reason
            return outcomes
        for kind in list(due_now):
            state, spec = self.reminders[kind], self.specs[kind]
            if state.pending_since is None:
                continue  # nothing held it: late only by the timer or the spacing, never stale
            if now - state.pending_since > spec.interval and state.pending_reason != "busy":
                outcomes.append(Record(kind, "skipped_stale", now, stale_detail(state.pending_reason)))
                self._restart(kind, now)
                del due_now[kind]
            else:
                state.pending_since = state.pending_reason = None  # the hold is over; spacing is not one
                state.after_hold = True
        if not due_now:
            return outcomes
        if self.spaced_until(now) is not None:
            for kind in due_now:
                self.reminders[kind].spaced = True
            return outcomes  # keep notifications apart; next_wakeup brings us back
        horizon = now + self.spacing  # at most half the shortest interval: never more than half an interval early
        for kind in self.specs:
            if kind in due_now:
                continue
            due = self.next_due(kind, now)
            state = self.reminders[kind]
            # a kind outside its work hours is never due within the horizon: its next one is an interval after
            # the next window's start
            if due is None or due > horizon or state.snoozed_until is not None:
                continue
            due_now[kind] = due
        kinds = tuple(sorted(due_now, key=lambda k: (due_now[k], k)))
        for kind in kinds:
            due, state, spec = due_now[kind], self.reminders[kind], self.specs[kind]
            # On time, merged early, or late only because of the spacing: keep the grid (if it stays ahead).
            late = now - due
            on_grid = not state.after_hold and (late < ON_TIME or state.spaced) and late < spec.interval
            self._restart(kind, due if on_grid else now)
            state.last_fired = now
        self.last_delivery = now
        outcomes.append(Deliver(kinds, now))
        return outcomes

    def _restart(self, kind: str, anchor: datetime) -> None:
        state = self.reminders[kind]
        state.anchor, state.pending_since, state.pending_reason, state.snoozed_until = anchor, None, None, None
        state.after_hold = state.spaced = False

    # --- presence -----------------------------------------------------------

    def observe_idle(self, now: datetime, idle_for: timedelta) -> list[Outcome]:
        """An idle reading: long enough means away; activity after an absence may be a natural break."""
        if idle_for >= self.timing.away_after:
            if self.away_since is None:
                self.away_since = now - idle_for
            return []
        if self.away_since is None:
            return []
        since, self.away_since = self.away_since, None
        return self._absence(since, now - idle_for, "idle")

    def leave(self, now: datetime, why: Literal["locked", "asleep"]) -> None:
        """The screen locked or the machine is about to sleep."""
        self.gone.setdefault(why, now)

    def back(self, now: datetime, why: Literal["locked", "asleep"]) -> list[Outcome]:
        """Unlock or resume: maybe a natural break, then a quiet minute before anything is delivered."""
        since = self.gone.pop(why, None)
        if since is None:
            return []
        if self.gone:  # e.g. resumed but still locked: the absence goes on, from whichever began first
            self.gone = {k: min(v, since) for k, v in self.gone.items()}
            return []
        self.quiet_until = now + self.timing.quiet_after_resume
        return self._absence(since, now, why)

    def clock_jump(self, now: datetime, jump: timedelta) -> list[Outcome]:
        """Wall time moved `jump` more than the monotonic clock: a sleep forward, a clock set back."""
        if jump > timedelta(0):
            self.quiet_until = now + self.timing.quiet_after_resume
            return self._absence(now - jump, now, "clock jump or suspend")
        for state in self.reminders.values():
            state.anchor += jump
            if state.last_fired is not None:
                state.last_fired += jump
            if state.pending_since is not None:
                state.pending_since += jump
        if self.last_delivery is not None:
            self.last_delivery += jump
        if self.paused_at is not None:
            self.paused_at += jump
        if self.quiet_until is not None:  # past or not: a clock set back must not bring an old quiet minute back
            self.quiet_until += jump
        if self.busy_after_until is not None:
            self.busy_after_until += jump
        return []

    def _absence(self, start: datetime, end: datetime, why: str) -> list[Outcome]:
        """An absence from `start` to `end`: each kind it was a natural break for restarts, and says so."""
        minutes = (end - start) // timedelta(minutes=1)
        return [Record(kind, "natural_break", end, f"{why}, {minutes} min") for kind in self._natural_breaks(start, end)]

    def _natural_breaks(self, start: datetime, end: datetime) -> list[str]:
        """Restart every countdown whose natural break fits between `start` and `end`; the kinds restarted."""
        kinds = [kind for kind, spec in self.specs.items()
                 if spec.natural_break is not None and end - start >= spec.natural_break]
        for kind in kinds:
            self._restart(kind, end)
        return kinds

    def set_dnd(self, now: datetime, active: bool) -> None:
        self.dnd = active

    def set_busy(self, now: datetime, reason: str | None, until: datetime | None = None) -> None:
        """What the busy sources say now: a reason while busy, None once nothing is. The end of a busy
        spell holds reminders `busy_after` longer, so nothing pops up the second a call ends."""
        if reason is None:
            if self.busy is not None:
                self.busy_after_until = now + self.timing.busy_after
            self.busy = self.busy_until = None
            return
        self.busy, self.busy_until, self.busy_after_until = reason, until, None

    # --- commands -----------------------------------------------------------

    def pause(self, now: datetime, until: datetime | None) -> None:
        if self.paused_at is None:
            self.paused_at = now
        self.pause_until = until

    def resume(self, now: datetime) -> None:
        """End a pause; countdowns go on with the time they had left."""
        if self.paused_at is None:
            return
        for state in self.reminders.values():
            state.anchor = self._thawed(state.anchor, now)
        self.paused_at = self.pause_until = None

    def snooze(self, now: datetime, kind: str, until: datetime) -> list[Outcome]:
        state = self.reminders[kind]
        state.snoozed_until, state.pending_since, state.pending_reason = until, None, None
        return [Record(kind, "snoozed", now, f"via command, until {until.isoformat(timespec='seconds')}")]

    def skip(self, now: datetime, kind: str) -> list[Outcome]:
        """`ergo skip KIND` with no notification to answer: the countdown restarts from now. A reminder
        already due (held back, or about to be shown) is dropped unseen, and the history says so."""
        due = None if self.paused else self.next_due(kind, now)
        self._restart(kind, now)
        if due is not None and due <= now:
            return [Record(kind, "skipped", now, f"via command, due since {due.isoformat(timespec='seconds')}, not shown")]
        return [Record(kind, "skipped", now, "via command")]

    def answer(self, now: datetime, kind: str, answer: Literal["done", "snoozed", "skipped"], *,
               until: datetime | None = None, detail: str = "", ref: int | None = None) -> list[Outcome]:
        """Someone answered a delivered reminder: done and skipped restart its countdown now, snoozed brings it back at `until`."""
        if kind not in self.reminders:
            return []
        if answer == "snoozed":
            if until is None or until <= now:
                raise ValueError("a snooze needs a time in the future")
            self._restart(kind, until - self.specs[kind].interval)  # due again exactly at `until`
            self.reminders[kind].snoozed_until = until
        else:
            self._restart(kind, now)
        return [Record(kind, answer, now, detail, ref)]

    def deliver_now(self, now: datetime, kind: str, *more: str) -> list[Outcome]:
        """`ergo now`: deliver at once, whatever holds; several kinds go out as one notification."""
        kinds = (kind, *more)
        for name in kinds:
            self._restart(name, now)
            self.reminders[name].last_fired = now
        self.last_delivery = now
        return [Deliver(kinds, now, requested=True)]

    def reconfigure(self, now: datetime, specs: dict[str, ReminderSpec], timing: Timing) -> set[str]:
        """Apply new settings; only reminders whose interval changed (or that are new) restart now."""
        changed: set[str] = set()
        for kind, spec in specs.items():
            old = self.specs.get(kind)
            if old is None or old.interval != spec.interval:
                state = self.reminders.get(kind)
                self.reminders[kind] = ReminderState(now) if state is None else replace(state, anchor=now, pending_since=None)
                changed.add(kind)
            elif old != spec:
                changed.add(kind)
        for kind in set(self.specs) - set(specs):
            del self.reminders[kind]
            changed.add(kind)
        self.specs, self.timing = dict(specs), timing
        return changed

    # --- persistence --------------------------------------------------------

    def snapshot(self) -> dict:
        """Plain JSON-able state; specs come from settings and are not saved."""

        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "reminders": {
                kind: {"anchor": iso(s.anchor), "snoozed_until": iso(s.snoozed_until), "last_fired": iso(s.last_fired)}
                for kind, s in self.reminders.items()
            },
            "paused_at": iso(self.paused_at),
            "pause_until": iso(self.pause_until),
            "last_delivery": iso(self.last_delivery),
        }

    @classmethod
    def restore(cls, snapshot: dict, specs: dict[str, ReminderSpec], timing: Timing, now: datetime, downtime: timedelta) -> "Engine":
        """Continue from a saved state: countdowns go on, expired pauses and snoozes are gone.

        `downtime` (how long no daemon ran) counts as an absence, like a suspend: a reminder that fell
        due meanwhile (and got no natural break from it) goes out once, after `quiet_after_resume`.
        """

        def when(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value).astimezone(timezone.utc)

        engine = cls.start(specs, timing, now)
        for kind, saved in snapshot.get("reminders", {}).items():
            if kind not in specs:
                continue
            anchor = when(saved.get("anchor")) or now
            snooze = when(saved.get("snoozed_until"))
            engine.reminders[kind] = ReminderState(
                anchor=min(anchor, now),
                snoozed_until=snooze if snooze is not None and snooze > now else None,
                last_fired=when(saved.get("last_fired")),
            )
        pause_until = when(snapshot.get("pause_until"))
        paused_at = when(snapshot.get("paused_at"))
        if paused_at is not None and (pause_until is None or pause_until > now):
            engine.paused_at, engine.pause_until = paused_at, pause_until
        elif paused_at is not None:
            engine.paused_at = paused_at
            engine.resume(pause_until or now)
        engine.last_delivery = when(snapshot.get("last_delivery"))
        engine._natural_breaks(now - downtime, now)  # not history: nobody knows whether you were away meanwhile
        if not engine.paused and any((d := engine.next_due(k, now)) is not None and d <= now for k in specs):
            engine.quiet_until = now + timing.quiet_after_resume  # overdue from the downtime: once, after a quiet spell
        return engine
