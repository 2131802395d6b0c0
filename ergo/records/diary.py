"""`ergo history` as a diary: each reminder and what became of it, from the raw history rows.

Pure: plain rows in, plain entries out, no clock and no I/O (like ergo/timing/policy.py).
An answer row points at the delivery it answers (`ref`); a natural break with no
ref answers the latest unanswered delivery of its kind.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

HOLD_WORDS = {
    "away": "you were away from the keyboard",
    "locked": "the screen was locked",
    "asleep": "the computer was asleep",
    "quiet after resume": "the computer had just woken up",
    "do not disturb": "do not disturb was on",
    "paused": "reminders were paused",
    "late": "it could not be delivered in time",
}
ANSWER_EVENTS = ("done", "snoozed", "skipped", "dismissed")
#: how long after a reminder its answer is still folded into it when the diary streams (ergo's choice:
#: a notification left on screen overnight is still answered; memory holds at most this much history)
HORIZON = timedelta(days=2)
VIA = re.compile(r"via (\w+)")
#: an ISO 8601 time as the daemon stores it in a detail ("until 2026-12-02T10:08:24+00:00")
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[+-]\d\d:\d\d|Z)?")
#: what older versions wrote for an answer given by command (now "via command")
OLD_COMMAND_WORDS = ("you asked (ergo skip)",)


class Row(Protocol):
    """What the diary reads from one history row (ergo.records.store.HistoryRow fits)."""

    id: int
    at: datetime
    kind: str
    event: str
    detail: str
    ref: int | None


@dataclass
class Entry:
    """One line of the diary: a reminder (with what became of it) or a thing that happened by itself."""

    at: datetime
    kind: str
    event: str  # the history event this entry starts from: delivered, natural_break, skipped_stale, failed, done...
    what: str  # "reminder", "natural break", "dropped", "failed", or an answer with no reminder waiting
    outcome: str = ""  # for a reminder: done, snoozed, skipped, dismissed, natural break, or "no answer"
    via: str = ""  # button, command, break, natural break
    detail: str = ""  # plain words
    answered_at: datetime | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "kind": self.kind, "event": self.event, "what": self.what, "outcome": self.outcome,
                "via": self.via, "detail": self.detail,
                "answered_at": self.answered_at.isoformat() if self.answered_at else None, "answers": self.answers}


def local_times(text: str, day: datetime | None = None) -> str:
    """Every ISO time in `text` as local clock time: "10:08", or "Wed 09 Dec 10:08" on another day than `day`."""
    def clock(match: re.Match[str]) -> str:
        try:
            value = datetime.fromisoformat(match.group(0).replace("Z", "+00:00")).astimezone()
        except ValueError:
            return match.group(0)
        same_day = day is not None and value.date() == day.astimezone().date()
        return f"{value:%H:%M}" if same_day else f"{value:%a %d %b %H:%M}"

    return ISO_TIME.sub(clock, text)


def _via(detail: str) -> str:
    match = VIA.search(detail)
    return match.group(1) if match else ""


def dropped_words(detail: str) -> str:
    """"held since 10:02 (away)" -> plain words about why a reminder was held and then dropped."""
    if detail.startswith("held back longer than its interval"):  # the engine's own plain words (issue 8)
        return f"skipped: {detail}"
    match = re.match(r"held since (\S+) \((.+)\)", detail)
    if not match:
        return f"held, then dropped ({detail})" if detail else "held, then dropped"
    since, reason = match.groups()
    return (f"held from {since} because {HOLD_WORDS.get(reason, reason)}, then dropped: "
            "it had waited longer than its interval")


def natural_words(detail: str) -> str:
    """"idle, 12 min" -> "away from the keyboard for 12 min"."""
    why, _, minutes = detail.partition(", ")
    where = {"idle": "away from the keyboard", "locked": "screen locked", "asleep": "computer asleep",
             "daemon not running": "ergo was not running", "clock jump or suspend": "computer asleep"}.get(why, why)
    return f"{where} for {minutes}" if minutes else where


def diary(rows: Iterable[Row]) -> list[Entry]:
    """Entries in time order; answers are folded into the reminder they answer."""
    return list(diary_stream(rows))


def diary_stream(rows: Iterable[Row], horizon: timedelta = HORIZON) -> Iterator[Entry]:
    """`diary` one entry at a time, for years of history in flat memory (`ergo history --json`).

    An entry is given out once the rows have moved `horizon` past it: no answer, natural break or
    stale skip that late can still change it. An answer later than that (a notification left on
    screen for days) is listed on its own line, as a late answer.
    """
    pending: deque[Entry] = deque()
    by_delivery: dict[int, Entry] = {}
    open_by_kind: dict[str, Entry] = {}
    ids: dict[int, int] = {}  # id(entry) -> its delivery row id, to forget it once given out

    for row in rows:
        while pending and pending[0].at < row.at - horizon:
            done = pending.popleft()
            row_id = ids.pop(id(done), None)
            if row_id is not None:
                by_delivery.pop(row_id, None)
            if open_by_kind.get(done.kind) is done:
                del open_by_kind[done.kind]
            yield done
        if row.event == "delivered":
            via = _via(row.detail)
            entry = Entry(row.at, row.kind, row.event, "reminder", "no answer", detail=f"shown via {via}" if via else "")
            pending.append(entry)
            by_delivery[row.id] = entry
            ids[id(entry)] = row.id
            open_by_kind[row.kind] = entry
        elif row.event in ANSWER_EVENTS:
            target = by_delivery.get(row.ref) if row.ref is not None else None
            answer = {"at": row.at.isoformat(), "event": row.event, "via": _via(row.detail), "detail": row.detail}
            if target is None:
                if row.ref is not None:
                    words = "a late answer to an earlier reminder"
                else:
                    words = "no reminder was waiting" if row.event == "done" else row.detail
                pending.append(Entry(row.at, row.kind, row.event, row.event, row.event, _via(row.detail), words, row.at, [answer]))
                if row.event != "dismissed":
                    open_by_kind.pop(row.kind, None)
                continue
            target.answers.append(answer)
            if row.event == "dismissed" and target.outcome != "no answer":
                continue  # closing the bubble after pressing a button says nothing new
            target.outcome, target.via, target.answered_at = row.event, _via(row.detail), row.at
            if row.event != "dismissed":
                open_by_kind.pop(row.kind, None)
        elif row.event == "natural_break":
            words = natural_words(row.detail)
            pending.append(Entry(row.at, row.kind, row.event, "natural break", "done", "natural break", words))
            waiting = open_by_kind.pop(row.kind, None)
            if waiting is not None and waiting.outcome in ("no answer", "dismissed", "snoozed"):
                waiting.outcome, waiting.via, waiting.answered_at = "done", "natural break", row.at
        elif row.event == "skipped_stale":
            pending.append(Entry(row.at, row.kind, row.event, "dropped", "dropped", detail=dropped_words(row.detail)))
            open_by_kind.pop(row.kind, None)
        elif row.event == "failed":
            pending.append(Entry(row.at, row.kind, row.event, "failed", "failed", detail=f"could not be shown: {row.detail}"))
        else:
            pending.append(Entry(row.at, row.kind, row.event, row.event.replace("_", " "), detail=row.detail))
    yield from pending


def describe(entry: Entry, clock: str = "%H:%M") -> str:
    """The words after the time and kind in `ergo history`."""
    text = _describe(entry, clock)
    return local_times(text, entry.at)


def _describe(entry: Entry, clock: str) -> str:
    if entry.what == "reminder":
        if entry.outcome == "no answer":
            return "reminded, no answer" + (f" ({entry.detail})" if entry.detail else "")
        when = f" at {entry.answered_at.astimezone():{clock}}" if entry.answered_at else ""
        how = {"button": " with the button", "command": " by command", "break": " with a timed break",
               "natural break": " by a natural break"}.get(entry.via, "")
        words = {"done": "done", "snoozed": "snoozed", "skipped": "skipped", "dismissed": "closed without an answer"}
        text = f"reminded, {words.get(entry.outcome, entry.outcome)}{how}{when}"
        if entry.outcome == "snoozed":
            until = re.search(r"until (\S+)", entry.answers[-1]["detail"]) if entry.answers else None
            text += f" (until {until.group(1).rstrip(',')})" if until else ""
        return text
    if entry.what == "natural break":
        return f"natural break: {entry.detail}"
    if entry.what in ("dropped", "failed"):
        return f"{entry.what}: {entry.detail}" if entry.what == "failed" else entry.detail
    if entry.what in ANSWER_EVENTS:
        detail = entry.detail
        old_command = detail in OLD_COMMAND_WORDS or (entry.what == "snoozed" and detail.startswith("until "))
        via = entry.via or ("command" if old_command else "")
        how = {"button": "with the button", "command": "by command", "break": "with a timed break"}.get(via, "")
        if entry.what == "skipped" and via == "command" and (detail in OLD_COMMAND_WORDS or detail == "via command"):
            return "skipped by command before it was due: its countdown restarted"
        if detail in OLD_COMMAND_WORDS or detail == f"via {via}":
            detail = ""
        elif detail.startswith(f"via {via}, "):  # "via command, until ..." -> "until ..."
            detail = detail.removeprefix(f"via {via}, ")
        return f"{entry.what} {how}".strip() + (f" ({detail})" if detail else "")
    # anything else (plan started/stopped, interrupted...): one level of words, no brackets around brackets
    return f"{entry.what}" + (f": {entry.detail}" if entry.detail else "")
