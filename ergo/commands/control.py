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
            from ergo.commands.words import speak

            speak(answer.get("language"))
            print(_shown(answer))
        return 0
    import time
    from datetime import datetime, timezone

    from ergo.i18n import _

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
        print(_("paused until %(time)s") % {"time": _local(answer["paused_until"])} if until
              else _("paused until `ergo resume`"))
        return 0
    if command == "snooze":
        kind, duration = args.kind, args.duration
        if kind is not None and duration is None and kind[:1].isdigit():  # `ergo snooze 20m`: the last reminder
            kind, duration = None, kind
        until = now + _duration(duration or "10m", "snooze")
        answer = _ask(sock, "snooze", kind=kind, until=until.isoformat())
        what = ", ".join(answer.get("answered") or []) or kind
        print(_("%(kinds)s snoozed until %(time)s") % {"kinds": what, "time": _local(until.isoformat())})
        return 0
    if command == "break":
        from datetime import timedelta

        from ergo.timing.durations import format_duration

        answer = _ask(sock, "break", kind=args.kind)
        length = timedelta(seconds=answer.get("break_seconds") or 0)
        print(_("%(kind)s: break started, %(length)s; it counts as done when the countdown ends "
                "(`ergo done` ends it early)") % {"kind": args.kind, "length": format_duration(length)})
        return 0
    if command in ("done", "skip"):
        answer = _ask(sock, command, kind=args.kind)
        answered = answer.get("answered")
        if answered is not None:
            nexts = [(k, _local(answer["reminders"][k]["next_due"])) for k in answered]
            due = nexts[0][1] if len(nexts) == 1 else ", ".join(f"{k} {at}" for k, at in nexts)
            words = (_("%(kinds)s: done, well done; next due %(time)s") if command == "done"
                     else _("%(kinds)s: skipped; next due %(time)s"))
            print(words % {"kinds": ", ".join(answered), "time": due})
        else:
            print(_skip_words(args.kind, answer))
        return 0
    if command == "stop":
        answer = _ask(sock, "stop")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.path.exists(sock):
            time.sleep(0.05)
        print(_("ergo stopped (pid %(pid)s)") % {"pid": answer.get("pid")})
        return 0
    if command == "reload":
        answer = _ask(sock, "reload")
        changed = answer.get("changed") or []
        print(_("config reloaded: %(keys)s changed") % {"keys": ", ".join(changed)} if changed
              else _("config reloaded: nothing changed"))
        return 0
    kind = getattr(args, "kind", None)
    answer = _ask(sock, command, **({"kind": kind} if command == "now" and kind is not None else {}))
    if command == "resume":
        print(_("resumed") if answer.get("was_paused", True) else _("not paused: reminders were running already"))
    elif command == "now":
        for name in answer.get("acted_on") or [kind]:
            words = (_("%(kind)s: delivered; next due %(time)s") if kind
                     else _("%(kind)s: delivered; next due %(time)s (the reminder delivered last)"))
            print(words % {"kind": name, "time": _local(answer["reminders"][name]["next_due"])})
    return 0


def schedule(sock: str, hours: float) -> int | None:
    """`ergo schedule` while ergo runs: the daemon's own timeline (pauses, snoozes, a plan), or None with no daemon."""
    import time

    try:
        answer = request(sock, "schedule", hours=hours)
    except DaemonNotRunning:
        return None
    from ergo.commands import words
    from ergo.i18n import _

    words.speak(answer.get("language"))
    print(_("Coming reminders for the next %(hours)sh, from the running ergo (pid %(pid)s):") % {
        "hours": f"{hours:g}", "pid": answer["pid"]})
    if not answer["enabled"]:
        print("  " + _("no reminder is enabled"))
    for line in answer["work_hours"]:
        print("  " + _("work hours: %(hours)s") % {"hours": words.hours(line)})
    if answer["paused"]:
        print("  " + (_("paused until %(time)s") % {"time": _local(answer["paused_until"])} if answer["paused_until"]
                      else _("paused until `ergo resume`: no reminder comes before that")))
    for kind, until in answer["snoozed"].items():
        print("  " + _("%(kinds)s snoozed until %(time)s") % {"kinds": kind, "time": _local(until)})
    for kind, hold in (answer.get("plan_holds") or {}).items():  # a running plan holds it (acute-back)
        print("  " + _("%(kind)s reminders held until %(time)s: %(why)s") % {
            "kind": kind, "time": _local(hold["until"], with_day=True), "why": words.plan_why(hold["why"])})
    if answer.get("break"):
        timed = answer["break"]
        print("  " + _("break in progress: %(kinds)s until %(time)s") % {
            "kinds": ", ".join(timed["kinds"]), "time": _local(timed["ends"])})
    if answer.get("held"):
        print("  " + _("held now: %(why)s; the times below assume you are at the keyboard") % {
            "why": words.hold(answer["held"])})
    last_day = None
    reminders = 0
    for iso, text in answer["events"]:
        epoch = _epoch(iso)
        local = time.localtime(epoch)
        if local[:3] != last_day:
            last_day = local[:3]
            print(words.day(epoch))
        print(f"  {words.clock(epoch)}  {words.event(text)}")
        reminders += not text.startswith(("-- ", "plan "))
    if reminders == 0 and answer["enabled"]:
        print("  " + _("no reminder falls due in that time"))
    return 0


