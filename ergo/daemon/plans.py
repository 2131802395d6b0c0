"""Plans in the running daemon: the plan timer, its notifications, and `ergo plan start/stop`.

What a plan does and when is decided by ergo/plans/ (the pure `timing.py`, the `PlanDriver`);
this module hands the driver a notifier, a hold rule and an APScheduler job, under the daemon's lock.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone, tzinfo
from typing import Any, Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from ergo.timing.clock import Clock
from ergo.config.frozen import PlainSettings
from ergo.errors import ErgoError, NotifyError
from ergo.notify.base import Notification, Notifier
from ergo.plans.driver import PlanDriver
from ergo.timing.policy import Engine
from ergo.daemon.state import BufferedStore
from ergo.records.store import Store

log = logging.getLogger("ergo")


class PlanSteps:
    """Runs a plan's steps beside the reminders: same notifier, own timer, held only by a pause or do-not-disturb.
    Hands the Engine the plan's holds on ordinary reminders whenever a plan starts, ends or is restored."""

    def __init__(self, engine: Engine, clock: Clock, zone: tzinfo, lock: threading.RLock, scheduler: BackgroundScheduler,
                 store: Store | BufferedStore, notifier: Notifier, settings: Callable[[], PlainSettings],
                 resync: Callable[[datetime], None]) -> None:
        self.engine = engine
        self.clock = clock
        self.lock = lock
        self.scheduler = scheduler
        self.notifier = notifier
        self._settings = settings  # the current settings (a reload replaces them)
        self._resync = resync  # the reminders' timers, after the holds changed
        self.driver = PlanDriver(store, self._send, self._hold, zone, self._set_timer)
        engine.set_kind_holds(self.driver.holds())

    def holds_changed(self, now: datetime) -> None:
        """The plan started, ended or moved: the Engine gets its new holds, the reminders' timers follow."""
        holds = self.driver.holds()
        if holds != self.engine.kind_holds:
            self.engine.set_kind_holds(holds)
            self._resync(now)

    def command(self, command: str, request: dict[str, Any]) -> dict[str, Any]:
        """`ergo plan start NAME` / `ergo plan stop` (control thread)."""
        with self.lock:
            now = self.clock.now()
            try:
                if command == "plan_stop":
                    return {"ok": True, **self.driver.stop(now)}
                options = request.get("options") or {}
                if not isinstance(request.get("name"), str) or not isinstance(options, dict):
                    return {"ok": False, "error": "plan_start needs a name and an options object"}
                waking = request.get("waking") if isinstance(request.get("waking"), str) else None
                answer = self.driver.start(now, request["name"], {str(k): (None if v is None else str(v)) for k, v in options.items()},
                                           waking, self._settings().schedule.hours)
            except ErgoError as error:
                return {"ok": False, "error": str(error)}
            finally:
                self.holds_changed(now)
            return {"ok": True, "plan": answer}

    def _send(self, key: str, title: str, body: str) -> str:
        """Deliver a plan's notification through the same notifier; returns the backend used."""
        try:
            self.notifier.send(Notification(key, title, body, "normal", self._settings().expire))
        except NotifyError as error:
            log.error("plan delivery failed: %s", error)
            return "failed"
        return "console (fallback)" if getattr(self.notifier, "last_error", None) else self.notifier.name

    def _hold(self, now: datetime) -> str | None:
        """Plan steps wait only for a pause, do-not-disturb or being busy (a call): not for idle or lock."""
        if self.engine.paused:
            return "paused"
        if self.engine.dnd:
            return "do not disturb"
        if self.engine.busy is not None:
            return "busy"
        return None

    def _set_timer(self, at: datetime | None) -> None:
        if at is None:
            if self.scheduler.get_job("plan"):
                self.scheduler.remove_job("plan")
            return
        self.scheduler.add_job(self._on_timer, DateTrigger(run_date=at, timezone=timezone.utc), id="plan",
                               replace_existing=True)

    def _on_timer(self) -> None:
        """The plan job fired (APScheduler's thread): the driver sends what is due."""
        try:
            with self.lock:
                now = self.clock.now()
                self.driver.tick(now)
                self.holds_changed(now)
        except Exception:
            log.exception("plan step failed")
