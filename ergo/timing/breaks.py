"""Timed breaks: what the countdown shows and when it updates, as pure decisions over plain data.

A break started with the Start button or `ergo break KIND` counts down in the
notification (updated in place, at most once a second) and, when it ends, is
recorded as done. Nothing here reads a clock or does I/O (like ergo/timing/policy.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from ergo.i18n import N_, gettext, translation

STEP = timedelta(seconds=1)  # the fastest the countdown may update

WORDS = {  # what the break is, said in the reminder's text (general ergonomics practice, not from the documents)
    # TRANSLATORS: the line under a reminder's tip, lower case (it is also shown in parentheses); duration: "1 minute"
    "stretch": N_("stretch for %(duration)s"),
    "movement": N_("walk for %(duration)s"),
    "breathing": N_("breathe slowly for %(duration)s"),
    "posture": N_("reset your posture for %(duration)s"),
    "hydration": N_("fetch a glass of water, %(duration)s"),
    "workspace": N_("adjust your workspace for %(duration)s"),
    "strength": N_("take %(duration)s for core exercises"),
}
OTHER_WORDS = N_("take %(duration)s for it")


@dataclass(frozen=True)
class TimedBreak:
    """A running break: which reminders it answers (their delivery ids, None when none was waiting)."""

    kinds: tuple[str, ...]
    refs: tuple[int | None, ...]
    started: datetime
    length: timedelta
    key: str  # the notification it counts down in (replaced in place)


@dataclass(frozen=True)
class Tick:
    """What to show now, and when to look again (None once finished)."""

    remaining: timedelta
    progress: int  # percent of the break done, for the "value" hint
    finished: bool
    next_at: datetime | None


def spoken(duration: timedelta, *, short: bool = False, language: str | None = None) -> str:
    """"1 minute", "3 minutes", "90 seconds", "1 minute 30 seconds"; short: "1 min", "90 s", "1 min 30 s".
    In the process's language (ergo.i18n), or `language` ("en" for the log)."""
    said = translation(language)
    seconds = int(duration.total_seconds())
    minutes, rest = divmod(seconds, 60)
    if short:
        # TRANSLATORS: minutes, abbreviated as short as the language allows ("1 min 30 s" on a narrow button)
        minute_part = said.gettext("%(count)d min") % {"count": minutes} if minutes else ""
        # TRANSLATORS: seconds, abbreviated as short as the language allows ("1 min 30 s" on a narrow button)
        second_part = said.gettext("%(count)d s") % {"count": rest} if rest or not minutes else ""
        return " ".join(part for part in (minute_part, second_part) if part)
    second_words = said.ngettext("%(count)d second", "%(count)d seconds", rest) % {"count": rest}
    if minutes == 0:
        return second_words
    minute_words = said.ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    if not rest:
        return minute_words
    # TRANSLATORS: a break's length: "1 minute 30 seconds"
    return said.gettext("%(minutes)s %(seconds)s") % {"minutes": minute_words, "seconds": second_words}


def words(kind: str, duration: timedelta) -> str:
    """"walk for 3 minutes": the break as the reminder's text says it, in the process's language."""
    return gettext(WORDS.get(kind, OTHER_WORDS)) % {"duration": spoken(duration)}


def step(timed: TimedBreak, now: datetime) -> Tick:
    """The countdown at `now`: updates fall on whole seconds from the start, so at most one a second."""
    elapsed = now - timed.started
    if elapsed >= timed.length:
        return Tick(timedelta(0), 100, True, None)
    elapsed = max(elapsed, timedelta(0))
    progress = int(elapsed / timed.length * 100)  # below 100 until the end: elapsed < length here
    steps_done = math.floor(elapsed / STEP) + 1
    next_at = min(timed.started + steps_done * STEP, timed.started + timed.length)
    remaining = timed.length - elapsed
    return Tick(remaining, progress, False, next_at)


def clock(remaining: timedelta) -> str:
    """"2:41" (rounded up, so the last second shows 0:01, not 0:00)."""
    seconds = math.ceil(remaining.total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"


def length_for(durations: dict[str, timedelta | None], kinds: tuple[str, ...]) -> timedelta | None:
    """A merged reminder's break lasts as long as its longest part; None when no kind has a duration."""
    found = [d for k in kinds if (d := durations.get(k)) is not None]
    return max(found) if found else None
