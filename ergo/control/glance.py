"""What a status bar or a tray icon shows, computed from a `status --json` object: pure, no I/O.

One `Glance` (short text, tooltip, state class, percentage of the next
reminder's interval gone) feeds every format: waybar's JSON, a plain line for
polybar/i3blocks/tmux, and the tray's icon and tooltip. The clock is the
status's own `now`, so the same status always renders the same way.

The words are in the process's language (ergo.i18n); a client makes it the one the
status asks for with `speak(status)`: the config's `language` when set, else the
client's own environment (ergo.i18n.for_client). English loads neither gettext nor Babel.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ergo import i18n
from ergo.commands.words import clock, day_clock, hold as hold_words
from ergo.i18n import N_, _
from ergo.safetext import printable

DUE_SOON_SECONDS = 120  # class "due-soon" this close to the next reminder
FORMATS = ("json", "waybar", "plain")


@dataclass(frozen=True)
class Glance:
    """The glanceable state: `state` is one of running, due-soon, paused, held, stopped, refused (ergo runs
    but will not stream to this follower, or the socket is not one to believe)."""

    text: str
    tooltip: str
    state: str
    percentage: int
    next_kind: str | None = None


def speak(status: dict[str, Any] | None) -> None:
    """Speak the language this status asks for (its daemon's configured `language`, else this process's
    environment): a client calls it before it shows a status (ergo.i18n.for_client)."""
    i18n.use(i18n.for_client(status.get("language") if isinstance(status, dict) else None))


def minutes_text(seconds: float) -> str:
    """'12 min', '1 h 5 min', 'now': whole minutes rounded up, so a countdown never shows 0 early."""
    if seconds <= 0:
        # TRANSLATORS: how long until a reminder, in a status bar: none left
        return _("now")
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        # TRANSLATORS: how long until a reminder, in a status bar, abbreviated: "12 min"
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, rest = divmod(minutes, 60)
    if rest:
        # TRANSLATORS: how long until a reminder, in a status bar, abbreviated: "1 h 5 min"
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest}
    # TRANSLATORS: how long until a reminder, in a status bar, abbreviated: "2 h"
    return _("%(hours)d h") % {"hours": hours}


def _at(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def _clock(value: datetime) -> str:
    """"14:05", in the locale's format."""
    return clock(value.timestamp())


def _day_clock(value: datetime) -> str:
    """"Wed 14:05", in the locale's format ("Mi., 14:05")."""
    return day_clock(value.timestamp())


#: the daemon's short refusals (ergo.control.stream), in the bar as "ergo: REASON"
REFUSALS = {"too many followers": N_("too many followers"), "not your daemon": N_("not your daemon")}


def clean(value: Any, depth: int = 0) -> Any:
    """What a daemon sent, made safe to show: every string masked for the terminal (ergo.safetext.printable),
    NaN and infinities None, `reminders` a table of tables; nothing deeper than 8 levels."""
    if depth > 8:
        return None
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, dict):
        cleaned = {printable(k): clean(v, depth + 1) for k, v in value.items()}
        if depth == 0 and "reminders" in cleaned:
            reminders = cleaned["reminders"]
            cleaned["reminders"] = {k: v for k, v in reminders.items() if isinstance(v, dict)} \
                if isinstance(reminders, dict) else {}
        return cleaned
    if isinstance(value, list):
        return [clean(v, depth + 1) for v in value]
    return None


def glance(status: dict[str, Any] | None) -> Glance:
    """The glance for a status object; None or {"running": false} means the daemon is not running.
    A status with a field of the wrong type or form gives "ergo ?", never an exception."""
    if status and status.get("refused"):  # ergo.control.stream: the daemon runs, but not for this follower
        reason = printable(status["refused"])
        # TRANSLATORS: in a status bar, ergo runs but does not show its status here; reason: "too many followers"
        return Glance(_("ergo: %(reason)s") % {"reason": _(REFUSALS.get(reason, reason))},
                      printable(status.get("detail") or status["refused"]), "refused", 0)
    try:
        return _glance(status)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, IndexError):
        return Glance("ergo ?", _("ergo sent a status this version cannot read"), "stopped", 0)


