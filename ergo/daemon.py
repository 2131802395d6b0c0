"""The daemon: wires the pure Engine to APScheduler, the notifier, idle and session
watchers, the control socket, the config file watcher and the SQLite store.

Threads: APScheduler's loop plus one executor thread run timer jobs; the control
thread serves the socket, watches the config file and checks for clock jumps;
session watchers each own one thread. Every touch of the Engine happens under
one lock, so decisions are serialised.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from ergo import __version__
from ergo.clock import Clock, JumpDetector, SystemClock
from ergo.breaks import TimedBreak, clock as break_clock, length_for, spoken, step as break_step, words as break_words
from ergo.compose import KindText, compose, kind_texts
from ergo.durations import format_duration
from ergo.errors import ConfigError, ErgoError, NotifyError, StateError
from ergo.notify.base import Notification, Notifier
from ergo.paths import Paths
from ergo.policy import Deliver, Engine, Outcome, Record, ReminderSpec, Timing, event_words
from ergo.config.frozen import PlainLoaded, PlainSettings, load_checked
from ergo.store import Store
from ergo.plans.driver import PlanDriver
from ergo.tips import load_catalog
from ergo.triggers import CatchUpIntervalTrigger, FollowingTrigger
from ergo.worktime import WorkHours, local_zone

log = logging.getLogger("ergo")
NEAR = timedelta(seconds=60)  # poll idle often only this close to a due reminder
IDLE_FASTEST, IDLE_FAST, IDLE_AWAY, IDLE_SLOW = 1.0, 5.0, 30.0, 60.0  # seconds between idle readings
IDLE_NONE = 300.0  # no idle source to read: the job only checks the clock, as the control thread does
MAX_UNSAVED_ROWS = 10_000  # history rows kept in memory while the disk is full
ALIVE_EVERY = 55.0  # seconds between signs of life for the "daemon was down" estimate (no disk write)
BUTTON_SNOOZE = timedelta(minutes=10)
ACTIONS = (("default", "Done"), ("done", "Done"), ("snooze", "Snooze 10 min"), ("skip", "Skip"))
ANSWER_OF_ACTION = {"default": "done", "done": "done", "snooze": "snoozed", "skip": "skipped"}
MAX_NOTICES = 64  # notifications whose buttons we still answer


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


def specs_from(settings: PlainSettings, zone) -> tuple[dict[str, ReminderSpec], Timing]:
    """The timing-relevant part of the settings, as plain data for the Engine."""
    specs = {}
    for kind, reminder in settings.enabled_reminders().items():
        hours = WorkHours.parse(reminder.days or settings.schedule.days, reminder.hours or settings.schedule.hours, zone)
        specs[kind] = ReminderSpec(kind, reminder.interval, reminder.natural_break, hours)
    timing = Timing(settings.merge_window, settings.quiet_after_resume, settings.idle.away_after)
    return specs, timing


@dataclass
class Backends:
    """What the daemon talks to, chosen by the caller (tests hand in their own)."""

    notifier: Notifier
    notifier_reason: str
    idle: Any | None = None  # ergo.idle.base.IdleMonitor
    idle_reason: str = "none: idle detection off"
    start_session_watchers: Callable[[Callable[[Any], None]], tuple[list[Any], list[str]]] | None = None
    answers: Any | None = None  # ergo.notify.answers.AnswerListener, when the notifier can hear buttons


class Daemon:
    """One running ergo. Build it, `start()` it, `stop()` it; control requests go to `handle()`."""

    def __init__(self, paths: Paths, loaded: PlainLoaded, backends: Backends, store: Store, *,
                 flags: dict[str, Any] | None = None, clock: Clock | None = None) -> None:
        self.paths = paths
        self.loaded = loaded
        self.backends = backends
        self.store = store
        self.flags = flags or {}
        self.clock = clock or SystemClock()
        self.zone = local_zone()
        self.config_error: str | None = None
        self.state_error: str | None = None  # why the latest save failed (full disk...); None when saved
        self._reload_lock = threading.Lock()  # one config check child at a time
        self._pruned_at: datetime | None = None
        self._reload_state = threading.Lock()  # guards the two fields below
        self._reload_wanted: str | None = None
        self._reload_worker = False
        self._unsaved_rows: list[tuple[datetime, str, str, str, int | None]] = []
        self._notified_error: str | None = None
        self._lock = threading.RLock()
        self._catalog = load_catalog()
        self._texts = self._texts_from(loaded.settings)
        self._shown = store.shown_tips()
        self._jumps = JumpDetector(self.clock)
        self._job_keys: dict[str, tuple[datetime, timedelta]] = {}
        self._last_alive = float("-inf")
        self._idle_delay = IDLE_SLOW  # read by the idle job's FollowingTrigger in APScheduler's thread
        self._watchers: list[Any] = []
        self._idle_events = False
        self._resumed = ""  # set when saved countdowns continue; told in the start-up line
        self._saved: dict | None = None
        self._idle_error: str | None = None
        self.session_reasons: list[str] = []
        self._notices: dict[int, list[int]] = {}  # server notification id -> its delivery rows in history
        self._break: TimedBreak | None = None  # the timed break counting down, if any
        self._break_notice: int | None = None  # the countdown notification's server id
        self._run_span: int | None = None
        self._present_span: int | None = None
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
        self.plans = PlanDriver(store, self._send_plan, self._plan_hold, self.zone, self._set_plan_timer)

    # --- setup ----------------------------------------------------------------

    def _texts_from(self, settings: PlainSettings) -> dict[str, KindText]:
        return {
            kind: kind_texts(kind, r.title, list(r.messages), self._catalog,
                             break_words(kind, r.duration) if r.duration else "")
            for kind, r in settings.reminders().items()
        }

    def _initial_engine(self) -> Engine:
        now = self.clock.now()
        specs, timing = specs_from(self.loaded.settings, self.zone)
        saved = self.store.load_engine()
        if saved is None:
            return Engine.start(specs, timing, now)
        alive = self.store.last_alive()
        downtime = max(now - alive, timedelta(0)) if alive else timedelta(0)
        self._resumed = f"continuing saved countdowns (daemon was down for {format_duration(timedelta(seconds=round(downtime.total_seconds())))})"
        return Engine.restore(saved, specs, timing, now, downtime)

    def start(self) -> None:
        if self.store.warning:
            log.warning("%s", self.store.warning)
        if self.store.interrupted:
            log.warning("%d reminder(s) were saved but maybe not sent when ergo last stopped; "
                        "`ergo history` marks them interrupted", self.store.interrupted)
        log.debug("notifications: %s", self.backends.notifier_reason)
        log.debug("idle detection: %s", self.backends.idle_reason)
        if self.loaded.system_exists:
            log.info("system-wide config: %s", self.loaded.system_file)
        for notice in self.loaded.notices:
            log.warning("%s", notice)
        with self._lock:
            now = self.clock.now()
            self._save(now)
            self._prune_history(now)
            self._store_call(self.store.close_stale_spans)  # a crashed daemon's spans end at its last sign of life
            self._run_span = self._span_open("running", now)
            self._track_presence(now)
            self.scheduler.start()
            self.plans.sync(now)
            self._sync_jobs(now)
            self._schedule_idle(now)
        self._watch_idle()
        log.info("%s", self.startup_line())
        if self.backends.start_session_watchers is not None:
            self._watchers, self.session_reasons = self.backends.start_session_watchers(self._on_session_event)
        if self.backends.answers is not None:
            self.attach_answers(self.backends.answers)

    def attach_answers(self, listener: Any) -> None:
        """Hear buttons through `listener` (at start, or when a notification server came up after ergo)."""
        self.backends.answers = listener
        listener.start(self._on_answer)
        self._watchers.append(listener)

    def startup_line(self) -> str:
        """The one line a person needs at start: version, where reminders go, idle source, config file."""
        notifier = self.backends.notifier_reason
        if self.backends.notifier.name == "console" or notifier.startswith("console"):
            notifier += "; reminders are printed to this terminal (or the log)"
        idle = self.backends.idle_reason.split(":", 1)[0]
        if idle == "none":
            idle = "none (you count as present; `ergo status --json` says why)"
        elif self._idle_events:
            idle += ", event-driven (no polling)"
        found = "" if self.loaded.file_exists else " (not found: built-in defaults)"
        resumed = f"; {self._resumed}" if self._resumed else ""
        return (f"ergo {__version__} started (pid {os.getpid()}); notifications: {notifier}; idle detection: {idle}; "
                f"config: {self.loaded.config_file}{found}{resumed}")

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
        for watcher in self._watchers:
            try:
                watcher.stop()
            except Exception:
                log.exception("stopping a session watcher failed")
        with self._lock:
            now = self.clock.now()
            self._save(now)
            self._store_call(self.store.heartbeat, now)  # the next start measures downtime from here
            self._close_spans(now)
        for closable in (self.backends.notifier, self.backends.idle):
            try:
                if closable is not None:
                    closable.close()
            except Exception:
                pass
        log.info("ergo stopped")

    # --- timers ---------------------------------------------------------------

    def _sync_jobs(self, now: datetime) -> None:
        """Make APScheduler's jobs match the Engine: one interval job per reminder, one wake-up job."""
        wanted: set[str] = set()
        if not self.engine.paused:
            for kind, spec in self.engine.specs.items():
                due = self.engine.next_due(kind, now)
                if due is None:
                    continue
                job_id = f"reminder:{kind}"
                wanted.add(job_id)
                key = self._job_keys.get(kind)
                if key and key[1] == spec.interval and abs(key[0] - due) < timedelta(milliseconds=500):
                    if self.scheduler.get_job(job_id):
                        continue
                self.scheduler.add_job(
                    self._on_timer, CatchUpIntervalTrigger(seconds=spec.interval.total_seconds(), start_date=due, timezone=timezone.utc),
                    id=job_id, name=f"{kind} reminder", replace_existing=True,
                )
                self._job_keys[kind] = (due, spec.interval)
        for job in self.scheduler.get_jobs():
            if job.id.startswith("reminder:") and job.id not in wanted:
                job.remove()
                self._job_keys.pop(job.id.split(":", 1)[1], None)
        wake = self.engine.next_wakeup(now)
        job_times = [j.next_run_time for j in self.scheduler.get_jobs() if j.id.startswith("reminder:") and j.next_run_time]
        if wake is not None and not any(abs(t - wake) < timedelta(milliseconds=500) for t in job_times):
            self.scheduler.add_job(self._on_timer, DateTrigger(run_date=wake, timezone=timezone.utc), id="wake", replace_existing=True)
        elif self.scheduler.get_job("wake"):
            self.scheduler.remove_job("wake")

    def _on_timer(self) -> None:
        """A reminder job or the wake-up job fired: let the Engine decide."""
        try:
            with self._lock:
                now = self.clock.now()
                self._check_clock(now)
                self._apply(self.engine.tick(now), now)
                self._schedule_idle(now)  # a reminder now held for a return: watch for it sooner
        except Exception:  # a failing job is logged; the daemon goes on
            log.exception("reminder job failed")

    def _apply(self, outcomes: list[Outcome], now: datetime) -> None:
        """Save first (so a crash never delivers twice), then deliver, record, and resync the timers.

        Each delivery is saved as a "sending" history row in the same transaction, settled once sent:
        a kill -9 in between leaves a row that says so. A failed save never stops a delivery.
        """
        intents = [(o.at, kind, "saved, not yet sent") for o in outcomes if isinstance(o, Deliver) for kind in o.kinds]
        row_ids = iter(self._save(now, intents))
        for outcome in outcomes:
            if isinstance(outcome, Deliver):
                self._deliver(outcome, [next(row_ids, None) for _ in outcome.kinds])
            elif isinstance(outcome, Record):
                log.info("%s: %s: %s", outcome.kind, event_words(outcome.event), outcome.detail)
                self._record(outcome.at, outcome.kind, outcome.event, outcome.detail, outcome.ref)
        self._track_presence(now)
        self._sync_jobs(now)
        self._announce(now)

    def _announce(self, now: datetime, force: bool = False) -> None:
        """Wake status subscribers when what a bar shows may have changed (never blocks: one pipe write)."""
        engine = self.engine
        glance = (self._saved, engine.hold(now), engine.away_since, engine.dnd, self.config_error,
                  tuple((kind, state.pending_since) for kind, state in engine.reminders.items()))
        if self.on_change is not None and (force or glance != self._glance):
            self._glance = glance
            self.on_change(force)

    def _track_presence(self, now: datetime) -> None:
        """Keep the "present" span (you at the keyboard) in step with the Engine's away/locked/asleep state."""
        if self._run_span is None:  # not started, or stopped
            return
        gone = [t for t in (self.engine.away_since, *self.engine.gone.values()) if t is not None]
        if gone and self._present_span is not None:
            self._store_call(self.store.close_span, self._present_span, min(gone))  # you left then
            self._present_span = None
        elif not gone and self._present_span is None:
            self._present_span = self._span_open("present", now)

    def _close_spans(self, now: datetime) -> None:
        """ergo ran (and you were present) until now: at stop. While running, open spans reach the sign of life."""
        for span in (self._run_span, self._present_span):
            if span is not None:
                self._store_call(self.store.close_span, span, now)
        self._run_span = self._present_span = None

    def _span_open(self, what: str, now: datetime) -> int | None:
        """Open a span; None while the state cannot be written (a full disk), which costs only statistics."""
        try:
            span = self.store.open_span(what, now)
        except StateError as error:
            self._state_failed(str(error))
            return None
        self._state_ok()
        return span

    def _deliver(self, decision: Deliver, row_ids: list[int | None]) -> None:
        message, self._shown = compose(decision.kinds, self._texts, self._shown)
        note = self.plans.stretch_note()
        if note and "stretch" in decision.kinds:  # a running plan (acute-back) asks for care
            message = replace(message, body=f"{message.body}\n{note}")
        self._store_call(self.store.save_shown_tips, self._shown)
        settings = self.loaded.settings
        urgency = max((settings.reminders()[k].urgency for k in decision.kinds), key=("low", "normal", "critical").index)
        actions = ACTIONS
        length = length_for(self._durations(), decision.kinds)
        if length is not None:
            actions += (("start", f"Start {spoken(length)} break"),)
        notification = Notification(message.key, message.title, message.body, urgency, settings.expire, actions=actions)
        backend = self.backends.notifier.name
        failure = ""
        try:
            self.backends.notifier.send(notification)
        except NotifyError as error:  # FallbackNotifier normally absorbs this; belt and braces
            log.error("delivery failed: %s", error)
            backend, failure = "failed", str(error)
        last_error = getattr(self.backends.notifier, "last_error", None)
        if last_error:
            backend = "console (fallback)"
        merged = f" [merged with {len(decision.kinds) - 1} more]" if len(decision.kinds) > 1 else ""
        rows: list[int] = []
        for kind, row_id in zip(decision.kinds, row_ids):
            tip = message.tips.get(kind, "-")
            if failure:  # the "sending" row (if saved) says what became of it
                if row_id is None or not self._store_call(self.store.settle, row_id, "failed", failure):
                    self._record(decision.at, kind, "failed", failure)
                continue
            log.info("reminder %s delivered via %s (tip %s)%s", kind, backend, tip, merged)
            detail = f"via {backend}, tip {tip}{merged}"
            if row_id is not None and self._store_call(self.store.settle, row_id, "delivered", detail):
                rows.append(row_id)
            else:
                written = self._record(decision.at, kind, "delivered", detail)
                if written:
                    rows.append(written)
        notice = getattr(self.backends.notifier, "last_id", None)
        if notice and not failure:
            self._notices[notice] = rows  # a replaced notification keeps its id: the newest rows win
            while len(self._notices) > MAX_NOTICES:
                self._notices.pop(next(iter(self._notices)))

    def _save(self, now: datetime, sending: list[tuple[datetime, str, str]] | None = None) -> list[int]:
        """Write the Engine's state when it changed (idle polls mostly change nothing); [] when saving failed.

        A failed save keeps the state in memory and is retried at the next change or housekeeping.
        """
        snapshot = self.engine.snapshot()
        if snapshot == self._saved and not sending:
            return []
        try:
            ids = self.store.save_engine(snapshot, now, sending or ())
        except StateError as error:
            self._state_failed(str(error))
            return []
        self._saved = snapshot
        self._state_ok()
        return ids

    def _store_call(self, method: Callable[..., Any], *args: Any) -> bool:
        """Call a Store method; a failure is remembered and logged once, never raised."""
        try:
            method(*args)
        except StateError as error:
            self._state_failed(str(error))
            return False
        self._state_ok()
        return True

    def _record(self, at: datetime, kind: str, event: str, detail: str, ref: int | None = None) -> int | None:
        """A history row, or None while the disk is full: then it is kept in memory and written when space returns."""
        if len(self._unsaved_rows) < MAX_UNSAVED_ROWS:
            self._unsaved_rows.append((at, kind, event, detail, ref))
        return self._flush_rows()

    def _flush_rows(self) -> int | None:
        """Write the rows kept in memory, oldest first; the id of the last one written."""
        written = None
        while self._unsaved_rows:
            try:
                written = self.store.record(*self._unsaved_rows[0])
            except StateError as error:
                self._state_failed(str(error))
                return None
            self._unsaved_rows.pop(0)
            self._state_ok()
        return written

    def _state_failed(self, message: str) -> None:
        if message != self.state_error:  # once per reason, not once per tick
            log.error("state not saved: %s (reminders go on; the state is kept in memory and saved when possible)",
                      message)
        self.state_error = message

    def _state_ok(self) -> None:
        if self.state_error is not None:
            self.state_error = None
            log.info("state saved again")
            self._flush_rows()

    def _prune_history(self, now: datetime) -> None:
        """Keep history for `history_retention` (default a year): at start and then once a day."""
        if self._pruned_at is not None and now - self._pruned_at < timedelta(days=1):
            return
        self._pruned_at = now
        try:
            gone = self.store.prune(now - self.loaded.settings.history_retention)
        except StateError as error:
            self._state_failed(str(error))
            return
        if gone:
            log.info("history: deleted %d row(s) older than %s", gone, format_duration(self.loaded.settings.history_retention))

    def _retry_state(self, now: datetime) -> None:
        """Catch up by itself once the disk has space again, even when nothing else happens."""
        if self.state_error is not None or self._unsaved_rows:
            self._saved = None
            self._save(now)
            self._flush_rows()

    # --- idle, clock and session ----------------------------------------------

    def _schedule_idle(self, now: datetime) -> None:
        """Idle readings every idle_poll_delay seconds: the job's trigger follows `_idle_delay`, and
        the job is moved only when the next reading must come sooner than already planned."""
        polling = self.backends.idle is not None and not self._idle_events
        self._idle_delay = idle_poll_delay(self.engine, now, self.loaded.settings.idle.away_after, polling)
        job = self.scheduler.get_job("idle")
        if job is None:
            self.scheduler.add_job(self._on_idle_poll, FollowingTrigger(lambda: self._idle_delay), id="idle")
        elif job.next_run_time is None or job.next_run_time > now + timedelta(seconds=self._idle_delay):
            job.modify(next_run_time=now + timedelta(seconds=self._idle_delay))

    def _watch_idle(self) -> None:
        """Use idle events where the backend has them (Mutter), so nothing polls."""
        watch = getattr(self.backends.idle, "watch", None)
        if watch is None:
            return
        away_after = self.loaded.settings.idle.away_after

        def seen(idle_for: timedelta) -> None:
            try:
                with self._lock:
                    self._observe_idle(self.clock.now(), idle_for)
            except Exception:
                log.exception("idle event failed")

        try:
            watch(away_after, lambda: seen(away_after), lambda: seen(timedelta(0)))
        except Exception as error:
            log.warning("idle events unavailable, polling instead: %s", error)
            return
        self._idle_events = True
        log.debug("idle detection: event-driven (no polling)")

    def _on_idle_poll(self) -> None:
        try:
            with self._lock:
                now = self.clock.now()
                self._check_clock(now)
                if self.backends.idle is not None and not self._idle_events:
                    try:
                        idle_for = self.backends.idle.idle_time()
                    except Exception as error:
                        if str(error) != self._idle_error:  # say it once, not every poll
                            log.warning("idle detection failed: %s (treating you as present)", error)
                        self._idle_error = str(error)
                        idle_for = timedelta(0)  # as promised: present
                    else:
                        if self._idle_error is not None:
                            log.info("idle detection works again")
                            self._idle_error = None
                    self._observe_idle(now, idle_for)
                self._schedule_idle(now)
        except Exception:
            log.exception("idle poll failed")

    def _observe_idle(self, now: datetime, idle_for: timedelta) -> None:
        """An idle reading (poll or event), then whatever it made due, applied once."""
        outcomes = self.engine.observe_idle(now, idle_for)
        self._apply(outcomes + self.engine.tick(now), now)

    def _check_clock(self, now: datetime) -> None:
        jump = self._jumps.check()
        if jump is not None:
            log.info("wall clock jumped %s%s relative to monotonic time (suspend or clock change)",
                     "+" if jump > timedelta(0) else "-", format_duration(timedelta(seconds=round(abs(jump).total_seconds()))))
            self._job_keys.clear()  # every timer is rebuilt around the new time by _apply's sync
            self._apply(self.engine.clock_jump(now, jump), now)
            self.scheduler.wakeup()

    def housekeeping(self) -> None:
        """Called from the control thread every minute: catches clock jumps that stall APScheduler, and
        leaves a sign of life for the next start's downtime estimate (a file time, not a database write)."""
        with self._lock:
            now = self.clock.now()
            self._check_clock(now)
            self._retry_state(now)
            self._prune_history(now)
            if self.clock.monotonic() - self._last_alive >= ALIVE_EVERY:
                self._last_alive = self.clock.monotonic()
                self.store.mark_alive(now)

    def _on_session_event(self, event: Any) -> None:
        """A session watcher saw suspend/resume, lock/unlock or do-not-disturb change (watcher thread)."""
        try:
            with self._lock:
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
                self._job_keys.clear()  # holds changed: rebuild every timer in _apply's sync
                self._apply(outcomes, now)
            self.scheduler.wakeup()
        except Exception:
            log.exception("session event failed")

    # --- answers ------------------------------------------------------------------

    def _on_answer(self, answer: Any) -> None:
        """A button was pressed or a notification closed (answers thread)."""
        try:
            with self._lock:
                if answer.notification_id == self._break_notice and answer.closed == "dismissed":
                    self._stop_break(None)  # the countdown bubble closed: the break is off, nothing recorded
                    return
                rows = self._notices.get(answer.notification_id)
                if answer.notification_id == self._break_notice and answer.action == "stop":
                    rows = []
                if rows is None:
                    return  # not ours, or too old to matter
                if answer.action is None:
                    self._notices.pop(answer.notification_id, None)
                    if answer.closed == "dismissed":
                        now = self.clock.now()
                        for row in self.store.rows(rows):
                            if row.event == "delivered" and not self.store.answered(row.id):
                                self.store.record(now, row.kind, "dismissed", "closed without an answer", row.id)
                    return
                if answer.notification_id == self._break_notice and answer.action == "stop":
                    self._stop_break("button")
                    return
                if answer.action == "start":
                    self._notices.pop(answer.notification_id, None)
                    self._start_break(self.store.rows(rows), "button")
                    return
                verdict = ANSWER_OF_ACTION.get(answer.action)
                if verdict is None:
                    log.info("unknown notification action %r ignored", answer.action)
                    return
                self._notices.pop(answer.notification_id, None)
                waiting = [row for row in self.store.rows(rows) if not self.store.answered(row.id)]
                if waiting:  # `ergo done` may have answered it already: never twice
                    self._answer(waiting, verdict, "button", BUTTON_SNOOZE)
        except Exception:
            log.exception("answer %s failed", answer)

    def _answer(self, rows: list[Any], verdict: str, via: str, snooze: timedelta | None = None) -> list[str]:
        """Record an answer to these deliveries and apply it to the countdowns (under the lock); the kinds answered."""
        now = self.clock.now()
        until = now + snooze if verdict == "snoozed" and snooze else None
        detail = f"via {via}" + (f", until {until.astimezone(self.zone):%H:%M}" if until else "")
        outcomes: list[Outcome] = []
        kinds: list[str] = []
        for row in rows:
            if row.kind in self.engine.specs:
                outcomes += self.engine.answer(now, row.kind, verdict, until=until, detail=detail, ref=row.id)  # type: ignore[arg-type]
                kinds.append(row.kind)
        if outcomes:
            log.info("answered %s: %s %s", ", ".join(kinds), verdict, detail)
        self._apply(outcomes, now)
        return kinds

    # --- timed breaks -------------------------------------------------------------

    def _durations(self) -> dict[str, timedelta | None]:
        return {kind: r.duration for kind, r in self.loaded.settings.reminders().items()}

    def _start_break(self, rows: list[Any], via: str) -> dict[str, Any]:
        """Count a break down in the notification; at the end it is recorded as done (under the lock)."""
        kinds = tuple(dict.fromkeys(row.kind for row in rows))
        length = length_for(self._durations(), kinds)
        if length is None:
            return {"ok": False, "error": f"{', '.join(kinds)} has no break duration (set {kinds[0]}.duration, e.g. 1m)"}
        if self._break is not None:
            self._stop_break(None)
        closer = getattr(getattr(self.backends.notifier, "primary", None), "close_notification", None)
        if closer is not None:  # the reminder gives way to its countdown
            closer("merged" if len(kinds) > 1 else kinds[0])
        self._break = TimedBreak(kinds, tuple(row.id for row in rows), self.clock.now(), length, "break")
        log.info("timed break started (%s, %s, via %s)", ", ".join(kinds), spoken(length), via)
        self._break_tick(first=True)
        return {"ok": True}

    def _break_tick(self, first: bool = False) -> None:
        """Show the countdown, or finish the break (scheduler thread, or under the lock from _start_break)."""
        try:
            with self._lock:
                timed = self._break
                if timed is None:
                    return
                now = self.clock.now()
                tick = break_step(timed, now)
                texts = self._texts
                title = " · ".join(texts[k].title for k in timed.kinds if k in texts) or "Break"
                if tick.finished:
                    self._break = None
                    self._answer([row for row in self._break_rows(timed)], "done", "break")
                    self._send_quietly(Notification(timed.key, f"{title}: break done", "Well done. Back to work when you are ready.",
                                                    "low", timedelta(seconds=10)))
                    self._break_notice = None
                    log.info("timed break finished (%s)", ", ".join(timed.kinds))
                    return
                live = self.backends.notifier.name == "freedesktop"  # other backends cannot update in place
                if live or first:
                    lines = "; ".join(texts[k].break_words for k in timed.kinds if k in texts and texts[k].break_words)
                    self._send_quietly(Notification(
                        timed.key, f"{title}: {break_clock(tick.remaining)} left", lines[:1].upper() + lines[1:],
                        "low", tick.remaining + timedelta(seconds=5), actions=(("stop", "Stop"),), progress=tick.progress))
                    self._break_notice = getattr(self.backends.notifier, "last_id", None)
                self.scheduler.add_job(self._break_tick, DateTrigger(run_date=tick.next_at if live else timed.started + timed.length,
                                                                     timezone=timezone.utc), id="break", replace_existing=True)
        except Exception:
            log.exception("timed break update failed")

    def _break_rows(self, timed: TimedBreak) -> list[Any]:
        rows = self.store.rows([r for r in timed.refs if r is not None])
        answered = {row.kind for row in rows}
        return rows + [_Unasked(kind) for kind in timed.kinds if kind not in answered]

    def _stop_break(self, via: str | None) -> None:
        """End a break before its time; with `via`, recorded as skipped."""
        timed, self._break = self._break, None
        if self.scheduler.get_job("break"):
            self.scheduler.remove_job("break")
        if timed is None:
            return
        log.info("timed break stopped (%s)", ", ".join(timed.kinds))
        if via is not None:
            self._answer(self._break_rows(timed), "skipped", via)
        closer = getattr(getattr(self.backends.notifier, "primary", None), "close_notification", None)
        if closer is not None and via is not None:
            closer(timed.key)
        self._break_notice = None

    def _send_quietly(self, notification: Notification) -> None:
        try:
            self.backends.notifier.send(notification)
        except NotifyError as error:
            log.warning("break notification failed: %s", error)

    def _answer_command(self, command: str, kind: str | None, until: datetime | None) -> dict[str, Any] | None:
        """`ergo done/snooze/skip [KIND]`: answer the open delivery; None means "no open one: do the old thing"."""
        rows = self.store.open_deliveries(kind)
        if not rows:
            if kind is None:
                return {"ok": False, "error": "no reminder has been delivered lately to answer (name a kind)"}
            if command != "done":
                return None
            rows = [_Unasked(kind)]
        verdict = {"done": "done", "snooze": "snoozed", "skip": "skipped"}[command]
        now = self.clock.now()
        if verdict == "snoozed" and (until is None or until <= now):
            return {"ok": False, "error": "snooze needs a time in the future"}
        kinds = self._answer(rows, verdict, "command", (until - now) if until else None)
        closer = getattr(getattr(self.backends.notifier, "primary", None), "close_notification", None)
        if closer is not None and kinds:
            closer("merged" if len(rows) > 1 else kinds[0])
        answer = self.status()
        answer["answered"] = kinds
        return answer

    # --- configuration ----------------------------------------------------------

    def request_reload(self, reason: str) -> None:
        """Reload soon, folding requests: 1000 SIGHUPs run at most one check at a time, and one more after it."""
        with self._reload_state:
            self._reload_wanted = reason
            if self._reload_worker:
                return
            self._reload_worker = True
        threading.Thread(target=self._reload_loop, name="ergo-reload", daemon=True).start()

    def _reload_loop(self) -> None:
        while True:
            with self._reload_state:
                reason, self._reload_wanted = self._reload_wanted, None
                if reason is None:
                    self._reload_worker = False
                    return
            try:
                self.reload(reason)
            except Exception:
                log.exception("reload failed")

    def reload(self, reason: str) -> dict[str, Any]:
        """Re-read the config; an invalid file keeps the last good settings and says why, once.

        One check child at a time, whoever asks (signal, file change, `ergo reload`).
        """
        with self._reload_lock:
            return self._reload(reason)

    def _reload(self, reason: str) -> dict[str, Any]:
        try:
            if self.loaded.file_exists and not _exists(self.loaded.config_file):
                # Deleted (or a dangling link): the defaults would re-enable kinds the person turned off.
                raise ConfigError(f"{self.loaded.config_file} was deleted; keeping the last good settings read from it "
                                  "(restart ergo to use the built-in defaults)")
            loaded = load_checked(self.paths.config_file, self.flags)
            specs, timing = specs_from(loaded.settings, self.zone)
        except ConfigError as error:
            message = str(error)
            with self._lock:
                first = message != self._notified_error
                self.config_error = self._notified_error = message
            log.error("config not reloaded (%s): %s", reason, message)
            with self._lock:
                self._announce(self.clock.now(), force=True)
            if first:
                try:
                    self.backends.notifier.send(Notification("ergo", "ergo: config error, keeping the last good one", message, "normal",
                                                             self.loaded.settings.expire))
                except NotifyError:
                    pass
            return {"ok": False, "error": message}
        if self._idle_events and loaded.settings.idle.away_after != self.loaded.settings.idle.away_after:
            log.warning("idle.away_after changed: the idle watch keeps the old value until ergo restarts")
        with self._lock:
            now = self.clock.now()
            self.config_error = self._notified_error = None
            self.loaded = loaded
            self._texts = self._texts_from(loaded.settings)
            changed = self.engine.reconfigure(now, specs, timing)
            self._apply([], now)
            self._announce(now, force=True)
        log.info("config reloaded (%s): %s", reason, ", ".join(sorted(changed)) + " changed" if changed else "nothing changed")
        for notice in loaded.notices:
            log.warning("%s", notice)
        return {"ok": True, "changed": sorted(changed)}

    # --- control requests -------------------------------------------------------

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one control request (control thread)."""
        command = request["cmd"]
        if command == "status":
            return self.status()
        if command == "reload":
            return self.reload("ergo reload")
        if command in ("plan_start", "plan_stop"):
            return self._plan_command(command, request)
        if command == "stop":
            threading.Timer(0.05, self.request_stop).start()
            return {"ok": True, "pid": os.getpid()}
        with self._lock:
            now = self.clock.now()
            kind = request.get("kind")
            kinds: tuple[str, ...] = (kind,) if isinstance(kind, str) else ()
            if command == "now" and kind is None and "kind" not in request:  # no kind: the reminder delivered last
                kinds = self.engine.last_delivered()
                if not kinds:
                    known = ", ".join(self.engine.specs) or "none"
                    return {"ok": False, "error": f"no reminder was delivered yet: name one ({known})"}
            elif command in ("snooze", "skip", "now", "done", "break") and not (kind is None and command not in ("now", "break")):
                if not isinstance(kind, str) or kind not in self.engine.specs:
                    known = ", ".join(self.engine.specs) or "none"
                    return {"ok": False, "error": f"{kind!r} is not an enabled reminder (enabled: {known})"}
            until = _when(request.get("until"))
            if request.get("until") is not None and until is None:
                return {"ok": False, "error": f"{command}: 'until' must be a future ISO 8601 time"}
            if command == "break":
                rows = self.store.open_deliveries(kind) or [_Unasked(kind)]
                started = self._start_break(rows, "command")
                if not started["ok"]:
                    return started
                answer = self.status()
                answer["break_seconds"] = self._break.length.total_seconds() if self._break else 0
                return answer
            if command == "done" and self._break is not None and (kind is None or kind in self._break.kinds):
                timed = self._break
                self._stop_break(None)
                self._answer(self._break_rows(timed), "done", "break")
                answer = self.status()
                answer["answered"] = list(timed.kinds)
                return answer
            if command in ("done", "snooze", "skip"):
                answered = self._answer_command(command, kind, until)
                if answered is not None:
                    return answered
            if command == "pause":
                if until is not None and until <= now:
                    return {"ok": False, "error": "the pause would end in the past"}
                self.engine.pause(now, until)
                outcomes: list[Outcome] = []
            elif command == "resume":
                self.engine.resume(now)
                outcomes = self.engine.tick(now)
            elif command == "snooze":
                if until is None or until <= now:
                    return {"ok": False, "error": "snooze needs a time in the future"}
                outcomes = [o for k in kinds for o in self.engine.snooze(now, k, until)]
            elif command == "skip":
                outcomes = [o for k in kinds for o in self.engine.skip(now, k)]
            elif command == "now":
                outcomes = self.engine.deliver_now(now, *kinds)
            else:
                return {"ok": False, "error": f"unknown command {command!r}"}
            self._apply(outcomes, now)
        answer = self.status()
        if kinds:
            answer["acted_on"] = list(kinds)
        return answer

    def _reminders_reach(self) -> str:
        """"desktop", "terminal" or "log only": where a reminder would show up right now."""
        notifier = self.backends.notifier
        if notifier.name != "console" and not getattr(notifier, "last_error", None):
            return "desktop"
        try:
            return "terminal" if sys.stdout is not None and sys.stdout.isatty() else "log only"
        except (OSError, ValueError):
            return "log only"

    # --- plans (ergo.plans) ------------------------------------------------------

    def _plan_command(self, command: str, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            now = self.clock.now()
            try:
                if command == "plan_stop":
                    return {"ok": True, **self.plans.stop(now)}
                options = request.get("options") or {}
                if not isinstance(request.get("name"), str) or not isinstance(options, dict):
                    return {"ok": False, "error": "plan_start needs a name and an options object"}
                waking = request.get("waking") if isinstance(request.get("waking"), str) else None
                answer = self.plans.start(now, request["name"], {str(k): (None if v is None else str(v)) for k, v in options.items()},
                                          waking, self.loaded.settings.schedule.hours)
            except ErgoError as error:
                return {"ok": False, "error": str(error)}
            return {"ok": True, "plan": answer}

    def _send_plan(self, key: str, title: str, body: str) -> str:
        """Deliver a plan's notification through the same notifier; returns the backend used."""
        try:
            self.backends.notifier.send(Notification(key, title, body, "normal", self.loaded.settings.expire))
        except NotifyError as error:
            log.error("plan delivery failed: %s", error)
            return "failed"
        return "console (fallback)" if getattr(self.backends.notifier, "last_error", None) else self.backends.notifier.name

    def _plan_hold(self, now: datetime) -> str | None:
        """Plan steps wait only for what the person chose: a pause or do-not-disturb (not idle or lock)."""
        if self.engine.paused:
            return "paused"
        if self.engine.dnd:
            return "do not disturb"
        return None

    def _set_plan_timer(self, at: datetime | None) -> None:
        if at is None:
            if self.scheduler.get_job("plan"):
                self.scheduler.remove_job("plan")
            return
        self.scheduler.add_job(self._on_plan_timer, DateTrigger(run_date=at, timezone=timezone.utc), id="plan",
                               replace_existing=True)

    def _on_plan_timer(self) -> None:
        try:
            with self._lock:
                self.plans.tick(self.clock.now())
        except Exception:
            log.exception("plan step failed")

    def request_stop(self) -> None:
        """Asks the main thread (waiting in `ergo run`) to stop the daemon; safe from any thread."""
        self.stop_requested.set()

    def status(self) -> dict[str, Any]:
        with self._lock:
            now = self.clock.now()
            engine, settings = self.engine, self.loaded.settings
            hold = engine.hold(now)
            reminders: dict[str, Any] = {}
            for kind, reminder in settings.reminders().items():
                entry: dict[str, Any] = {
                    "enabled": reminder.enabled,
                    "interval": format_duration(reminder.interval),
                    "interval_seconds": reminder.interval.total_seconds(),
                    "next_due": None, "snoozed_until": None, "last_fired": None, "held": None, "resumes_at": None,
                }
                state = engine.reminders.get(kind)
                if reminder.enabled and state is not None:
                    due = None if engine.paused else engine.next_due(kind, now)
                    entry["next_due"] = _iso(due)
                    entry["snoozed_until"] = _iso(state.snoozed_until)
                    entry["last_fired"] = _iso(state.last_fired)
                    if engine.paused:
                        entry["held"] = "paused"
                    elif engine.outside_hours(kind, now):
                        entry["held"] = "outside hours"
                        upcoming = engine.specs[kind].hours.next_start(now)
                        entry["resumes_at"] = _iso(upcoming[0] if upcoming else None)
                    elif state.pending_since is not None or (due is not None and due <= now and hold):
                        entry["held"] = hold or state.pending_reason
                    elif state.snoozed_until is not None:
                        entry["held"] = "snoozed"
                    elif due is not None and due <= now and engine.spaced_until(now) is not None:
                        entry["held"] = "spacing"
                        entry["resumes_at"] = _iso(engine.spaced_until(now))
                reminders[kind] = entry
            return {
                "ok": True, "running": True, "pid": os.getpid(), "version": __version__,
                "now": _iso(now),
                "paused": engine.paused, "paused_until": _iso(engine.pause_until),
                "hold": hold,
                "away_since": _iso(engine.away_since),
                "dnd": engine.dnd,
                "notifier": self.backends.notifier.name,
                "notifier_reason": getattr(self.backends.notifier, "reason", "") or self.backends.notifier_reason,
                "reminders_reach": self._reminders_reach(),
                "idle_backend": self.backends.idle_reason.split(":", 1)[0], "idle_reason": self.backends.idle_reason,
                "session_watchers": list(self.session_reasons),
                "config_file": str(self.loaded.config_file), "config_found": self.loaded.file_exists,
                "config_error": self.config_error,
                "state_error": self.state_error,
                "plan": self.plans.status(now),
                "system_config_file": str(self.loaded.system_file) if self.loaded.system_exists else None,
                "config_notices": list(self.loaded.notices),
                "last_delivered": list(engine.last_delivered()),
                "reminders": reminders,
                "break": None if self._break is None else {
                    "kinds": list(self._break.kinds), "ends": _iso(self._break.started + self._break.length)},
            }


def _exists(path: Any) -> bool:
    """Whether the config file is there (a symlink loop or unreadable folder counts as there: its error says why)."""
    try:
        os.stat(path)
    except FileNotFoundError:  # also a symlink whose target was deleted
        return False
    except OSError:
        return True
    return True


@dataclass(frozen=True)
class _Unasked:
    """`ergo done KIND` with no reminder of that kind waiting: a break taken unprompted, answering nothing."""

    kind: str
    id: None = None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).isoformat(timespec="seconds")


def _when(value: Any) -> datetime | None:
    """An ISO time from a control request, or None when absent, unreadable or out of range."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        parsed = parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):
        return None
    if not datetime(2000, 1, 1, tzinfo=timezone.utc) <= parsed <= datetime(9000, 1, 1, tzinfo=timezone.utc):
        return None
    return parsed
