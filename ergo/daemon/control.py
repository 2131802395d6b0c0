"""Control: the daemon's front desk for the control socket, signals and the config watcher.

`handle()` answers one request (control thread), `status()` is what `ergo status` and a bar
show, `reload()` re-reads the config with one check child at a time. Control steers the
daemon's parts; none of them calls back into it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Protocol

from ergo import __version__
from ergo.config.frozen import load_checked
from ergo.daemon.specs import specs_from
from ergo.timing.durations import format_duration
from ergo.errors import ConfigError, NotifyError
from ergo.notify.base import Notification
from ergo.timing.decisions import Outcome

if TYPE_CHECKING:
    from datetime import tzinfo

    from ergo.config.frozen import PlainLoaded
    from ergo.daemon.answers import Answers
    from ergo.daemon.busy import BusyWatch
    from ergo.daemon.delivery import Deliverer
    from ergo.daemon.plans import PlanSteps
    from ergo.daemon.presence import Presence
    from ergo.daemon.state import StateKeeper
    from ergo.paths import Paths
    from ergo.timing.clock import Clock
    from ergo.timing.policy import Engine

log = logging.getLogger("ergo")


class Steered(Protocol):
    """What Control may read and steer: the daemon's parts and three of its actions, nothing more.

    The Daemon (core.py) is one; Control never imports it, so the two modules do not import each other.
    """

    lock: threading.RLock
    clock: Clock
    zone: tzinfo
    paths: Paths
    flags: dict[str, Any]
    loaded: PlainLoaded  # replaced by a successful reload
    config_error: str | None  # set and cleared by reloads
    session_reasons: list[str]
    backends: Any  # ergo.daemon.core.Backends
    engine: Engine
    state: StateKeeper
    deliverer: Deliverer
    presence: Presence
    answers: Answers
    plans: PlanSteps
    busy: BusyWatch

    def apply(self, outcomes: list[Outcome], now: datetime) -> None: ...

    def announce(self, now: datetime, force: bool = False) -> None: ...

    def request_stop(self) -> None: ...


class Control:
    """Answers control requests and reloads the config for one daemon."""

    def __init__(self, daemon: Steered) -> None:
        self.daemon = daemon
        self._reload_lock = threading.Lock()  # one config check child at a time
        self._reload_state = threading.Lock()  # guards the two fields below
        self._reload_wanted: str | None = None
        self._reload_worker = False
        self._notified_error: str | None = None  # the config error last sent as a notification

    # --- control requests -------------------------------------------------------

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one control request (control thread). Every answer carries the configured `language`,
        so the CLI says what happened in it (ergo.i18n.for_client)."""
        answer = self._answer(request)
        if isinstance(answer, dict):
            answer.setdefault("language", self.daemon.loaded.settings.language)
        return answer

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        d = self.daemon
        command = request["cmd"]
        if command == "status":
            return self.status()
        if command == "reload":
            return self.reload("ergo reload")
        if command == "schedule":
            return self.schedule(request.get("hours"))
        if command in ("plan_start", "plan_stop"):
            return d.plans.command(command, request)
        if command == "stop":
            threading.Timer(0.05, d.request_stop).start()
            return {"ok": True, "pid": os.getpid()}
        with d.lock:
            now = d.clock.now()
            engine = d.engine
            kind = request.get("kind")
            kinds: tuple[str, ...] = (kind,) if isinstance(kind, str) else ()
            if command == "now" and kind is None and "kind" not in request:  # no kind: the reminder delivered last
                kinds = engine.last_delivered()
                if not kinds:
                    known = ", ".join(engine.specs) or "none"
                    return {"ok": False, "error": f"no reminder was delivered yet: name one ({known})"}
            elif command in ("snooze", "skip", "now", "done", "break") and not (kind is None and command not in ("now", "break")):
                if not isinstance(kind, str) or kind not in engine.specs:
                    known = ", ".join(engine.specs) or "none"
                    return {"ok": False, "error": f"{kind!r} is not an enabled reminder (enabled: {known})"}
            until = _when(request.get("until"))
            if request.get("until") is not None and until is None:
                return {"ok": False, "error": f"{command}: 'until' must be a future ISO 8601 time"}
            if command == "break":
                started = d.answers.break_command(kind)
                if not started["ok"]:
                    return started
                answer = self.status()
                timed = d.answers.timed
                answer["break_seconds"] = timed.length.total_seconds() if timed else 0
                return answer
            if command == "done":
                finished = d.answers.finish_early(kind)
                if finished is not None:
                    answer = self.status()
                    answer["answered"] = finished
                    return answer
            if command in ("done", "snooze", "skip"):
                answered = d.answers.command(command, kind, until)
                if answered is not None:
                    if not answered["ok"]:
                        return answered
                    answer = self.status()
                    answer["answered"] = answered["answered"]
                    return answer
            if command == "pause":
                if until is not None and until <= now:
                    return {"ok": False, "error": "the pause would end in the past"}
                engine.pause(now, until)
                outcomes: list[Outcome] = []
            elif command == "resume":
                was_paused = engine.paused
                engine.resume(now)
                outcomes = engine.tick(now)
            elif command == "snooze":
                if until is None or until <= now:
                    return {"ok": False, "error": "snooze needs a time in the future"}
                outcomes = [o for k in kinds for o in engine.snooze(now, k, until)]
            elif command == "skip":
                # what the skip really did: a reminder already due (held back, not yet shown) is dropped;
                # otherwise the countdown restarts from now
                before = {k: (engine.next_due(k, now), engine.reminders[k].pending_reason or engine.hold(now)) for k in kinds}
                outcomes = [o for k in kinds for o in engine.skip(now, k)]
            elif command == "now":
                outcomes = engine.deliver_now(now, *kinds)
            else:
                return {"ok": False, "error": f"unknown command {command!r}"}
            d.apply(outcomes, now)
        answer = self.status()
        if kinds:
            answer["acted_on"] = list(kinds)
        if command == "resume":
            answer["was_paused"] = was_paused
        if command == "skip":
            answer["skipped"] = {k: {"was_due": _iso(due), "overdue": due is not None and due <= now,
                                     "held": held if due is not None and due <= now else None}
                                 for k, (due, held) in before.items()}
        return answer

    def status(self) -> dict[str, Any]:
        """Everything `ergo status` shows, as JSON-ready data (any thread)."""
        d = self.daemon
        with d.lock:
            now = d.clock.now()
            engine, settings = d.engine, d.loaded.settings
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
                    by_plan = engine.plan_hold(kind, now)
                    if engine.paused:
                        entry["held"] = "paused"
                    elif by_plan is not None:  # the running plan holds or replaces this kind (acute-back)
                        entry["held"], entry["held_why"], entry["resumes_at"] = "plan", by_plan.why, _iso(by_plan.end)
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
            timed = d.answers.timed
            return {
                "ok": True, "running": True, "pid": os.getpid(), "version": __version__,
                "now": _iso(now),
                "paused": engine.paused, "paused_until": _iso(engine.pause_until),
                "hold": hold,
                "away_since": _iso(engine.away_since),
                "dnd": engine.dnd,
                **d.busy.status(now),
                "notifier": d.backends.notifier.name,
                "notifier_reason": getattr(d.backends.notifier, "reason", "") or d.backends.notifier_reason,
                "reminders_reach": self._reminders_reach(),
                "idle_backend": d.backends.idle_reason.split(":", 1)[0], "idle_reason": d.backends.idle_reason,
                "session_watchers": list(d.session_reasons),
                "config_file": str(d.loaded.config_file), "config_found": d.loaded.file_exists,
                "config_error": d.config_error,
                "state_error": d.state.error,
                "plan": d.plans.driver.status(now),
                "system_config_file": str(d.loaded.system_file) if d.loaded.system_exists else None,
                "config_notices": list(d.loaded.notices),
                "language": settings.language,  # the configured value ("auto", "de"): clients pick by ergo.i18n.for_client
                "last_delivered": list(engine.last_delivered()),
                "reminders": reminders,
                "break": None if timed is None else {
                    "kinds": list(timed.kinds), "ends": _iso(timed.started + timed.length)},
            }

    def schedule(self, hours: Any) -> dict[str, Any]:
        """`ergo schedule` while ergo runs: a copy of the live Engine played forward, with its pauses, snoozes
        and plan. Presence holds (away, locked, do not disturb) are taken to end now: the times assume you
        are at the keyboard, and `held` says what holds reminders at this moment."""
        import copy

        from ergo.timing import timeline
        from ergo.plans import timing

        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= 24 * 14:
            return {"ok": False, "error": "--hours must be between 0 and 336"}
        d = self.daemon
        with d.lock:
            now = d.clock.now().replace(microsecond=0)
            end = now + timedelta(hours=hours)
            live = d.engine
            held = None if live.paused else live.hold(now)
            # specs and timing are read-only settings (their work hours hold a ZoneInfo, which cannot be copied)
            engine = copy.deepcopy(live, {id(live.specs): live.specs, id(live.timing): live.timing})
            engine.away_since, engine.gone, engine.dnd, engine.quiet_until = None, {}, False, None
            events = timeline.window_events(engine.specs, now, end) + timeline.reminders(engine, now, end)
            plan, running = d.plans.driver.plan, d.plans.driver.running
            if plan is not None and running is not None:
                events += [(at, f"plan {plan.name}: {step.title}")
                           for at, step in timing.occurrences(plan, running, d.zone, now, end)]
                if running.ends <= end:
                    events.append((running.ends, f"-- plan {plan.name} ends"))
            timed = d.answers.timed
            return {
                "ok": True, "pid": os.getpid(), "now": _iso(now), "hours": hours,
                "enabled": list(live.specs), "work_hours": timeline.work_hours(live.specs),
                "paused": live.paused, "paused_until": _iso(live.pause_until), "held": held,
                "snoozed": {kind: _iso(state.snoozed_until) for kind, state in live.reminders.items()
                            if kind in live.specs and state.snoozed_until is not None and state.snoozed_until > now},
                "break": None if timed is None else {"kinds": list(timed.kinds), "ends": _iso(timed.started + timed.length)},
                "plan": None if plan is None or running is None else {"name": plan.name, "ends": _iso(running.ends)},
                "plan_holds": {kind: {"until": _iso(hold.end), "why": hold.why} for kind in live.specs
                               if (hold := live.plan_hold(kind, now)) is not None},
                "events": [[_iso(at), text] for at, text in sorted(events)],
            }

    def _reminders_reach(self) -> str:
        """"desktop", "terminal" or "log only": where a reminder would show up right now."""
        notifier = self.daemon.backends.notifier
        if notifier.name != "console" and not getattr(notifier, "last_error", None):
            return "desktop"
        try:
            return "terminal" if sys.stdout is not None and sys.stdout.isatty() else "log only"
        except (OSError, ValueError):
            return "log only"

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
        d = self.daemon
        try:
            if d.loaded.file_exists and not _exists(d.loaded.config_file):
                # Deleted (or a dangling link): the defaults would re-enable kinds the person turned off.
                raise ConfigError(f"{d.loaded.config_file} was deleted; keeping the last good settings read from it "
                                  "(restart ergo to use the built-in defaults)")
            loaded = load_checked(d.paths.config_file, d.flags)
            specs, timing = specs_from(loaded.settings, d.zone)
        except ConfigError as error:
            message = str(error)
            with d.lock:
                first = message != self._notified_error
                d.config_error = self._notified_error = message
            log.error("config not reloaded (%s): %s", reason, message)
            with d.lock:
                d.announce(d.clock.now(), force=True)
            if first:
                try:
                    d.backends.notifier.send(Notification("ergo", "ergo: config error, keeping the last good one", message, "normal",
                                                          d.loaded.settings.expire))
                except NotifyError:
                    pass
            return {"ok": False, "error": message}
        if d.presence.idle_events and loaded.settings.idle.away_after != d.loaded.settings.idle.away_after:
            log.warning("idle.away_after changed: the idle watch keeps the old value until ergo restarts")
        with d.lock:
            now = d.clock.now()
            d.config_error = self._notified_error = None
            d.loaded = loaded
            d.deliverer.texts = d.deliverer.texts_from(loaded.settings)
            changed = d.engine.reconfigure(now, specs, timing)
            d.apply([], now)
            d.announce(now, force=True)
        d.busy.configure(loaded.settings.meetings)  # outside the lock: a follower may be waiting for it
        log.info("config reloaded (%s): %s", reason, ", ".join(sorted(changed)) + " changed" if changed else "nothing changed")
        for notice in loaded.notices:
            log.warning("%s", notice)
        return {"ok": True, "changed": sorted(changed)}


def _exists(path: Any) -> bool:
    """Whether the config file is there (a symlink loop or unreadable folder counts as there: its error says why)."""
    try:
        os.stat(path)
    except FileNotFoundError:  # also a symlink whose target was deleted
        return False
    except OSError:
        return True
    return True


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