def _skip_words(kind: str, answer: dict[str, Any]) -> str:
    """What `ergo skip KIND` did when no notification was waiting for an answer: never more than happened."""
    from ergo.commands.words import hold
    from ergo.i18n import _

    after = _local(answer["reminders"][kind]["next_due"])
    before = (answer.get("skipped") or {}).get(kind) or {}
    if before.get("overdue"):
        held = before.get("held")
        due = _local(before.get("was_due"))
        if held and held not in ("paused",):
            return _("%(kind)s: skipped the reminder due at %(due)s, not shown yet, held back: %(why)s; "
                     "its countdown restarted: next due %(next)s") % {"kind": kind, "due": due, "why": hold(held), "next": after}
        return _("%(kind)s: skipped the reminder due at %(due)s, not shown yet; its countdown restarted: "
                 "next due %(next)s") % {"kind": kind, "due": due, "next": after}
    if before.get("was_due"):
        return _("%(kind)s: skipped before it was due, so its countdown restarted: next due %(next)s, was %(was)s") % {
            "kind": kind, "next": after, "was": _local(before["was_due"])}
    return _("%(kind)s: skipped before it was due, so its countdown restarted: next due %(next)s") % {
        "kind": kind, "next": after}


def _ask(sock: str, command: str, **arguments: Any) -> dict[str, Any]:
    """A control request; when the daemon could not save the change (a full disk), one line says so."""
    from ergo.commands.words import speak
    from ergo.i18n import _

    answer = request(sock, command, **arguments)
    speak(answer.get("language"))
    if answer.get("state_error"):
        print(_("ergo: done, but not saved: %(error)s (kept in memory until it can be saved)") % {
            "error": answer["state_error"]}, file=sys.stderr)
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
    """An ISO time as local clock time, with the weekday when it is not today (or `with_day`), in the
    reader's format (ergo.commands.words.local)."""
    from ergo.commands.words import local

    return local(_epoch(iso) if iso else None, with_day)


