"""The plain data the Engine (policy.py) reads and the decisions it returns: specs, timing, each
kind's countdown state, and the outcomes (Deliver, Record) with their words for history and logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ergo.timing.worktime import WorkHours


ON_TIME = timedelta(seconds=1)  # a timer this late still counts as on time


def format_seconds(value: timedelta) -> str:
    """A short duration such as 2m or 0.5s, for the spacing in plain words."""
    seconds = value.total_seconds()
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds) // 60}m"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class ReminderSpec:
    """The settings of one enabled reminder that timing depends on."""

    kind: str
    interval: timedelta
    natural_break: timedelta | None
    hours: WorkHours


@dataclass(frozen=True)
class KindHold:
    """A running plan keeps one kind back from `start` to `end`; `why` says so in plain words."""

    start: datetime
    end: datetime
    why: str


@dataclass(frozen=True)
class Timing:
    """Global timing settings."""

    merge_window: timedelta = timedelta(minutes=2)
    quiet_after_resume: timedelta = timedelta(minutes=1)
    away_after: timedelta = timedelta(minutes=3)
    busy_after: timedelta = timedelta(minutes=1)  # after a call, full screen or meeting ends ([meetings] after)


@dataclass
class ReminderState:
    """Where one reminder's countdown stands."""

    anchor: datetime
    snoozed_until: datetime | None = None
    last_fired: datetime | None = None
    pending_since: datetime | None = None
    pending_reason: str | None = None
    after_hold: bool = False  # was held, the hold ended, delivery waits only for the spacing
    spaced: bool = False  # due with nothing holding it, kept back only by the spacing


@dataclass(frozen=True)
class Deliver:
    """Send one notification covering `kinds` (more than one means merged)."""

    kinds: tuple[str, ...]
    at: datetime
    requested: bool = False


@dataclass(frozen=True)
class Record:
    """Something worth keeping in history that is not a delivery."""

    kind: str
    event: Literal["natural_break", "skipped_stale", "skipped", "snoozed", "done"]
    at: datetime
    detail: str = ""
    ref: int | None = None  # the delivery (history id) this answers, when it answers one


Outcome = Deliver | Record

#: History events in the words `ergo history` and the log use.
EVENT_WORDS = {"skipped_stale": "skipped", "natural_break": "natural break", "skipped": "skipped", "snoozed": "snoozed",
               "delivered": "delivered"}


def event_words(event: str) -> str:
    """A history event as a person reads it (old names stay in the database for `--json`)."""
    return EVENT_WORDS.get(event, event.replace("_", " "))

HoldReason = Literal["paused", "asleep", "locked", "quiet after resume", "away", "do not disturb", "busy"]

#: Each hold in plain words, for history, logs and `ergo status`.
PLAIN_HOLD: dict[str, str] = {
    "paused": "ergo was paused",
    "asleep": "the computer was asleep",
    "locked": "the screen was locked",
    "quiet after resume": "in the quiet minute after a wake-up or unlock",
    "away": "you were away",
    "do not disturb": "do not disturb was on",
    "busy": "you were in a call, a meeting or full screen",
}


def stale_detail(reason: str | None) -> str:
    """Why a reminder was skipped, in words a person reads in history and the log."""
    because = PLAIN_HOLD.get(reason, reason) if reason else "it was held back"
    return f"held back longer than its interval ({because})"
