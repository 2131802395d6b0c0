"""Control commands for the running daemon: status, pause, resume, done, snooze, skip, now, reload, stop.

Standard library plus ergo's light modules only: no apscheduler, pydantic or plyer.
`status --json` (what status bars call every few seconds) needs only the socket and
json; datetime and ergo.timing.durations load for the commands that read or print times.
"""

from __future__ import annotations

import json
import os
import sys

from ergo.control.client import request
from ergo.errors import DaemonNotRunning, ErgoError, one_line
from ergo.paths import socket_path

TYPE_CHECKING = False  # typing and argparse stay off this path (see tests/test_daemon.py)
if TYPE_CHECKING:
    import argparse
    from datetime import datetime, timedelta
    from typing import Any

MAX_HOLD_DAYS = 366  # longer pauses and snoozes are surely typos


def _until_clock(text: str, now: datetime) -> datetime:
    """The next local occurrence of HH:MM."""
    from datetime import timedelta, timezone

    try:
        hours, minutes = (int(p) for p in text.strip().split(":"))
        local_now = now.astimezone()
        target = local_now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    except ValueError:
        raise ErgoError(f'--until {text}: not a time of day (write HH:MM, e.g. 13:30)') from None
    if target <= local_now:
        target += timedelta(days=1)
    return target.astimezone(timezone.utc)


def _duration(text: str, what: str) -> timedelta:
    from datetime import timedelta

    from ergo.timing.durations import DurationError, parse_duration

    try:
        value = parse_duration(text)
    except DurationError as error:
        raise ErgoError(f"{what}: {error}") from None
    if value <= timedelta(0):
        raise ErgoError(f"{what}: the duration must be positive")
    if value > timedelta(days=MAX_HOLD_DAYS):
        raise ErgoError(f"{what}: {text} is too long (at most {MAX_HOLD_DAYS} days)")
    return value


def run(command: str, args: argparse.Namespace) -> int:
    """`args` is argparse's namespace or cli's light stand-in with the same attributes."""
    sock = socket_path()
    if command == "status":
        follow = getattr(args, "follow", False)  # the light path's ControlArgs has no --follow
        if getattr(args, "format", None) and not follow:
            raise ErgoError("--format goes with --follow (for a single status, use --json)")
        if follow:
            from ergo.control.stream import follow as stream

            return stream(sock, args.format or "json", sys.stdout)
        try:
            answer = request(sock, "status")
        except DaemonNotRunning as error:
            if args.json:
                print(json.dumps({"running": False}))
            else:
                print(one_line(error), file=sys.stderr)
            return 1
        if args.json:
            answer.pop("ok", None)
            print(json.dumps(answer, indent=2))
        else:
            print(_shown(answer))
        return 0
    import time
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    if command == "pause":
        until: datetime | None = None
        if args.until and args.duration:
            raise ErgoError("pause takes a duration or --until, not both")
        if args.until:
            until = _until_clock(args.until, now)
        elif args.duration:
            until = now + _duration(args.duration, "pause")
        answer = _ask(sock, "pause", until=until.isoformat() if until else None)
        print(f"paused until {_local(answer['paused_until'])}" if until else "paused until `ergo resume`")
        return 0
    if command == "snooze":
        kind, duration = args.kind, args.duration
        if kind is not None and duration is None and kind[:1].isdigit():  # `ergo snooze 20m`: the last reminder
            kind, duration = None, kind
        until = now + _duration(duration or "10m", "snooze")
        answer = _ask(sock, "snooze", kind=kind, until=until.isoformat())
        what = ", ".join(answer.get("answered") or []) or kind
        print(f"{what} snoozed until {_local(until.isoformat())}")
        return 0
    if command == "break":
        from datetime import timedelta

        from ergo.timing.durations import format_duration

        answer = _ask(sock, "break", kind=args.kind)
        length = timedelta(seconds=answer.get("break_seconds") or 0)
        print(f"{args.kind}: break started, {format_duration(length)}; it counts as done when the countdown ends "
              "(`ergo done` ends it early)")
        return 0
    if command in ("done", "skip"):
        answer = _ask(sock, command, kind=args.kind)
        answered = answer.get("answered")
        if answered is not None:
            nexts = [(k, _local(answer["reminders"][k]["next_due"])) for k in answered]
            due = nexts[0][1] if len(nexts) == 1 else ", ".join(f"{k} {at}" for k, at in nexts)
            print(f"{', '.join(answered)}: {'done, well done' if command == 'done' else 'skipped'}; next due {due}")
        else:
            print(_skip_words(args.kind, answer))
        return 0
    if command == "stop":
        answer = _ask(sock, "stop")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.path.exists(sock):
            time.sleep(0.05)
        print(f"ergo stopped (pid {answer.get('pid')})")
        return 0
    if command == "reload":
        answer = _ask(sock, "reload")
        changed = answer.get("changed") or []
        print("config reloaded: " + (", ".join(changed) + " changed" if changed else "nothing changed"))
        return 0
    kind = getattr(args, "kind", None)
    answer = _ask(sock, command, **({"kind": kind} if command == "now" and kind is not None else {}))
    if command == "resume":
        print("resumed" if answer.get("was_paused", True) else "not paused: reminders were running already")
    elif command == "now":
        for name in answer.get("acted_on") or [kind]:
            print(f"{name}: delivered; next due {_local(answer['reminders'][name]['next_due'])}"
                  + ("" if kind else " (the reminder delivered last)"))
    return 0