def _glance(status: dict[str, Any] | None) -> Glance:
    if not status or not status.get("running"):
        # TRANSLATORS: a status bar's text when ergo does not run; keep "ergo" first (the tray's title)
        return Glance(_("ergo off"), _("ergo is not running (start it with `ergo start`)"), "stopped", 0)
    if "now" not in status or "reminders" not in status:
        return Glance("ergo ?", _("ergo answered oddly: %(error)s") % {"error": status.get("error", "no status")},
                      "stopped", 0)
    now = datetime.fromisoformat(status["now"])
    lines: list[str] = []
    soonest: tuple[float, str, float] | None = None  # (seconds left, kind, interval seconds)
    for kind, entry in status["reminders"].items():
        if not entry.get("enabled"):
            continue
        due = _at(entry.get("next_due"))
        held = entry.get("held")
        if held == "outside hours":
            resumes = _at(entry.get("resumes_at"))
            # TRANSLATORS: a tooltip line; kind: "posture" (as in the config); time: "Wed 09:00"
            lines.append(_("%(kind)s: outside work hours until %(time)s") % {"kind": kind, "time": _day_clock(resumes)}
                         if resumes else _("%(kind)s: outside work hours") % {"kind": kind})
            continue
        if held == "snoozed":
            snoozed = _at(entry.get("snoozed_until"))
            lines.append(_("%(kind)s: snoozed until %(time)s") % {"kind": kind, "time": _clock(snoozed)}
                         if snoozed else _("%(kind)s: snoozed") % {"kind": kind})
        elif held == "plan":  # the running plan holds or replaces this kind
            resumes = _at(entry.get("resumes_at"))
            lines.append(_("%(kind)s: held by the plan until %(time)s") % {"kind": kind, "time": _day_clock(resumes)}
                         if resumes else _("%(kind)s: held by the plan") % {"kind": kind})
        elif held and held != "paused":
            # TRANSLATORS: a tooltip line; reason: "away", "locked", "do not disturb"
            lines.append(_("%(kind)s: held (%(reason)s)") % {"kind": kind, "reason": hold_words(held)})
        elif due is not None:
            left = (due - now).total_seconds()
            # TRANSLATORS: a tooltip line: "posture in 12 min (14:05)"; "posture due (14:05)" when it is time
            lines.append(_("%(kind)s in %(left)s (%(time)s)") % {"kind": kind, "left": minutes_text(left),
                                                                 "time": _clock(due)}
                         if left > 0 else _("%(kind)s due (%(time)s)") % {"kind": kind, "time": _clock(due)})
        if due is not None and held in (None, "snoozed"):
            left = (due - now).total_seconds()
            if soonest is None or left < soonest[0]:
                soonest = (left, kind, float(entry.get("interval_seconds") or 0))
    if status.get("paused"):
        until = _at(status.get("paused_until"))
        # TRANSLATORS: a status bar's text: "paused 25 min" (how long the pause still lasts)
        text = _("paused %(left)s") % {"left": minutes_text((until - now).total_seconds())} if until else _("paused")
        tip = _("paused until %(time)s") % {"time": _clock(until)} if until else _("paused until `ergo resume`")
        return Glance(text, "\n".join([tip, *lines]), "paused", 0)
    hold = status.get("hold")
    percentage = 0
    if soonest is not None and soonest[2] > 0:
        percentage = max(0, min(100, round(100 * (1 - soonest[0] / soonest[2]))))
    if hold:
        # the daemon's own busy reason ("in a call (microphone in use by firefox)") stays as it sent it
        why = str(status["busy"]) if hold == "busy" and status.get("busy") else hold_words(hold)
        # TRANSLATORS: a status bar's text when reminders wait: "held: away"
        return Glance(_("held: %(reason)s") % {"reason": hold_words(hold)},
                      "\n".join([_("reminders held: %(reason)s") % {"reason": why}, *lines]), "held", percentage)
    if soonest is None:
        # TRANSLATORS: a status bar's text when no reminder is counting down; keep "ergo" first
        return Glance(_("ergo idle"), "\n".join(lines or [_("no reminder is due during work hours")]), "running", 0)
    left, kind, _interval = soonest
    # TRANSLATORS: a status bar's text: "posture due", "posture in 12 min" (kind as in the config)
    text = (_("%(kind)s due") % {"kind": kind} if left <= 0
            else _("%(kind)s in %(left)s") % {"kind": kind, "left": minutes_text(left)})
    state = "due-soon" if left <= DUE_SOON_SECONDS else "running"
    return Glance(text, "\n".join(lines), state, percentage, kind)


def render(status: dict[str, Any] | None, fmt: str) -> str:
    """One line in `fmt`: json (the status object), waybar (return-type json) or plain (the short text)."""
    if fmt == "json":
        if status and status.get("refused"):
            return json.dumps({"refused": status["refused"], "detail": status.get("detail")}, separators=(",", ":"))
        return json.dumps(status if status and status.get("running") else {"running": False}, separators=(",", ":"))
    speak(status)
    view = glance(status)
    if fmt == "waybar":
        return json.dumps({"text": view.text, "tooltip": view.tooltip, "class": view.state, "alt": view.state,
                           "percentage": view.percentage}, separators=(",", ":"))
    return view.text
