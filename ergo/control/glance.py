"""What a status bar or a tray icon shows, computed from a `status --json` object: pure, no I/O.

One `Glance` (short text, tooltip, state class, percentage of the next
reminder's interval gone) feeds every format: waybar's JSON, a plain line for
polybar/i3blocks/tmux, and the tray's icon and tooltip. The clock is the
status's own `now`, so the same status always renders the same way.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


def minutes_text(seconds: float) -> str:
    """'12 min', '1 h 5 min', 'now': whole minutes rounded up, so a countdown never shows 0 early."""
    if seconds <= 0:
        return "now"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _at(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def _clock(value: datetime) -> str:
    return value.astimezone().strftime("%H:%M")


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
        return Glance(f"ergo: {printable(status['refused'])}", printable(status.get("detail") or status["refused"]),
                      "refused", 0)
    try:
        return _glance(status)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, IndexError):
        return Glance("ergo ?", "ergo sent a status this version cannot read", "stopped", 0)


def _glance(status: dict[str, Any] | None) -> Glance:
    if not status or not status.get("running"):
        return Glance("ergo off", "ergo is not running (start it with `ergo start`)", "stopped", 0)
    if "now" not in status or "reminders" not in status:
        return Glance("ergo ?", f"ergo answered oddly: {status.get('error', 'no status')}", "stopped", 0)
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
            lines.append(f"{kind}: outside work hours" + (f" until {resumes.astimezone().strftime('%a %H:%M')}" if resumes else ""))
            continue
        if held == "snoozed":
            snoozed = _at(entry.get("snoozed_until"))
            lines.append(f"{kind}: snoozed" + (f" until {_clock(snoozed)}" if snoozed else ""))
        elif held == "plan":  # the running plan holds or replaces this kind
            resumes = _at(entry.get("resumes_at"))
            lines.append(f"{kind}: held by the plan" + (f" until {resumes.astimezone().strftime('%a %H:%M')}" if resumes else ""))
        elif held and held != "paused":
            lines.append(f"{kind}: held ({held})")
        elif due is not None:
            left = (due - now).total_seconds()
            lines.append(f"{kind} in {minutes_text(left)} ({_clock(due)})")
        if due is not None and held in (None, "snoozed"):
            left = (due - now).total_seconds()
            if soonest is None or left < soonest[0]:
                soonest = (left, kind, float(entry.get("interval_seconds") or 0))
    if status.get("paused"):
        until = _at(status.get("paused_until"))
        text = f"paused {minutes_text((until - now).total_seconds())}" if until else "paused"
        tip = f"paused until {_clock(until)}" if until else "paused until `ergo resume`"
        return Glance(text, "\n".join([tip, *lines]), "paused", 0)
    hold = status.get("hold")
    percentage = 0
    if soonest is not None and soonest[2] > 0:
        percentage = max(0, min(100, round(100 * (1 - soonest[0] / soonest[2]))))
    if hold:
        why = str(status["busy"]) if hold == "busy" and status.get("busy") else hold  # "in a call (...)"
        return Glance(f"held: {hold}", "\n".join([f"reminders held: {why}", *lines]), "held", percentage)
    if soonest is None:
        return Glance("ergo idle", "\n".join(lines or ["no reminder is due during work hours"]), "running", 0)
    left, kind, _interval = soonest
    text = f"{kind} {'due' if left <= 0 else 'in ' + minutes_text(left)}"
    state = "due-soon" if left <= DUE_SOON_SECONDS else "running"
    return Glance(text, "\n".join(lines), state, percentage, kind)


def render(status: dict[str, Any] | None, fmt: str) -> str:
    """One line in `fmt`: json (the status object), waybar (return-type json) or plain (the short text)."""
    if fmt == "json":
        if status and status.get("refused"):
            return json.dumps({"refused": status["refused"], "detail": status.get("detail")}, separators=(",", ":"))
        return json.dumps(status if status and status.get("running") else {"running": False}, separators=(",", ":"))
    view = glance(status)
    if fmt == "waybar":
        return json.dumps({"text": view.text, "tooltip": view.tooltip, "class": view.state, "alt": view.state,
                           "percentage": view.percentage}, separators=(",", ":"))
    return view.text
