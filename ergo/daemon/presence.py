"""Presence: whether someone is at the keyboard, and when the wall clock jumped.

Idle readings (polled by an APScheduler job, or events from the backend), session events
(suspend, lock, do-not-disturb) from watcher threads, and clock jumps all become Engine calls
whose outcomes go to the daemon's `apply`. Every entry point here takes the daemon's lock.
The "present" span in the store follows the Engine's away/locked/asleep state.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any, Callable

from apscheduler.schedulers.background import BackgroundScheduler

from ergo.timing.clock import Clock, JumpDetector
from ergo.daemon.state import Apply, StateKeeper
from ergo.timing.durations import format_duration
from ergo.timing.policy import Engine
from ergo.timing.decisions import Outcome
from ergo.daemon.triggers import FollowingTrigger

log = logging.getLogger("ergo")
NEAR = timedelta(seconds=60)  # poll idle often only this close to a due reminder
IDLE_FASTEST, IDLE_FAST, IDLE_AWAY, IDLE_SLOW = 1.0, 5.0, 30.0, 60.0  # seconds between idle readings
IDLE_NONE = 300.0  # no idle source to read: the job only checks the clock, as the control thread does



def idle_poll_delay(engine: Engine, now: datetime, away_after: timedelta, polling: bool) -> float:
    """Seconds until the next idle reading: often only when the answer changes a delivery soon.

    Near a due reminder (is the person still there?) or while one is held for their return: every
    few seconds. Away with nothing held: 30 s, since the return restarts countdowns anyway.
    Otherwise once a minute, which still notices a departure long before `away_after` matters.
    """
    if not polling:
        return IDLE_NONE
    fast = min(max(away_after.total_seconds() / 2, IDLE_FASTEST), IDLE_FAST)
    if engine.away_since is not None:
        held = any(state.pending_since is not None for state in engine.reminders.values())
        return fast if held else IDLE_AWAY
    near = any((d := engine.next_due(k, now)) is not None and d - now <= NEAR for k in engine.specs)
    return fast if near else IDLE_SLOW


class Presence:
    """Turns idle readings, session events and clock jumps into Engine calls, and keeps the presence spans."""

    def __init__(self, engine: Engine, clock: Clock, lock: threading.RLock, scheduler: BackgroundScheduler,
                 state: StateKeeper, idle: Any | None, away_after: Callable[[], timedelta], apply: Apply,
                 forget_timers: Callable[[], None], on_clock_set: Callable[[datetime, timedelta], None] | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.lock = lock
        self.scheduler = scheduler
        self.state = state
        self.idle = idle  # ergo.idle.base.IdleMonitor, or None when idle detection is off
        self._away_after = away_after  # from the current settings (a reload may change them)
        self._apply = apply
        self._forget_timers = forget_timers  # holds or the clock changed: every reminder timer is rebuilt
        self._jumps = JumpDetector(clock)
        self._on_clock_set = on_clock_set  # timed breaks and plan steps move with a clock change, like countdowns
        self.idle_delay = IDLE_SLOW  # read by the idle job's FollowingTrigger in APScheduler's thread
        self.idle_events = False  # the backend pushes idle events, so nothing polls
        self._idle_error: str | None = None
        self.run_span: int | None = None
        self.present_span: int | None = None

    # --- spans ------------------------------------------------------------------

    def open_spans(self, now: datetime) -> None:
        """At start (under the lock): a crashed daemon's spans end at its last sign of life; ours begin."""
        self.state.call(self.state.store.close_stale_spans)
        self.run_span = self.state.open_span("running", now)
        self.track(now)

    def track(self, now: datetime) -> None:
        """Keep the "present" span (you at the keyboard) in step with the Engine's away/locked/asleep state."""
        if self.run_span is None:  # not started, or stopped
            return
        gone = [t for t in (self.engine.away_since, *self.engine.gone.values()) if t is not None]
        if gone and self.present_span is not None:
            self.state.call(self.state.store.close_span, self.present_span, min(gone))  # you left then
            self.present_span = None
        elif not gone and self.present_span is None:
            self.present_span = self.state.open_span("present", now)

    def close_spans(self, now: datetime) -> None:
        """ergo ran (and you were present) until now: at stop. While running, open spans reach the sign of life."""
        for span in (self.run_span, self.present_span):
            if span is not None:
                self.state.call(self.state.store.close_span, span, now)
        self.run_span = self.present_span = None

    # --- idle -------------------------------------------------------------------

    def schedule_idle(self, now: datetime) -> None:
        """Idle readings every idle_poll_delay seconds: the job's trigger follows `idle_delay`, and
        the job is moved only when the next reading must come sooner than already planned."""
        polling = self.idle is not None and not self.idle_events
        self.idle_delay = idle_poll_delay(self.engine, now, self._away_after(), polling)
        job = self.scheduler.get_job("idle")
        if job is None:
            self.scheduler.add_job(self.on_idle_poll, FollowingTrigger(lambda: self.idle_delay), id="idle")
        elif job.next_run_time is None or job.next_run_time > now + timedelta(seconds=self.idle_delay):
            job.modify(next_run_time=now + timedelta(seconds=self.idle_delay))

    def watch_idle(self) -> None:
        """Use idle events where the backend has them (Mutter), so nothing polls."""
        watch = getattr(self.idle, "watch", None)
        if watch is None:
            return
        away_after = self._away_after()

        def seen(idle_for: timedelta) -> None:
            try:
                with self.lock:
                    self.observe_idle(self.clock.now(), idle_for)
            except Exception:
                log.exception("idle event failed")

        try:
            watch(away_after, lambda: seen(away_after), lambda: seen(timedelta(0)))
        except Exception as error:
            log.warning("idle events unavailable, polling instead: %s", error)
            return
        self.idle_events = True
        log.debug("idle detection: event-driven (no polling)")

    def on_idle_poll(self) -> None:
        """The idle job (APScheduler's thread): read idle time unless events bring it, and check the clock."""
        try:
            with self.lock:
                now = self.clock.now()
                self.check_clock(now)
                if self.idle is not None and not self.idle_events:
                    try:
                        idle_for = self.idle.idle_time()
                    except Exception as error:
                        if str(error) != self._idle_error:  # say it once, not every poll
                            log.warning("idle detection failed: %s (treating you as present)", error)
                        self._idle_error = str(error)
                        idle_for = timedelta(0)  # as promised: present
                    else:
                        if self._idle_error is not None:
                            log.info("idle detection works again")
                            self._idle_error = None
                    self.observe_idle(now, idle_for)
                self.schedule_idle(now)
        except Exception:
            log.exception("idle poll failed")

    def observe_idle(self, now: datetime, idle_for: timedelta) -> None:
        """An idle reading (poll or event), then whatever it made due, applied once."""
        outcomes = self.engine.observe_idle(now, idle_for)
        self._apply(outcomes + self.engine.tick(now), now)

    # --- clock and session --------------------------------------------------------

    def check_clock(self, now: datetime) -> None:
        """A wall-clock jump (suspend, clock change) moves every countdown once, never in a burst."""
        jump = self._jumps.check()
        moved = self._jumps.set_part
        if jump is not None:
            log.info("wall clock jumped %s%s relative to monotonic time (suspend or clock change)",
                     "+" if jump > timedelta(0) else "-", format_duration(timedelta(seconds=round(abs(jump).total_seconds()))))
            self._forget_timers()  # every timer is rebuilt around the new time by apply's sync
            self._apply(self.engine.clock_jump(now, jump), now)
        if moved and self._on_clock_set is not None:
            self._on_clock_set(now, moved)
        if jump is not None or moved:
            self.scheduler.wakeup()

    def clock_was_set(self) -> bool:
        """The wall clock was set (not merely a suspend, which the session watcher's resume reports)."""
        return self._jumps.was_set()

    def on_session_event(self, event: Any) -> None:
        """A session watcher saw suspend/resume, lock/unlock or do-not-disturb change (watcher thread)."""
        try:
            with self.lock:
                now = self.clock.now()
                log.info("session: %s (%s)", event.kind, event.source)
                outcomes: list[Outcome] = []
                if event.kind in ("suspend", "lock"):
                    self.engine.leave(now, "asleep" if event.kind == "suspend" else "locked")
                elif event.kind in ("resume", "unlock"):
                    outcomes = self.engine.back(now, "asleep" if event.kind == "resume" else "locked")
                    self._jumps.check()  # the resume explains the jump
                elif event.kind in ("dnd_on", "dnd_off"):
                    self.engine.set_dnd(now, event.kind == "dnd_on")
                outcomes += self.engine.tick(now)
                self._forget_timers()  # holds changed: rebuild every timer in apply's sync
                self._apply(outcomes, now)
            self.scheduler.wakeup()
        except Exception:
            log.exception("session event failed")
