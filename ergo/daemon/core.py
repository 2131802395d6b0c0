"""The Daemon: builds its parts, starts and stops them, and applies the Engine's outcomes.

Every decision comes from the pure Engine (ergo/timing/policy.py); `apply()` is the one way its
outcomes reach the world: save first, then deliver or record, then follow presence, resync the
timers and wake status subscribers. The parts, each in its own module:
state (store writes), delivery (timers, notifications), presence (idle, session, clock jumps),
answers (buttons, timed breaks), plans (plan steps) and control (requests, status, reload).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from ergo import __version__
from ergo.timing.clock import Clock, SystemClock
from ergo.config.frozen import PlainLoaded, PlainSettings
from ergo.daemon.answers import Answers
from ergo.daemon.busy import BusyWatch, Select
from ergo.daemon.control import Control
from ergo.daemon.delivery import Deliverer, Timers
from ergo.daemon.plans import PlanSteps
from ergo.daemon.presence import Presence
from ergo.daemon.specs import specs_from
from ergo.daemon.state import BufferedStore, StateKeeper
from ergo.timing.durations import format_duration
from ergo.notify.base import Notifier
from ergo.paths import Paths
from ergo.timing.policy import Engine
from ergo.timing.decisions import Deliver, Outcome, Record, event_words
from ergo.records.store import Store
from ergo.timing.worktime import local_zone

log = logging.getLogger("ergo")
ALIVE_EVERY = 55.0  # seconds between signs of life for the "daemon was down" estimate (no disk write)


@dataclass
class Backends:
    """What the daemon talks to, chosen by the caller (tests hand in their own)."""

    notifier: Notifier
    notifier_reason: str
    idle: Any | None = None  # ergo.idle.base.IdleMonitor
    idle_reason: str = "none: idle detection off"
    start_session_watchers: Callable[[Callable[[Any], None]], tuple[list[Any], list[str]]] | None = None
    answers: Any | None = None  # ergo.notify.answers.AnswerListener, when the notifier can hear buttons
    select_busy: Select | None = None  # builds the busy sources for [meetings] (ergo.busy.select); None: never busy


class Daemon:
    """One running ergo. Build it, `start()` it, `stop()` it; control requests go to `handle()`."""

    def __init__(self, paths: Paths, loaded: PlainLoaded, backends: Backends, store: Store, *,
                 flags: dict[str, Any] | None = None, clock: Clock | None = None) -> None:
        self.paths = paths
        self.loaded = loaded  # replaced by a reload; the parts read it through `settings()`
        self.backends = backends
        self.store = store
        self.flags = flags or {}
        self.clock = clock or SystemClock()
        self.zone = local_zone()
        self.config_error: str | None = None
        self.lock = threading.RLock()  # every touch of the Engine happens under it, whichever thread
        self._last_alive = float("-inf")
        self._watchers: list[Any] = []
        self._resumed = ""  # set when saved countdowns continue; told in the start-up line
        self.session_reasons: list[str] = []
        self.on_change: Callable[[bool], None] | None = None  # the control server's changed(): wakes status subscribers
        self._glance: tuple | None = None
        self.stop_requested = threading.Event()  # set by signals and `ergo stop`; run() then calls stop()
        self._stopped = False
        self.scheduler = BackgroundScheduler(
            timezone=timezone.utc,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self.engine = self._initial_engine()
        notifier = backends.notifier
        self.state = StateKeeper(store, self.engine.snapshot)
        self.timers = Timers(self.engine, self.scheduler, self._on_timer)
        buffered = BufferedStore(store, self.state)  # history rows and the plan survive a full disk
        self.plans = PlanSteps(self.engine, self.clock, self.zone, self.lock, self.scheduler, buffered, notifier,
                               self.settings, self._resync)
        self.deliverer = Deliverer(notifier, self.state, self.settings, self.plans.driver.note_for,
                                   lambda kind: spec.hours if (spec := self.engine.specs.get(kind)) else None)
        self.presence = Presence(self.engine, self.clock, self.lock, self.scheduler, self.state, backends.idle,
                                 lambda: self.settings().idle.away_after, self.apply, self.timers.forget,
                                 self._clock_was_set)
        self._clock_watch: Any = None  # ergo.daemon.clockwatch.ClockWatch on Linux
        self.answers = Answers(self.engine, self.clock, self.zone, self.lock, self.scheduler, buffered, notifier,
                               self.deliverer, self.apply)
        self.busy = BusyWatch(self.engine, self.clock, self.lock, self.apply, backends.select_busy)
        self.control = Control(self)

    # --- setup ----------------------------------------------------------------

    def settings(self) -> PlainSettings:
        """The settings in force now (a reload replaces them)."""
        return self.loaded.settings

    def _initial_engine(self) -> Engine:
        now = self.clock.now()
        specs, timing = specs_from(self.loaded.settings, self.zone)
        saved = self.store.load_engine()
        if saved is None:
            return Engine.start(specs, timing, now)
        alive = self.store.last_alive()
        downtime = max(now - alive, timedelta(0)) if alive else timedelta(0)
        self._resumed = f"continuing saved countdowns: ergo was down for {format_duration(timedelta(seconds=round(downtime.total_seconds())))}"
        return Engine.restore(saved, specs, timing, now, downtime)

    def start(self) -> None:
        if self.store.warning:
            log.warning("%s", self.store.warning)
        if self.store.interrupted:
            log.warning("%d reminder(s) were saved but maybe not sent when ergo last stopped; "
                        "`ergo history` marks them interrupted", self.store.interrupted)
        log.debug("idle detection: %s", self.backends.idle_reason)
        if self.loaded.system_exists:
            log.info("system-wide config: %s", self.loaded.system_file)
        for notice in self.loaded.notices:
            log.warning("%s", notice)
        self.busy.configure(self.settings().meetings)
        with self.lock:
            now = self.clock.now()
            self.state.save(now)
            self.state.prune(now, self.settings().history_retention)
            self.presence.open_spans(now)
            self.scheduler.start()
            self.plans.driver.sync(now)
            self.timers.sync(now)
            self.presence.schedule_idle(now)
        self.presence.watch_idle()
        self._start_clock_watch()
        log.info("%s", self.startup_line())
        log.info("%s", self.details_line())
        log.debug("notifications: %s", self.backends.notifier_reason)
        if self.backends.start_session_watchers is not None:
            self._watchers, self.session_reasons = self.backends.start_session_watchers(self.presence.on_session_event)
        if self.backends.answers is not None:
            self.attach_answers(self.backends.answers)

    def attach_answers(self, listener: Any) -> None:
        """Hear buttons through `listener` (at start, or when a notification server came up after ergo)."""
        self.backends.answers = listener
        listener.start(self.answers.on_answer)
        self._watchers.append(listener)

    def startup_line(self) -> str:
        """The one short line a person needs at start: version, pid, when the first reminder comes, where it goes."""
        now = self.clock.now()
        return f"ergo {__version__} started (pid {os.getpid()}); {self._first_reminder(now)}; reminders go to {self._where()}"

    def details_line(self) -> str:
        """The second start-up line: the config file, idle detection and saved countdowns, in plain words."""
        config = f"config: {self.loaded.config_file}" + ("" if self.loaded.file_exists else ", not found: built-in defaults")
        idle = self.backends.idle_reason.split(":", 1)[0]
        if idle == "none":
            idle = "none, you count as present"
        elif self.presence.idle_events:
            idle += ", event-driven, no polling"
        resumed = f"; {self._resumed}" if self._resumed else ""
        return f"{config}; idle detection: {idle}{resumed}"

    def _where(self) -> str:
        """Where a reminder goes, in a few words: the notification server's name, this terminal, or the log."""
        reason = self.backends.notifier_reason
        if self.backends.notifier.name != "console" and not reason.startswith("console"):
            server = reason.split(": ", 1)[1] if ": " in reason else reason
            return server.split(" on the session bus")[0].split(";")[0]
        try:
            here = "this terminal" if sys.stdout is not None and sys.stdout.isatty() else "the log"
        except (OSError, ValueError):
            here = "the log"
        return here if reason.startswith("console: requested") else f"{here}: no desktop notifications here"

    def _first_reminder(self, now: datetime) -> str:
        """"first reminder: posture at 10:26 (in 30m)", or why none is coming."""
        engine = self.engine
        if engine.paused:
            until = engine.pause_until
            return f"paused until {until.astimezone(self.zone):%H:%M}" if until else "paused until `ergo resume`"
        due = {kind: engine.next_due(kind, now) for kind in engine.specs}
        due = {kind: at for kind, at in due.items() if at is not None}
        if not due:
            return "no reminder is enabled"
        first = min(due.values())
        kinds = " + ".join(kind for kind, at in due.items() if at == first)
        wait = max(timedelta(0), first - now)
        local = first.astimezone(self.zone)
        clock = f"{local:%H:%M:%S}" if wait < timedelta(minutes=10) else f"{local:%H:%M}"
        if local.date() != now.astimezone(self.zone).date():
            clock = f"{local:%a} {clock}"
        return f"first reminder: {kinds} at {clock} (in {format_duration(timedelta(seconds=round(wait.total_seconds())))})"

    def stop(self) -> None:
        """Stop timers and watchers and save state; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self.stop_requested.set()
        try:
            self.scheduler.shutdown(wait=False)
        except Exception:  # already stopped
            pass
        self.busy.close_sources()
        for watcher in [*self._watchers, *([self._clock_watch] if self._clock_watch else [])]:
            try:
                watcher.stop()
            except Exception:
                log.exception("stopping a session watcher failed")
        with self.lock:
            now = self.clock.now()
            self.state.save(now)
            self.state.call(self.store.heartbeat, now)  # the next start measures downtime from here
            self.presence.close_spans(now)
        for closable in (self.backends.notifier, self.backends.idle):
            try:
                if closable is not None:
                    closable.close()
            except Exception:
                pass
        log.info("ergo stopped")

    def request_stop(self) -> None:
        """Asks the main thread (waiting in `ergo run`) to stop the daemon; safe from any thread."""
        self.stop_requested.set()

    # --- outcomes -------------------------------------------------------------

    def _on_timer(self) -> None:
        """A reminder job or the wake-up job fired: let the Engine decide."""
        try:
            with self.lock:
                asking = self.busy.wanted(self.clock.now())
            found = self.busy.ask(self.clock.now()) if asking else (None, None)  # outside the lock: may take a moment
            with self.lock:
                now = self.clock.now()
                if asking:
                    self.busy.settle(now, *found)
                self.presence.check_clock(now)
                self.apply(self.engine.tick(now), now)
                self.presence.schedule_idle(now)  # a reminder now held for a return: watch for it sooner
        except Exception:  # a failing job is logged; the daemon goes on
            log.exception("reminder job failed")

    def apply(self, outcomes: list[Outcome], now: datetime) -> None:
        """Save first (so a crash never delivers twice), then deliver, record, and resync the timers (under the lock).

        Each delivery is saved as a "sending" history row in the same transaction, settled once sent:
        a kill -9 in between leaves a row that says so. A failed save never stops a delivery.
        """
        intents = [(o.at, kind, "saved, not yet sent") for o in outcomes if isinstance(o, Deliver) for kind in o.kinds]
        row_ids = iter(self.state.save(now, intents))
        for outcome in outcomes:
            if isinstance(outcome, Deliver):
                self.deliverer.deliver(outcome, [next(row_ids, None) for _ in outcome.kinds])
            elif isinstance(outcome, Record):
                log.info("%s: %s: %s", outcome.kind, event_words(outcome.event), outcome.detail)
                self.state.record(outcome.at, outcome.kind, outcome.event, outcome.detail, outcome.ref)
        self.presence.track(now)
        self.timers.sync(now)
        self.announce(now)

    def _resync(self, now: datetime) -> None:
        """Something outside the Engine's own events changed when reminders fall due (a plan's holds)."""
        self.timers.sync(now)
        self.announce(now, force=True)

    def announce(self, now: datetime, force: bool = False) -> None:
        """Wake status subscribers when what a bar shows may have changed (never blocks: one pipe write)."""
        engine = self.engine
        glance = (self.state.saved, engine.hold(now), engine.away_since, engine.dnd, self.config_error,
                  tuple((kind, state.pending_since) for kind, state in engine.reminders.items()))
        if self.on_change is not None and (force or glance != self._glance):
            self._glance = glance
            self.on_change(force)

    def _start_clock_watch(self) -> None:
        """Linux: a clock change wakes the daemon at once (ergo/daemon/clockwatch.py); elsewhere the
        housekeeping minute notices it."""
        from ergo.daemon.clockwatch import start_clock_watch

        if not isinstance(self.clock, SystemClock):  # a test's travelling clock is not the kernel's to set
            return
        self._clock_watch, reason = start_clock_watch(self.on_clock_change)
        log.debug("%s", reason)

    def on_clock_change(self) -> None:
        """The wall clock was set (clock watch thread): move every countdown now, not a minute later."""
        with self.lock:
            if not self.presence.clock_was_set():  # a resume also wakes the timerfd: logind's event reports it
                return
            log.debug("the wall clock was set")
            self.presence.check_clock(self.clock.now())
            self.announce(self.clock.now(), force=True)

    def _clock_was_set(self, now: datetime, moved: timedelta) -> None:
        """Timed breaks and plan steps are countdowns: a clock set `moved` moves their wall times with it."""
        self.answers.shift(moved)
        self.plans.driver.shift(now, moved)
        self.plans.holds_changed(now)  # a plan's holds on stretch and movement move with it

    def housekeeping(self) -> None:
        """Called from the control thread every minute: catches clock jumps that stall APScheduler, and
        leaves a sign of life for the next start's downtime estimate (a file time, not a database write)."""
        with self.lock:
            now = self.clock.now()
            self.presence.check_clock(now)
            self.state.retry(now)
            self.state.prune(now, self.settings().history_retention)
            if self.clock.monotonic() - self._last_alive >= ALIVE_EVERY:
                self._last_alive = self.clock.monotonic()
                self.store.mark_alive(now)

    # --- control (ergo/daemon/control.py) ---------------------------------------

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one control request (control thread)."""
        return self.control.handle(request)

    def status(self) -> dict[str, Any]:
        """What `ergo status` shows (any thread)."""
        return self.control.status()

    def reload(self, reason: str) -> dict[str, Any]:
        """Re-read the config now; an invalid file keeps the last good settings."""
        return self.control.reload(reason)

    def request_reload(self, reason: str) -> None:
        """Reload soon from a worker thread, folding a storm of requests into one check at a time."""
        self.control.request_reload(reason)
