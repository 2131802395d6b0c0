"""Timers and delivery: when the Engine is asked again, and how a Deliver decision reaches the person.

`Timers` keeps APScheduler's jobs in step with the Engine (one interval job per reminder, one
wake-up job). `Deliverer` turns a Deliver into a notification with buttons, settles its history
rows and remembers which notification carries which rows, so a button press can answer them.
Both run under the daemon's lock.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from ergo.timing.breaks import length_for, spoken, words as break_words
from ergo.tips.compose import KindText, compose, kind_texts
from ergo.config.frozen import PlainSettings
from ergo.daemon.state import StateKeeper
from ergo.errors import NotifyError
from ergo.notify.base import Notification, Notifier
from ergo.timing.policy import Engine
from ergo.timing.decisions import Deliver
from ergo.timing.worktime import WorkHours
from ergo import i18n
from ergo.i18n import N_, _
from ergo.tips import is_evening, load_catalog, localized
from ergo.daemon.triggers import CatchUpIntervalTrigger

log = logging.getLogger("ergo")
# "default" is a click on the bubble: no label, or xfce4-notifyd draws a second "Done" button (ergo.notify.buttons)
# The labels are translated when a reminder is sent (ergo.i18n: the daemon's language).
# TRANSLATORS: a notification's buttons: Done, "Snooze 10 min" (answer again in 10 minutes), Skip; short as can be
ACTIONS = (("default", ""), ("done", N_("Done")), ("snooze", N_("Snooze 10 min")), ("skip", N_("Skip")))
# TRANSLATORS: the Snooze button where a row of buttons is narrow
SHORT_LABELS = (("snooze", N_("Snooze")),)
MAX_NOTICES = 64  # notifications whose buttons we still answer


class Timers:
    """APScheduler's jobs, made to match the Engine after every change."""

    def __init__(self, engine: Engine, scheduler: BackgroundScheduler, fire: Callable[[], None]) -> None:
        self.engine = engine
        self.scheduler = scheduler
        self._fire = fire  # what a reminder job or the wake-up job runs (the daemon's on_timer)
        self._job_keys: dict[str, tuple[datetime, timedelta]] = {}

    def forget(self) -> None:
        """Holds or the clock changed: the next sync rebuilds every reminder job."""
        self._job_keys.clear()

    def sync(self, now: datetime) -> None:
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
                    self._fire, CatchUpIntervalTrigger(seconds=spec.interval.total_seconds(), start_date=due, timezone=timezone.utc),
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
            self.scheduler.add_job(self._fire, DateTrigger(run_date=wake, timezone=timezone.utc), id="wake", replace_existing=True)
        elif self.scheduler.get_job("wake"):
            self.scheduler.remove_job("wake")


class Deliverer:
    """Composes and sends reminders, settles their history rows, and remembers which notification holds them."""

    def __init__(self, notifier: Notifier, state: StateKeeper, settings: Callable[[], PlainSettings],
                 plan_note: Callable[[str], str], hours: Callable[[str], WorkHours | None]) -> None:
        self.notifier = notifier
        self.state = state
        self._settings = settings  # the current settings (a reload replaces them)
        self._plan_note = plan_note  # what a running plan adds to a kind's reminders (kind -> note or "")
        self._hours = hours  # a kind's work hours (evening tips come near their end)
        self._catalog = load_catalog()
        self.texts = self.texts_from(settings())
        self._shown = state.store.shown_tips()
        self.notices: dict[int, list[int]] = {}  # server notification id -> its delivery rows in history

    def texts_from(self, settings: PlainSettings) -> dict[str, KindText]:
        """Each kind's title, messages and break words, with the tip catalog: rebuilt at every reload, in the
        language the settings ask for (ergo.i18n; the process's language for plan steps too)."""
        i18n.use(settings.language)
        gettext = i18n.translator()
        catalog = localized(self._catalog, gettext)
        return {
            kind: kind_texts(kind, r.title and gettext(r.title), list(r.messages), catalog,
                             break_words(kind, r.duration) if r.duration else "")
            for kind, r in settings.reminders().items()
        }

    def durations(self) -> dict[str, timedelta | None]:
        """Each kind's timed-break length, if it has one."""
        return {kind: r.duration for kind, r in self._settings().reminders().items()}

    def deliver(self, decision: Deliver, row_ids: list[int | None]) -> None:
        """Send one (maybe merged) reminder; its "sending" rows become delivered or failed."""
        evening = any(is_evening(h, decision.at) for h in map(self._hours, decision.kinds) if h is not None)
        message, self._shown = compose(decision.kinds, self.texts, self._shown, evening=evening)
        notes = [note for kind in decision.kinds if (note := self._plan_note(kind))]
        if notes:  # a running plan (acute-back) asks for care: only as far as the pain allows
            message = replace(message, body="\n".join([message.body, *dict.fromkeys(notes)]))
        self.state.call(self.state.store.save_shown_tips, self._shown)
        settings = self._settings()
        urgency = max((settings.reminders()[k].urgency for k in decision.kinds), key=("low", "normal", "critical").index)
        actions = tuple((key, _(label)) for key, label in ACTIONS)
        short = tuple((key, _(label)) for key, label in SHORT_LABELS)
        length = length_for(self.durations(), decision.kinds)
        if length is not None:
            # TRANSLATORS: a button that starts a timed break; duration: "1 minute", "1 minute 30 seconds"
            actions += (("start", _("Start %(duration)s break") % {"duration": spoken(length)}),)
            # TRANSLATORS: the same button where a row of buttons is narrow; duration: "1 min", "1 min 30 s"
            short += (("start", _("%(duration)s break") % {"duration": spoken(length, short=True)}),)
        notification = Notification(message.key, message.title, message.body, urgency, settings.expire, actions=actions,
                                    short_labels=short)
        backend = self.notifier.name
        failure = ""
        try:
            self.notifier.send(notification)
        except NotifyError as error:  # FallbackNotifier normally absorbs this; belt and braces
            log.error("delivery failed: %s", error)
            backend, failure = "failed", str(error)
        last_error = getattr(self.notifier, "last_error", None)
        if last_error:
            backend = "console (fallback)"
        merged = f" [merged with {len(decision.kinds) - 1} more]" if len(decision.kinds) > 1 else ""
        rows: list[int] = []
        for kind, row_id in zip(decision.kinds, row_ids):
            tip = message.tips.get(kind, "-")
            event, detail = ("failed", failure) if failure else ("delivered", f"via {backend}, tip {tip}{merged}")
            if not failure:  # printed by the console notifier already: in a terminal the line goes to the log file only
                log.info("reminder %s delivered via %s (tip %s)%s", kind, backend, tip, merged,
                         extra={"on_stdout": backend.startswith("console")})
            if row_id is not None:  # the "sending" row (saved, or waiting in memory) says what became of it
                self.state.settle(row_id, event, detail)
            else:
                row_id = self.state.record(decision.at, kind, event, detail)
            if not failure:
                rows.append(row_id)
        notice = getattr(self.notifier, "last_id", None)
        if notice and not failure:
            self.notices[notice] = rows  # a replaced notification keeps its id: the newest rows win
            while len(self.notices) > MAX_NOTICES:
                self.notices.pop(next(iter(self.notices)))
