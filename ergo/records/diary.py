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

from ergo.i18n import N_, _, format_date, format_time

# The words are in the reader's language (ergo.i18n, set by the command); `ergo history --json` keeps English.
HOLD_WORDS = {
    # TRANSLATORS: why a reminder was held; each follows "because" in "held from 10:02 because %(reason)s, then
    # dropped" (German and Dutch: the verb at the end, "du nicht an der Tastatur warst")
    "away": N_("you were away from the keyboard"),
    "locked": N_("the screen was locked"),
    "asleep": N_("the computer was asleep"),
    "quiet after resume": N_("the computer had just woken up"),
    "do not disturb": N_("do not disturb was on"),
    "paused": N_("reminders were paused"),
    "late": N_("it could not be delivered in time"),
}
NATURAL_WORDS = {
    "idle": N_("away from the keyboard"), "locked": N_("screen locked"), "asleep": N_("computer asleep"),
    "daemon not running": N_("ergo was not running"), "clock jump or suspend": N_("computer asleep"),
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
        if same_day:
            return format_time(value)
        # TRANSLATORS: a day and a clock time, "Wed 09 Dec 10:08"
        return _("%(day)s %(time)s") % {"day": format_date(value, "%a %d %b", "EEEdMMM"), "time": format_time(value)}

    return ISO_TIME.sub(clock, text)


def _via(detail: str) -> str:
    match = VIA.search(detail)
    return match.group(1) if match else ""


def dropped_words(detail: str) -> str:
    """"held since 10:02 (away)" -> plain words about why a reminder was held and then dropped."""
    if detail.startswith("held back longer than its interval"):  # the engine's own plain words (issue 8)
        return _("skipped: %(reason)s") % {"reason": _(detail)}
    match = re.match(r"held since (\S+) \((.+)\)", detail)
    if not match:
        return _("held, then dropped (%(detail)s)") % {"detail": detail} if detail else _("held, then dropped")
    since, reason = match.groups()
    return _("held from %(since)s because %(reason)s, then dropped: it had waited longer than its interval") % {
        "since": since, "reason": _(HOLD_WORDS[reason]) if reason in HOLD_WORDS else reason}


def natural_words(detail: str) -> str:
    """"idle, 12 min" -> "away from the keyboard for 12 min"."""
    why, _comma, minutes = detail.partition(", ")
    where = _(NATURAL_WORDS[why]) if why in NATURAL_WORDS else why
    # TRANSLATORS: a natural break, "away from the keyboard for 12 min"
    return _("%(where)s for %(length)s") % {"where": where, "length": minutes} if minutes else where


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
            # TRANSLATORS: how a reminder was shown: "shown via freedesktop" (a backend's name)
            entry = Entry(row.at, row.kind, row.event, "reminder", "no answer",
                          detail=_("shown via %(backend)s") % {"backend": via} if via else "")
            pending.append(entry)
            by_delivery[row.id] = entry
            ids[id(entry)] = row.id
            open_by_kind[row.kind] = entry
        elif row.event in ANSWER_EVENTS:
            target = by_delivery.get(row.ref) if row.ref is not None else None
            answer = {"at": row.at.isoformat(), "event": row.event, "via": _via(row.detail), "detail": row.detail}
            if target is None:
                if row.ref is not None:
                    words = _("a late answer to an earlier reminder")
                else:
                    words = _("no reminder was waiting") if row.event == "done" else row.detail
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
            pending.append(Entry(row.at, row.kind, row.event, "failed", "failed", detail=_("could not be shown: %(reason)s") % {"reason": row.detail}))
        else:
            pending.append(Entry(row.at, row.kind, row.event, row.event.replace("_", " "), detail=row.detail))
    yield from pending


def describe(entry: Entry, clock: str = "%H:%M") -> str:
    """The words after the time and kind in `ergo history`."""
    text = _describe(entry, clock)
    return local_times(text, entry.at)


#: what became of a reminder, and how (`ergo history`)
OUTCOME_WORDS = {"done": N_("done"), "snoozed": N_("snoozed"), "skipped": N_("skipped"),
                 "dismissed": N_("closed without an answer")}
#: an answer with no reminder waiting
ANSWER_WORDS = {"done": N_("done"), "snoozed": N_("snoozed"), "skipped": N_("skipped"), "dismissed": N_("dismissed")}
HOW_WORDS = {"button": N_("with the button"), "command": N_("by command"), "break": N_("with a timed break"),
             "natural break": N_("by a natural break")}


def _describe(entry: Entry, clock: str) -> str:
    if entry.what == "reminder":
        if entry.outcome == "no answer":
            if entry.detail:
                return _("reminded, no answer (%(detail)s)") % {"detail": entry.detail}
            return _("reminded, no answer")
        words = [_(OUTCOME_WORDS[entry.outcome]) if entry.outcome in OUTCOME_WORDS else entry.outcome]
        if entry.via in HOW_WORDS:
            words.append(_(HOW_WORDS[entry.via]))
        if entry.answered_at:
            answered = entry.answered_at.astimezone()
            # TRANSLATORS: when a reminder was answered, "at 10:05"
            words.append(_("at %(time)s") % {"time": format_time(answered) if clock == "%H:%M" else f"{answered:{clock}}"})
        # TRANSLATORS: %(answer)s is what became of it, e.g. "done with the button at 10:05"
        text = _("reminded, %(answer)s") % {"answer": " ".join(words)}
        if entry.outcome == "snoozed":
            until = re.search(r"until (\S+)", entry.answers[-1]["detail"]) if entry.answers else None
            text += " " + _("(until %(time)s)") % {"time": until.group(1).rstrip(",")} if until else ""
        return text
    if entry.what == "natural break":
        return _("natural break: %(detail)s") % {"detail": entry.detail}
    if entry.what in ("dropped", "failed"):
        return _("failed: %(detail)s") % {"detail": entry.detail} if entry.what == "failed" else entry.detail
    if entry.what in ANSWER_EVENTS:
        detail = entry.detail
        old_command = detail in OLD_COMMAND_WORDS or (entry.what == "snoozed" and detail.startswith("until "))
        via = entry.via or ("command" if old_command else "")
        how = _(HOW_WORDS[via]) if via in HOW_WORDS and via != "natural break" else ""
        if entry.what == "skipped" and via == "command" and (detail in OLD_COMMAND_WORDS or detail == "via command"):
            return _("skipped by command before it was due: its countdown restarted")
        if detail in OLD_COMMAND_WORDS or detail == f"via {via}":
            detail = ""
        elif detail.startswith(f"via {via}, "):  # "via command, until ..." -> "until ..."
            detail = detail.removeprefix(f"via {via}, ")
        what = _(ANSWER_WORDS[entry.what]) if entry.what in ANSWER_WORDS else entry.what
        text = f"{what} {how}".strip()
        return _("%(what)s (%(detail)s)") % {"what": text, "detail": detail} if detail else text
    # anything else (plan started/stopped, interrupted...): one level of words, no brackets around brackets
    return f"{entry.what}" + (f": {entry.detail}" if entry.detail else "")
