"""Answers and timed breaks: what the person said to a reminder, and the break counting down.

Buttons (done, snooze, skip, start a break) arrive on the answers thread; `ergo done/snooze/skip/
break` arrive from the control thread; the countdown ticks on APScheduler's thread. Each is
recorded against the delivery rows it answers and applied to the countdowns through the
daemon's `apply`, under the daemon's lock. The countdown's timing is pure code in ergo/timing/breaks.py.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any, Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from ergo.timing.breaks import TimedBreak, clock as break_clock, length_for, spoken, step as break_step
from ergo.timing.clock import Clock
from ergo.daemon.delivery import Deliverer
from ergo.errors import NotifyError
from ergo.i18n import _
from ergo.notify.base import Notification, Notifier
from ergo.timing.policy import Engine
from ergo.timing.decisions import Outcome
from ergo.daemon.state import Apply, BufferedStore
from ergo.records.store import Store

log = logging.getLogger("ergo")
BUTTON_SNOOZE = timedelta(minutes=10)
ANSWER_OF_ACTION = {"default": "done", "done": "done", "snooze": "snoozed", "skip": "skipped"}



@dataclass(frozen=True)
class _Unasked:
    """`ergo done KIND` with no reminder of that kind waiting: a break taken unprompted, answering nothing."""

    kind: str
    id: None = None


class Answers:
    """Records answers to deliveries and runs the timed break; the countdowns change only through `apply`."""

    def __init__(self, engine: Engine, clock: Clock, zone: tzinfo, lock: threading.RLock, scheduler: BackgroundScheduler,
                 store: Store | BufferedStore, notifier: Notifier, deliverer: Deliverer, apply: Apply) -> None:
        self.engine = engine
        self.clock = clock
        self.zone = zone
        self.lock = lock
        self.scheduler = scheduler
        self.store = store
        self.notifier = notifier
        self.deliverer = deliverer  # which notification holds which rows; the kinds' texts and break lengths
        self._apply = apply
        self.timed: TimedBreak | None = None  # the timed break counting down, if any
        self._break_notice: int | None = None  # the countdown notification's server id

    # --- buttons and commands -------------------------------------------------------

    def on_answer(self, answer: Any) -> None:
        """A button was pressed or a notification closed (answers thread)."""
        try:
            with self.lock:
                notices = self.deliverer.notices
                if answer.notification_id == self._break_notice and answer.closed == "dismissed":
                    self.stop_break(None)  # the countdown bubble closed: the break is off, nothing recorded
                    return
                rows = notices.get(answer.notification_id)
                if answer.notification_id == self._break_notice and answer.action == "stop":
                    rows = []
                if rows is None:
                    return  # not ours, or too old to matter
                if answer.action is None:
                    notices.pop(answer.notification_id, None)
                    if answer.closed == "dismissed":
                        now = self.clock.now()
                        for row in self.store.rows(rows):
                            if row.event == "delivered" and not self.store.answered(row.id):
                                self.store.record(now, row.kind, "dismissed", "closed without an answer", row.id)
                    return
                if answer.notification_id == self._break_notice and answer.action == "stop":
                    self.stop_break("button")
                    return
                if answer.action == "start":
                    notices.pop(answer.notification_id, None)
                    self.start_break(self.store.rows(rows), "button")
                    return
                verdict = ANSWER_OF_ACTION.get(answer.action)
                if verdict is None:
                    log.info("unknown notification action %r ignored", answer.action)
                    return
                notices.pop(answer.notification_id, None)
                waiting = [row for row in self.store.rows(rows) if not self.store.answered(row.id)]
                if waiting:  # `ergo done` may have answered it already: never twice
                    self.answer(waiting, verdict, "button", BUTTON_SNOOZE)
        except Exception:
            log.exception("answer %s failed", answer)

    def answer(self, rows: list[Any], verdict: str, via: str, snooze: timedelta | None = None) -> list[str]:
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

    def command(self, command: str, kind: str | None, until: datetime | None) -> dict[str, Any] | None:
        """`ergo done/snooze/skip [KIND]`: answer the open delivery (under the lock).

        An error answer, {"ok": True, "answered": kinds}, or None: "no open one: do the old thing".
        """
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
        kinds = self.answer(rows, verdict, "command", (until - now) if until else None)
        closer = self._closer()
        if closer is not None and kinds:
            closer("merged" if len(rows) > 1 else kinds[0])
        return {"ok": True, "answered": kinds}

    # --- timed breaks -----------------------------------------------------------------

    def break_command(self, kind: str) -> dict[str, Any]:
        """`ergo break KIND` (under the lock): count down a break for the open delivery, or for KIND unprompted."""
        rows = self.store.open_deliveries(kind) or [_Unasked(kind)]
        return self.start_break(rows, "command")

    def finish_early(self, kind: str | None) -> list[str] | None:
        """`ergo done [KIND]` during a timed break of that kind: the break counts as done; the kinds answered."""
        timed = self.timed
        if timed is None or not (kind is None or kind in timed.kinds):
            return None
        self.stop_break(None)
        self.answer(self._break_rows(timed), "done", "break")
        return list(timed.kinds)

    def start_break(self, rows: list[Any], via: str) -> dict[str, Any]:
        """Count a break down in the notification; at the end it is recorded as done (under the lock)."""
        kinds = tuple(dict.fromkeys(row.kind for row in rows))
        length = length_for(self.deliverer.durations(), kinds)
        if length is None:
            return {"ok": False, "error": f"{', '.join(kinds)} has no break duration (set {kinds[0]}.duration, e.g. 1m)"}
        if self.timed is not None:
            self.stop_break(None)
        closer = self._closer()
        if closer is not None:  # the reminder gives way to its countdown
            closer("merged" if len(kinds) > 1 else kinds[0])
        self.timed = TimedBreak(kinds, tuple(row.id for row in rows), self.clock.now(), length, "break")
        log.info("timed break started (%s, %s, via %s)", ", ".join(kinds), spoken(length, language="en"), via)
        self._break_tick(first=True)
        return {"ok": True}

    def _break_tick(self, first: bool = False) -> None:
        """Show the countdown, or finish the break (scheduler thread, or under the lock from start_break)."""
        try:
            with self.lock:
                timed = self.timed
                if timed is None:
                    return
                now = self.clock.now()
                tick = break_step(timed, now)
                texts = self.deliverer.texts
                # TRANSLATORS: the title of a timed break's countdown when its reminder has no title
                title = " · ".join(texts[k].title for k in timed.kinds if k in texts) or _("Break")
                if tick.finished:
                    self.timed = None
                    self.answer([row for row in self._break_rows(timed)], "done", "break")
                    # TRANSLATORS: the notification at the end of a timed break; title: "Stretch break"
                    self._send_quietly(Notification(timed.key, _("%(title)s: break done") % {"title": title},
                                                    _("Well done. Back to work when you are ready."),
                                                    "low", timedelta(seconds=10)))
                    self._break_notice = None
                    log.info("timed break finished (%s)", ", ".join(timed.kinds))
                    return
                live = self.notifier.name == "freedesktop"  # other backends cannot update in place
                if live or first:
                    lines = "; ".join(texts[k].break_words for k in timed.kinds if k in texts and texts[k].break_words)
                    # TRANSLATORS: a timed break's countdown title: "Stretch break: 0:41 left" (minutes:seconds)
                    heading = _("%(title)s: %(time)s left") % {"title": title, "time": break_clock(tick.remaining)}
                    self._send_quietly(Notification(
                        timed.key, heading, lines[:1].upper() + lines[1:], "low", tick.remaining + timedelta(seconds=5),
                        # TRANSLATORS: the button that ends a timed break early
                        actions=(("stop", _("Stop")),), progress=tick.progress))
                    self._break_notice = getattr(self.notifier, "last_id", None)
                self.scheduler.add_job(self._break_tick, DateTrigger(run_date=tick.next_at if live else timed.started + timed.length,
                                                                     timezone=timezone.utc), id="break", replace_existing=True)
        except Exception:
            log.exception("timed break update failed")

    def shift(self, moved: timedelta) -> None:
        """The wall clock was set `moved` (under the lock): the break keeps the time it had left."""
        if self.timed is None:
            return
        self.timed = replace(self.timed, started=self.timed.started + moved)
        left = break_step(self.timed, self.clock.now()).remaining
        log.info("timed break moved with the clock change (%s left)", spoken(left, language="en"))
        self._break_tick()

    def _break_rows(self, timed: TimedBreak) -> list[Any]:
        rows = self.store.rows([r for r in timed.refs if r is not None])
        answered = {row.kind for row in rows}
        return rows + [_Unasked(kind) for kind in timed.kinds if kind not in answered]

    def stop_break(self, via: str | None) -> None:
        """End a break before its time; with `via`, recorded as skipped."""
        timed, self.timed = self.timed, None
        if self.scheduler.get_job("break"):
            self.scheduler.remove_job("break")
        if timed is None:
            return
        log.info("timed break stopped (%s)", ", ".join(timed.kinds))
        if via is not None:
            self.answer(self._break_rows(timed), "skipped", via)
        closer = self._closer()
        if closer is not None and via is not None:
            closer(timed.key)
        self._break_notice = None

    def _closer(self) -> Callable[[str], Any] | None:
        """The desktop notifier's close-by-key, when the backend can take a notification back."""
        return getattr(getattr(self.notifier, "primary", None), "close_notification", None)

    def _send_quietly(self, notification: Notification) -> None:
        try:
            self.notifier.send(notification)
        except NotifyError as error:
            log.warning("break notification failed: %s", error)
