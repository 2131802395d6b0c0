"""The timing-relevant part of the settings, as the plain data the Engine is built from."""

from __future__ import annotations

from datetime import tzinfo

from ergo.config.frozen import PlainSettings
from ergo.timing.decisions import ReminderSpec, Timing
from ergo.timing.worktime import WorkHours


def specs_from(settings: PlainSettings, zone: tzinfo) -> tuple[dict[str, ReminderSpec], Timing]:
    """The timing-relevant part of the settings, as plain data for the Engine."""
    specs = {}
    for kind, reminder in settings.enabled_reminders().items():
        hours = WorkHours.parse(reminder.days or settings.schedule.days, reminder.hours or settings.schedule.hours, zone)
        specs[kind] = ReminderSpec(kind, reminder.interval, reminder.natural_break, hours)
    timing = Timing(settings.merge_window, settings.quiet_after_resume, settings.idle.away_after, settings.meetings.after)
    return specs, timing
