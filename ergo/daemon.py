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
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from ergo import __version__
from ergo.clock import Clock, JumpDetector, SystemClock
from ergo.compose import KindText, compose, kind_texts
from ergo.durations import format_duration
from ergo.errors import ConfigError, NotifyError
from ergo.notify.base import Notification, Notifier
from ergo.paths import Paths
from ergo.policy import Deliver, Engine, Outcome, Record, ReminderSpec, Timing
from ergo.config.frozen import PlainLoaded, PlainSettings, load_checked
from ergo.store import Store
from ergo.tips import load_catalog
from ergo.triggers import CatchUpIntervalTrigger, FollowingTrigger
from ergo.worktime import WorkHours, local_zone

log = logging.getLogger("ergo")
NEAR = timedelta(seconds=60)  # poll idle often only this close to a due reminder
IDLE_FASTEST, IDLE_FAST, IDLE_AWAY, IDLE_SLOW = 1.0, 5.0, 30.0, 60.0  # seconds between idle readings
IDLE_NONE = 300.0  # no idle source to read: the job only checks the clock, as the control thread does
ALIVE_EVERY = 55.0  # seconds between signs of life for the "daemon was down" estimate (no disk write)


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
        self._saved: dict | None = None
        self._idle_error: str | None = None
        self.session_reasons: list[str] = []
        self.stop_requested = threading.Event()  # set by signals and `ergo stop`; run() then calls stop()
        self._stopped = False
        self.scheduler = BackgroundScheduler(
            timezone=timezone.utc,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self.engine = self._initial_engine()

    # --- setup ----------------------------------------------------------------

    def _texts_from(self, settings: PlainSettings) -> dict[str, KindText]:
        return {
            kind: kind_texts(kind, r.title, list(r.messages), self._catalog) for kind, r in settings.reminders().items()
        }

    def _initial_engine(self) -> Engine:
        now = self.clock.now()
        specs, timing = specs_from(self.loaded.settings, self.zone)
        saved = self.store.load_engine()
        if saved is None:
            return Engine.start(specs, timing, now)
        alive = self.store.last_alive()
        downtime = max(now - alive, timedelta(0)) if alive else timedelta(0)
        log.info("continuing saved countdowns (daemon was down for %s)", format_duration(downtime))
        return Engine.restore(saved, specs, timing, now, downtime)

    def start(self) -> None:
        if self.store.warning:
            log.warning("%s", self.store.warning)
        log.info("ergo %s started (pid %d)", __version__, os.getpid())
        log.info("notifications: %s", self.backends.notifier_reason)
        log.info("idle detection: %s", self.backends.idle_reason)
        log.info("config: %s (%s)", self.loaded.config_file,
                 "found" if self.loaded.file_exists else "not found: using built-in defaults")
        if self.loaded.system_exists:
            log.info("system-wide config: %s", self.loaded.system_file)
        for notice in self.loaded.notices:
            log.warning("%s", notice)
        with self._lock:
            now = self.clock.now()
            self._save(now)
            self.scheduler.start()
            self._sync_jobs(now)
            self._schedule_idle(now)
        self._watch_idle()
        if self.backends.start_session_watchers is not None:
            self._watchers, self.session_reasons = self.backends.start_session_watchers(self._on_session_event)

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
            self.store.heartbeat(now)  # the next start measures downtime from here
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
        """Save first (so a crash never delivers twice), then deliver, record, and resync the timers."""
        self._save(now)
        for outcome in outcomes:
            if isinstance(outcome, Deliver):
                self._deliver(outcome)
            elif isinstance(outcome, Record):
                log.info("%s: %s (%s)", outcome.kind, outcome.event.replace("_", " "), outcome.detail)
                self.store.record(outcome.at, outcome.kind, outcome.event, outcome.detail)
        self._sync_jobs(now)

    def _deliver(self, decision: Deliver) -> None:
        message, self._shown = compose(decision.kinds, self._texts, self._shown)
        self.store.save_shown_tips(self._shown)
        settings = self.loaded.settings
        urgency = max((settings.reminders()[k].urgency for k in decision.kinds), key=("low", "normal", "critical").index)
        notification = Notification(message.key, message.title, message.body, urgency, settings.expire)
        backend = self.backends.notifier.name
        try:
            self.backends.notifier.send(notification)
        except NotifyError as error:  # FallbackNotifier normally absorbs this; belt and braces
            log.error("delivery failed: %s", error)
            backend = "failed"
        last_error = getattr(self.backends.notifier, "last_error", None)
        if last_error:
            backend = "console (fallback)"
        merged = f" [merged with {len(decision.kinds) - 1} more]" if len(decision.kinds) > 1 else ""
        for kind in decision.kinds:
            tip = message.tips.get(kind, "-")
            log.info("reminder %s delivered via %s (tip %s)%s", kind, backend, tip, merged)
            self.store.record(decision.at, kind, "delivered", f"via {backend}, tip {tip}{merged}")

    def _save(self, now: datetime) -> None:
        """Write the Engine's state when it changed (idle polls mostly change nothing)."""
        snapshot = self.engine.snapshot()
        if snapshot != self._saved:
            self.store.save_engine(snapshot, now)
            self._saved = snapshot

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
        log.info("idle detection: event-driven (no polling)")

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

    # --- configuration ----------------------------------------------------------

    def reload(self, reason: str) -> dict[str, Any]:
        """Re-read the config; an invalid file keeps the last good settings and says why, once."""
        try:
            loaded = load_checked(self.paths.config_file, self.flags)
            specs, timing = specs_from(loaded.settings, self.zone)
        except ConfigError as error:
            message = str(error)
            with self._lock:
                first = message != self._notified_error
                self.config_error = self._notified_error = message
            log.error("config not reloaded (%s): %s", reason, message)
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
        if command == "stop":
            threading.Timer(0.05, self.request_stop).start()
            return {"ok": True, "pid": os.getpid()}
        with self._lock:
            now = self.clock.now()
            kind = request.get("kind")
            if command in ("snooze", "skip", "now"):
                if not isinstance(kind, str) or kind not in self.engine.specs:
                    known = ", ".join(self.engine.specs) or "none"
                    return {"ok": False, "error": f"{kind!r} is not an enabled reminder (enabled: {known})"}
            until = _when(request.get("until"))
            if request.get("until") is not None and until is None:
                return {"ok": False, "error": f"{command}: 'until' must be a future ISO 8601 time"}
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
                outcomes = self.engine.snooze(now, kind, until)
            elif command == "skip":
                outcomes = self.engine.skip(now, kind)
            elif command == "now":
                outcomes = self.engine.deliver_now(now, kind)
            else:
                return {"ok": False, "error": f"unknown command {command!r}"}
            self._apply(outcomes, now)
        return self.status()

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
                reminders[kind] = entry
            return {
                "ok": True, "running": True, "pid": os.getpid(), "version": __version__,
                "now": _iso(now),
                "paused": engine.paused, "paused_until": _iso(engine.pause_until),
                "hold": hold,
                "away_since": _iso(engine.away_since),
                "dnd": engine.dnd,
                "notifier": self.backends.notifier.name, "notifier_reason": self.backends.notifier_reason,
                "idle_backend": self.backends.idle_reason.split(":", 1)[0], "idle_reason": self.backends.idle_reason,
                "session_watchers": list(self.session_reasons),
                "config_file": str(self.loaded.config_file), "config_found": self.loaded.file_exists,
                "config_error": self.config_error,
                "system_config_file": str(self.loaded.system_file) if self.loaded.system_exists else None,
                "config_notices": list(self.loaded.notices),
                "reminders": reminders,
            }


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