def schedule(sock: str, hours: float) -> int | None:
    """`ergo schedule` while ergo runs: the daemon's own timeline (pauses, snoozes, a plan), or None with no daemon."""
    import time

    try:
        answer = request(sock, "schedule", hours=hours)
    except DaemonNotRunning:
        return None
    print(f"Coming reminders for the next {hours:g}h, from the running ergo (pid {answer['pid']}):")
    if not answer["enabled"]:
        print("  no reminder is enabled")
    for line in answer["work_hours"]:
        print(f"  work hours: {line}")
    if answer["paused"]:
        print("  paused " + (f"until {_local(answer['paused_until'])}" if answer["paused_until"]
                             else "until `ergo resume`: no reminder comes before that"))
    for kind, until in answer["snoozed"].items():
        print(f"  {kind} snoozed until {_local(until)}")
    for kind, hold in (answer.get("plan_holds") or {}).items():  # a running plan holds it (acute-back)
        print(f"  {kind} reminders held until {_local(hold['until'], with_day=True)}: {hold['why']}")
    if answer.get("break"):
        timed = answer["break"]
        print(f"  break in progress: {', '.join(timed['kinds'])} until {_local(timed['ends'])}")
    if answer.get("held"):
        print(f"  held now: {answer['held']}; the times below assume you are at the keyboard")
    last_day = None
    reminders = 0
    for iso, text in answer["events"]:
        local = time.localtime(_epoch(iso))
        if local[:3] != last_day:
            last_day = local[:3]
            print(time.strftime("%a %d %b", local))
        print(f"  {time.strftime('%H:%M', local)}  {text}")
        reminders += not text.startswith(("-- ", "plan "))
    if reminders == 0 and answer["enabled"]:
        print("  no reminder falls due in that time")
    return 0


def _skip_words(kind: str, answer: dict[str, Any]) -> str:
    """What `ergo skip KIND` did when no notification was waiting for an answer: never more than happened."""
    after = _local(answer["reminders"][kind]["next_due"])
    before = (answer.get("skipped") or {}).get(kind) or {}
    if before.get("overdue"):
        held = before.get("held")
        why = f", held back: {held}" if held and held not in ("paused",) else ""
        return (f"{kind}: skipped the reminder due at {_local(before.get('was_due'))}, not shown yet{why}; "
                f"its countdown restarted: next due {after}")
    was = f", was {_local(before['was_due'])}" if before.get("was_due") else ""
    return f"{kind}: skipped before it was due, so its countdown restarted: next due {after}{was}"


def _ask(sock: str, command: str, **arguments: Any) -> dict[str, Any]:
    """A control request; when the daemon could not save the change (a full disk), one line says so."""
    answer = request(sock, command, **arguments)
    if answer.get("state_error"):
        print(f"ergo: done, but not saved: {answer['state_error']} (kept in memory until it can be saved)",
              file=sys.stderr)
    return answer