def _in(iso: str | None, now: float) -> str:
    from ergo.i18n import _

    if not iso:
        return ""
    delta = _epoch(iso) - now
    if delta <= 0:
        return _("(due now: being delivered)")
    return _("(in %(duration)s)") % {"duration": _format_seconds(round(delta))}


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
    """The human form of `status --json`, in the reader's language (ergo.commands.words.speak first).
    Kinds, the notifier's and idle backend's names, intervals and file names stay as written: they are
    what you type. A config error and a notice are diagnostics: English (docs/languages.md)."""
    from ergo.commands.words import busy, hold
    from ergo.i18n import _

    now = _epoch(status["now"])
    notifier = status["notifier"]
    reason = status.get("notifier_reason") or ""
    if notifier == "freedesktop" and " on the session bus" in reason:  # name the server that is there now
        notifier += f" ({reason.removeprefix('freedesktop: ').split(' on the session bus')[0]})"
    lines = [_("ergo is running (pid %(pid)s); notifications: %(notifier)s; idle detection: %(idle)s") % {
        "pid": status["pid"], "notifier": notifier, "idle": status["idle_backend"]}]
    config = status["config_file"]
    if not status.get("config_found"):
        config = _("%(file)s (not found: built-in defaults)") % {"file": config}
    lines.append(_("config: %(file)s") % {"file": config})
    if status.get("config_error"):
        lines.append(_("config error (keeping the last good settings): %(error)s") % {"error": status["config_error"]})
    if status.get("reminders_reach") == "log only":
        if reason.startswith("console: requested"):
            lines.append(_("reminders reach only the log file: notifier is set to console and ergo has no terminal"))
        else:
            lines.append(_("reminders reach only the log file: no notification server yet; "
                           "ergo switches to one as soon as it appears"))
    if status.get("state_error"):
        lines.append(_("state NOT saved (reminders go on, kept in memory): %(error)s") % {"error": status["state_error"]})
    timed = status.get("break")
    if timed:
        left = max(0, round(_epoch(timed["ends"]) - now))
        lines.append(_("break in progress: %(kinds)s until %(time)s, %(left)s left; `ergo done` ends it early") % {
            "kinds": ", ".join(timed["kinds"]), "time": _local(timed["ends"]), "left": _format_seconds(left)})
    if status["paused"]:
        lines.append(_("paused until %(time)s") % {"time": _local(status["paused_until"])} if status["paused_until"]
                     else _("paused until `ergo resume`"))
    elif status.get("busy"):
        why = busy(status["busy"])
        lines.append(_("held: %(why)s until %(time)s") % {"why": why, "time": _local(status["busy_until"])}
                     if status.get("busy_until") else _("held: %(why)s") % {"why": why})
    elif status.get("busy_after_until"):
        lines.append(_("held: busy until a moment ago; what is due goes out at %(time)s") % {
            "time": _local(status["busy_after_until"])})
    elif status.get("hold"):
        lines.append(_("holding reminders: %(why)s") % {"why": hold(status["hold"])})
    rows = [_reminder_row(kind, entry, now) for kind, entry in status["reminders"].items() if entry["enabled"]]
    every_width = max([13] + [len(row[1]) for row in rows])  # "every 20m" is 13 wide in English; longer in French
    for kind, every, state, last in rows:
        lines.append(f"  {kind:<10} {every:<{every_width}} {state:<40} {last}".rstrip())
    disabled = [k for k, e in status["reminders"].items() if not e["enabled"]]
    if disabled:
        lines.append("  " + _("off: %(kinds)s") % {"kinds": ", ".join(disabled)})
    plan = status.get("plan")
    if plan:
        step = (_("next %(step)s %(time)s") % {"step": plan["next_step"], "time": _local(plan["next_due"], with_day=True)}
                if plan.get("next_due") else _("no step left"))
        lines.append(_("plan: %(name)s until %(time)s; %(step)s (`ergo plan status`)") % {
            "name": plan["name"], "time": _local(plan["ends"], with_day=True), "step": step})
    for notice in status.get("config_notices") or []:
        lines.append(_("note: %(notice)s") % {"notice": notice})
    return "\n".join(lines)


def _reminder_row(kind: str, entry: dict[str, Any], now: float) -> tuple[str, str, str, str]:
    """One reminder's columns in `ergo status`: its kind, interval, state and last time."""
    from ergo.commands.words import hold, plan_why
    from ergo.i18n import _

    held = entry["held"]
    if held == "outside hours":
        state = _("outside work hours until %(time)s; next %(next)s") % {
            "time": _local(entry.get("resumes_at"), with_day=True), "next": _local(entry["next_due"], with_day=True)}
    elif held == "plan":
        why = entry.get("held_why")  # the plan's words, in the daemon's language: translated when it is English
        state = _("held until %(time)s (%(why)s)") % {"time": _local(entry.get("resumes_at"), with_day=True),
                                                      "why": plan_why(why) if why else ""}
    elif held == "snoozed":
        state = _("snoozed until %(time)s") % {"time": _local(entry["snoozed_until"])}
    elif held == "spacing":
        state = _("due; keeping notifications apart until %(time)s") % {"time": _local(entry.get("resumes_at"))}
    elif held:
        state = _("held: %(why)s") % {"why": hold(held)}
    else:
        state = _("next %(time)s %(in)s") % {"time": _local(entry["next_due"]), "in": _in(entry["next_due"], now)}
    last = _("last %(time)s") % {"time": _local(entry["last_fired"])} if entry["last_fired"] else ""
    # TRANSLATORS: a reminder's interval in `ergo status`: "every 20m"
    every = _("every %(interval)s") % {"interval": entry["interval"]}
    return kind, every, state, last
