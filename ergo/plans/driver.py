"""Runs the stored plan inside the daemon: one timer, delivery, history and state.

The timing is ergo.plans.timing's (pure); this is the thin shell around it. The daemon
calls every method with its lock held and hands in how to send, what holds delivery
(pause, do-not-disturb) and how to set the one "plan" timer.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Callable

from ergo.errors import ErgoError
from ergo.plans import timing
from ergo import i18n
from ergo.i18n import _
from ergo.plans.catalog import Plan, Step, load_plans, localized
from ergo.plans.timing import Running
from ergo.timing.decisions import KindHold

log = logging.getLogger("ergo")
RECHECK = timedelta(minutes=1)  # while pause or do-not-disturb holds a due step
HISTORY_KIND = "plan"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).isoformat(timespec="seconds")


class PlanDriver:
    def __init__(self, store: Any, send: Callable[[str, str, str], str], held: Callable[[datetime], str | None],
                 zone: tzinfo, set_timer: Callable[[datetime | None], None]) -> None:
        self.store = store
        self.catalog: dict[str, Plan] = load_plans()
        self._send, self._held, self.zone, self._set_timer = send, held, zone, set_timer
        saved = store.load_plan()
        self.running: Running | None = None
        if saved is not None:
            try:
                running = Running.from_json(saved)
            except (KeyError, TypeError, ValueError) as error:
                log.warning("stored plan unreadable, dropped: %s", error)
            else:
                if running.name in self.catalog:
                    self.running = running
                else:
                    log.warning("stored plan %r is not one this ergo knows, dropped", running.name)

    @property
    def plan(self) -> Plan | None:
        return None if self.running is None else self._localized(self.running.name)

    def _localized(self, name: str) -> Plan:
        """The plan in the daemon's language (the settings' `language`: ergo.i18n.use at every (re)load)."""
        return localized(self.catalog[name], i18n.translator())

    def note_for(self, kind: str) -> str:
        """While a plan runs, what an ordinary reminder of `kind` adds (acute-back's stretches: "only as far as
        the pain allows ... stop if it grows"), or ""."""
        plan = self.plan
        rule = plan.reminders.get(kind) if plan is not None else None
        return rule.note if rule is not None else ""

    def holds(self) -> dict[str, KindHold]:
        """The running plan's holds on ordinary reminders, for the Engine (none when no plan runs)."""
        plan, running = self.plan, self.running
        return {} if plan is None or running is None else timing.reminder_holds(plan, running)

    # --- control ----------------------------------------------------------------

    def start(self, now: datetime, name: str, options: dict[str, Any], waking: str | None, schedule_hours: str) -> dict[str, Any]:
        if self.running is not None:
            raise ErgoError(f"plan {self.running.name} is already running until "
                            f"{self.running.ends.astimezone(self.zone):%a %d %b %H:%M}: "
                            "`ergo plan stop` ends it")
        plan = self.catalog.get(name)
        if plan is None:
            raise ErgoError(f"no plan {name!r} (plans: {', '.join(self.catalog)})")
        resolved = timing.resolve_options(plan, options)
        running = timing.start(plan, now, timing.waking_window(plan, waking, schedule_hours), resolved)
        fresh, _stale, running = timing.due(plan, running, self.zone, now)
        self.running = running
        self.store.record(now, HISTORY_KIND, "started", f"{name} until {_iso(running.ends)} (waking {running.waking})")
        self._announce(plan, [step for _at, step in fresh], now)
        log.info("plan %s started: until %s, waking hours %s", name, f"{running.ends.astimezone(self.zone):%a %d %b %H:%M}",
                 running.waking)
        self._save_and_sync(now)
        return {**(self.status(now) or {}), "first_now": [step.title for _at, step in fresh]}

    def _announce(self, plan: Plan, steps: list[Step], now: datetime) -> None:
        """The plan's first notification: its steps due now, the warning signs in full, ergo's own caution."""
        plan = self._localized(plan.name)
        steps = [plan.step(step.id) for step in steps]
        lines = [f"{step.title}: {step.text}" for step in steps] or [plan.summary]
        if plan.warning:
            lines.append(plan.warning)
        backend = self._send(f"plan:{plan.name}", _("Plan started: %(title)s") % {"title": plan.title}, "\n".join(lines))
        for step in steps:
            self.store.record(now, HISTORY_KIND, "delivered", f"{plan.name} {step.id} via {backend}")
        if self.running is not None:
            self.running = timing.warned(self.running, self.zone, now)

    def stop(self, now: datetime) -> dict[str, Any]:
        if self.running is None:
            raise ErgoError("no plan is running (`ergo plan list` shows them)")
        name = self.running.name
        self.running = None
        self.store.record(now, HISTORY_KIND, "stopped", name)
        log.info("plan %s stopped", name)
        self._save_and_sync(now)
        return {"stopped": name}

    # --- timer ------------------------------------------------------------------

    def tick(self, now: datetime) -> None:
        """The plan timer fired: deliver what is due (unless held), skip what went stale, end the plan on time."""
        plan, running = self.plan, self.running
        if plan is None or running is None:
            self._set_timer(None)
            return
        hold = self._held(now)
        if hold is not None and not timing.finished(running, now):
            pending = timing.occurrences(plan, running, self.zone, running.last or running.started, now)
            if pending or running.warned is None:
                log.info("plan %s: step held (%s)", plan.name, hold)
                self._set_timer(now + RECHECK)
                return
        fresh, stale, self.running = timing.due(plan, running, self.zone, now)
        for at, step in stale:
            self.store.record(now, HISTORY_KIND, "skipped", f"{plan.name} {step.id} (due {_iso(at)}, more than "
                                                            f"{int(timing.STALE.total_seconds() // 60)} min late)")
        if self.running.warned is None and not timing.finished(self.running, now):
            self._announce(plan, [step for _at, step in fresh], now)  # started while no daemon ran
        elif fresh:
            self._deliver(plan, [step for _at, step in fresh], now)
        if timing.finished(self.running, now):
            self._send(f"plan:{plan.name}", _("Plan finished: %(title)s") % {"title": plan.title},
                       "\n".join(filter(None, (_("It ended by itself."), plan.warning))))
            self.store.record(now, HISTORY_KIND, "finished", plan.name)
            log.info("plan %s finished", plan.name)
            self.running = None
        self._save_and_sync(now)

    def _deliver(self, plan: Plan, steps: list[Step], now: datetime) -> None:
        title = plan.title + " · " + " · ".join(s.title for s in steps)
        body = "\n".join(s.text for s in steps)
        if self.running is not None and timing.warn_today(plan, self.running, self.zone, now):
            body += "\n" + plan.warning  # once a day, with the day's first step
            self.running = timing.warned(self.running, self.zone, now)
        backend = self._send(f"plan:{plan.name}", title, body)
        for step in steps:
            log.info("plan %s: %s delivered via %s", plan.name, step.id, backend)
            self.store.record(now, HISTORY_KIND, "delivered", f"{plan.name} {step.id} via {backend}")

    def sync(self, now: datetime) -> None:
        """Set the one plan timer to the next step or the plan's end (now, if one is overdue)."""
        plan, running = self.plan, self.running
        if plan is None or running is None:
            self._set_timer(None)
            return
        since = running.last or running.started
        if (running.warned is None or timing.occurrences(plan, running, self.zone, since, now)
                or timing.finished(running, now)):
            self._set_timer(now)
            return
        upcoming = timing.next_time(plan, running, self.zone, max(since, now))
        self._set_timer(min(upcoming, running.ends) if upcoming is not None else running.ends)

    def shift(self, now: datetime, moved: timedelta) -> None:
        """The wall clock was set `moved`: every step keeps the time it had left, the end too."""
        running = self.running
        if running is None:
            return
        self.running = replace(running, started=running.started + moved, ends=running.ends + moved,
                               last=None if running.last is None else running.last + moved)
        log.info("plan %s moved with the clock change: now until %s", running.name,
                 f"{self.running.ends.astimezone(self.zone):%a %d %b %H:%M}")
        self._save_and_sync(now)

    def _save_and_sync(self, now: datetime) -> None:
        self.store.save_plan(None if self.running is None else self.running.to_json())
        self.sync(now)

    def status(self, now: datetime) -> dict[str, Any] | None:
        plan, running = self.plan, self.running
        if plan is None or running is None:
            return None
        upcoming = timing.occurrences(plan, running, self.zone, max(running.last or running.started, now),
                                      min(running.ends, now + timedelta(days=2)))
        return {"name": plan.name, "title": plan.title, "started": _iso(running.started), "ends": _iso(running.ends),
                "waking": running.waking, "options": dict(running.options),
                "next_due": _iso(upcoming[0][0]) if upcoming else None,
                "next_step": upcoming[0][1].id if upcoming else None}