def _epoch(iso: str) -> float:
    """Seconds since the epoch of an ISO time. The daemon's own form (UTC, whole seconds) is read
    without datetime, which would cost `ergo status` about 1.5 ms (see benchmarks/control.py)."""
    if len(iso) == 25 and iso.endswith("+00:00") and iso[4] == iso[7] == "-" and iso[10] == "T":
        try:
            year, month, day = int(iso[0:4]), int(iso[5:7]), int(iso[8:10])
            hours, minutes, seconds = int(iso[11:13]), int(iso[14:16]), int(iso[17:19])
        except ValueError:
            pass
        else:
            return _days_since_epoch(year, month, day) * 86400 + hours * 3600 + minutes * 60 + seconds
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def _days_since_epoch(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a (proleptic Gregorian) date: Howard Hinnant's days_from_civil."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _format_seconds(total: int) -> str:
    """ergo.timing.durations.format_duration for whole seconds (a test keeps them equal), without datetime."""
    if total == 0:
        return "0s"
    sign, total = ("-" if total < 0 else ""), abs(total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return sign + (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{seconds}s" if seconds else "")


def _local(iso: str | None, with_day: bool = False) -> str:
    """An ISO time as local clock time, with the weekday when it is not today (or `with_day`)."""
    import time

    if not iso:
        return "-"
    value = time.localtime(_epoch(iso))
    if value[:3] != time.localtime()[:3] or with_day:
        return time.strftime("%a %H:%M", value)
    return time.strftime("%H:%M:%S" if value.tm_sec else "%H:%M", value)


def _in(iso: str | None, now: float) -> str:
    if not iso:
        return ""
    delta = _epoch(iso) - now
    if delta <= 0:
        return "(due now: being delivered)"
    return f"(in {_format_seconds(round(delta))})"


def _shown(status: dict[str, Any]) -> str:
    """render_status for the terminal: every line masked (ergo.safetext.printable), so no escape sequence a
    daemon sends reaches it, and a status this ergo cannot read is one line, never a traceback."""
    from ergo.safetext import printable

    try:
        text = render_status(status)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, IndexError) as error:
        raise ErgoError(f"the daemon sent a status this ergo cannot read ({error.__class__.__name__})") from None
    return "\n".join(printable(line) for line in text.split("\n"))


def render_status(status: dict[str, Any]) -> str:
    """The human form of `status --json`."""
    now = _epoch(status["now"])
    notifier = status["notifier"]
    reason = status.get("notifier_reason") or ""
    if notifier == "freedesktop" and " on the session bus" in reason:  # name the server that is there now
        notifier += f" ({reason.removeprefix('freedesktop: ').split(' on the session bus')[0]})"
    lines = [f"ergo is running (pid {status['pid']}); notifications: {notifier}; idle detection: {status['idle_backend']}"]
    config = status["config_file"] + ("" if status.get("config_found") else " (not found: built-in defaults)")
    lines.append(f"config: {config}")
    if status.get("config_error"):
        lines.append(f"config error (keeping the last good settings): {status['config_error']}")
    if status.get("reminders_reach") == "log only":
        if reason.startswith("console: requested"):
            lines.append("reminders reach only the log file: notifier is set to console and ergo has no terminal")
        else:
            lines.append("reminders reach only the log file: no notification server yet; "
                         "ergo switches to one as soon as it appears")
    if status.get("state_error"):
        lines.append(f"state NOT saved (reminders go on, kept in memory): {status['state_error']}")
    timed = status.get("break")
    if timed:
        left = max(0, round(_epoch(timed["ends"]) - now))
        lines.append(f"break in progress: {', '.join(timed['kinds'])} until {_local(timed['ends'])}, "
                     f"{_format_seconds(left)} left; `ergo done` ends it early")
    if status["paused"]:
        lines.append("paused " + (f"until {_local(status['paused_until'])}" if status["paused_until"] else "until `ergo resume`"))
    elif status.get("busy"):
        lines.append(f"held: {status['busy']}" + (f" until {_local(status['busy_until'])}" if status.get("busy_until") else ""))
    elif status.get("busy_after_until"):
        lines.append(f"held: busy until a moment ago; what is due goes out at {_local(status['busy_after_until'])}")
    elif status.get("hold"):
        lines.append(f"holding reminders: {status['hold']}")
    for kind, entry in status["reminders"].items():
        if not entry["enabled"]:
            continue
        state = f"next {_local(entry['next_due'])} {_in(entry['next_due'], now)}"
        if entry["held"] == "outside hours":
            state = f"outside work hours until {_local(entry.get('resumes_at'), with_day=True)}; next {_local(entry['next_due'], with_day=True)}"
        elif entry["held"] == "plan":
            state = f"held until {_local(entry.get('resumes_at'), with_day=True)} ({entry.get('held_why')})"
        elif entry["held"] == "snoozed":
            state = f"snoozed until {_local(entry['snoozed_until'])}"
        elif entry["held"] == "spacing":
            state = f"due; keeping notifications apart until {_local(entry.get('resumes_at'))}"
        elif entry["held"]:
            state = f"held: {entry['held']}"
        last = f"last {_local(entry['last_fired'])}" if entry["last_fired"] else ""
        lines.append(f"  {kind:<10} every {entry['interval']:<7} {state:<40} {last}".rstrip())
    disabled = [k for k, e in status["reminders"].items() if not e["enabled"]]
    if disabled:
        lines.append(f"  off: {', '.join(disabled)}")
    plan = status.get("plan")
    if plan:
        step = f"next {plan['next_step']} {_local(plan['next_due'], with_day=True)}" if plan.get("next_due") else "no step left"
        lines.append(f"plan: {plan['name']} until {_local(plan['ends'], with_day=True)}; {step} (`ergo plan status`)")
    for notice in status.get("config_notices") or []:
        lines.append(f"note: {notice}")
    return "\n".join(lines)
