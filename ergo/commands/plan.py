"""`ergo plan list | start NAME | status | stop`: opt-in routines from the documents (ergo.plans).

With the daemon running, start and stop go through it (it delivers the steps); without it,
they write the state file, and the daemon picks the plan up when it starts.
"""

from __future__ import annotations

import argparse
import textwrap
from datetime import datetime, timedelta, timezone
from typing import Any

from ergo.errors import DaemonNotRunning, ErgoError
from ergo.i18n import N_, _
from ergo.paths import Paths

FIRST_AID_LABEL = N_("General first-aid practice, not from the documents:")  # shown translated
CHOICE_LABEL = N_("ergo's choice")  # shown translated (`ergo plan list`)


def run(action: str, config: str | None, flags: dict[str, Any], args: argparse.Namespace) -> int:
    from ergo.plans.catalog import load_plans

    from ergo.config.cache import language
    from ergo.i18n import translator, use
    from ergo.plans.catalog import localized

    paths = Paths.resolve(config)
    use(language(paths, flags))  # the plans' texts in the reader's language (ergo.i18n)
    plans = {name: localized(plan, translator()) for name, plan in load_plans().items()}
    if action == "list":
        return list_plans(plans)
    if action == "start":
        return start(plans, paths, config, flags, args)
    if action == "stop":
        return stop(paths)
    return status(plans, paths)


def _local(value: datetime) -> str:
    """A date and time in the reader's format: "Wed 02 Dec 14:05", "Mi., 2. Dez., 14:05"."""
    from ergo.commands.words import day_and_clock

    return day_and_clock(value.timestamp())


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=88, initial_indent=indent, subsequent_indent=indent)


def list_plans(plans: dict) -> int:
    from ergo.tips import cite, load_sources

    sources = load_sources()
    for plan in plans.values():
        print(f"{plan.name}: {plan.title}: {plan.summary}")
        for step in plan.steps:
            print(f"  {step.id:<8} {step.text}")
            print(f"  {'':<8} {cite(step.cite.source, step.cite.section, sources)}")
            if step.choice:
                print(f"  {'':<8} {_(CHOICE_LABEL)}: {step.choice}")
        _print_reminder_rules(plan)
        for choice in plan.choices:
            print(f"  {_(CHOICE_LABEL)}: {choice}")
        if plan.options:
            each = [_("%(flag)s (default %(default)s, %(low)s to %(high)s)") % {
                "flag": f"--{o.name.replace('_', '-')}", "default": _shown(o.default), "low": _shown(o.low),
                "high": _shown(o.high)} for o in plan.options.values()]
            print("  " + _("options: %(options)s") % {"options": ", ".join(each)})
        if plan.warning:
            print(_wrap(plan.warning))
            print(_wrap(_("(in its first notification, once a day with the day's first step, and when it ends)")))
    print(_("Start one with `ergo plan start NAME`; plans are off until you do. Steps come only in waking hours:\n"
            "[schedule] hours, else 08:00-22:00; `--waking HH:MM-HH:MM` sets them for one plan."))
    return 0


def _print_reminder_rules(plan: Any) -> None:
    """What the plan does to the ordinary reminders while it runs (ergo.plans.timing.reminder_holds)."""
    for kind, rule in plan.reminders.items():
        if rule.held_until:
            begins = int(plan.step(rule.held_until).start.total_seconds() // 3600)
            line = _("while it runs: %(kind)s reminders are held until %(step)s begins (hour %(hour)d): %(why)s") % {
                "kind": kind, "step": rule.held_until, "hour": begins, "why": rule.why}
            if rule.note:
                line += _("; then they add \"%(note)s\"") % {"note": rule.note}
            print(_wrap(line))
        else:
            print(_wrap(_("while it runs: %(kind)s reminders are held until it ends: %(why)s (%(steps)s)") % {
                "kind": kind, "why": rule.why, "steps": ", ".join(rule.replaced_by)}))


def _shown(value: Any) -> str:
    from ergo.timing.durations import format_duration

    return format_duration(value) if isinstance(value, timedelta) else str(value)


def _options(args: argparse.Namespace) -> dict[str, str | None]:
    return {name: getattr(args, name, None) for name in ("days", "cold_every", "heat_per_day")}


def start(plans: dict, paths: Paths, config: str | None, flags: dict[str, Any], args: argparse.Namespace) -> int:
    from ergo.control.client import request
    from ergo.plans import timing

    plan = plans.get(args.name)
    if plan is None:
        raise ErgoError(f"no plan {args.name!r} (plans: {', '.join(plans)})")
    given = {k: v for k, v in _options(args).items() if v is not None}
    timing.resolve_options(plan, given)  # a bad option is one line, before anything starts
    try:
        answer = request(paths.socket, "plan_start", name=plan.name, options=given, waking=args.waking)
        running_info = answer["plan"]
        live = True
    except DaemonNotRunning:
        running_info = _start_offline(plan, paths, config, flags, given, args.waking)
        live = False
    words = {"name": plan.name, "title": plan.title, "time": _local(datetime.fromisoformat(running_info["ends"])),
             "waking": running_info["waking"]}
    print(_("Started %(name)s (%(title)s) until %(time)s, waking hours %(waking)s; the running ergo delivers its steps.")
          % words if live else
          _("Started %(name)s (%(title)s) until %(time)s, waking hours %(waking)s; ergo is not running: its steps "
            "come once you `ergo start` it.") % words)
    if running_info.get("first_now"):
        first = {"steps": ", ".join(_(title) for title in running_info["first_now"])}  # the daemon's English
        print(_("First step now: %(steps)s (in a notification).") % first if live
              else _("First step now: %(steps)s (once ergo runs).") % first)
    if running_info.get("next_due"):
        print(_("Next step: %(step)s at %(time)s. `ergo schedule --plan` shows them all.") % {
            "step": running_info["next_step"], "time": _local(datetime.fromisoformat(running_info["next_due"]))})
    if plan.warning:
        print()
        print(_wrap(plan.warning, indent=""))
    if plan.skin_note:
        print(f"\n{_(FIRST_AID_LABEL)}")
        print(_wrap(plan.skin_note))
    if plan.reminders:
        print()
        _print_reminder_rules(plan)
    choices = [f"{step.title}: {step.choice}" for step in plan.steps if step.choice] + list(plan.choices)
    if choices:
        print("\n" + _("ergo's choices (the documents give no number, or a range):"))
        for choice in choices:
            print(_wrap(choice, indent="  - ").replace("\n  - ", "\n    "))
    return 0


def _start_offline(plan: Any, paths: Paths, config: str | None, flags: dict[str, Any], given: dict, waking: str | None) -> dict:
    from ergo.config.load import load_settings
    from ergo.plans import timing
    from ergo.records.store import Store
    from ergo.timing.worktime import local_zone

    settings = load_settings(paths.config_file, flags).settings
    now = datetime.now(timezone.utc)
    store = Store(paths.state_db)
    try:
        saved = store.load_plan()
        if saved is not None:
            running = timing.Running.from_json(saved)
            if not timing.finished(running, now):
                raise ErgoError(f"plan {running.name} is already running until {_local(running.ends)}: "
                                "`ergo plan stop` ends it")
        resolved = timing.resolve_options(plan, given)
        running = timing.start(plan, now, timing.waking_window(plan, waking, settings.schedule.hours), resolved)
        store.save_plan(running.to_json())
        store.record(now, "plan", "started", f"{plan.name} until {running.ends.isoformat(timespec='seconds')} (waking {running.waking})")
    finally:
        store.close()
    since = running.last or now
    upcoming = timing.next_time(plan, running, local_zone(), since)
    return {"ends": running.ends.isoformat(), "waking": running.waking, "next_due": upcoming.isoformat() if upcoming else None,
            "next_step": next((s.id for at, s in timing.occurrences(plan, running, local_zone(), since, upcoming or since)), None)}


def stop(paths: Paths) -> int:
    from ergo.control.client import request

    try:
        answer = request(paths.socket, "plan_stop")
        print(_("stopped %(name)s") % {"name": answer["stopped"]})
        return 0
    except DaemonNotRunning:
        pass
    from ergo.records.store import Store

    if not paths.state_db.exists():
        raise ErgoError(_("no plan is running (`ergo plan list` shows them)"))
    store = Store(paths.state_db)
    try:
        saved = store.load_plan()
        if saved is None:
            raise ErgoError(_("no plan is running (`ergo plan list` shows them)"))
        store.save_plan(None)
        store.record(datetime.now(timezone.utc), "plan", "stopped", str(saved.get("name")))
    finally:
        store.close()
    print(_("stopped %(name)s") % {"name": saved.get("name")})
    return 0


def current(paths: Paths) -> Any:
    """The stored running plan (ergo.plans.timing.Running), or None; read straight from the state file."""
    from ergo.plans.timing import Running
    from ergo.records.store import Store

    if not paths.state_db.exists():
        return None
    store = Store(paths.state_db)
    try:
        saved = store.load_plan()
    finally:
        store.close()
    return None if saved is None else Running.from_json(saved)


def status(plans: dict, paths: Paths) -> int:
    from ergo.commands.words import plan_why
    from ergo.plans import timing
    from ergo.timing.worktime import local_zone

    running = current(paths)
    now = datetime.now(timezone.utc)
    if running is None or running.name not in plans or timing.finished(running, now):
        print(_("no plan is running (`ergo plan list` shows them)"))
        return 0
    plan = plans[running.name]
    day = (now.astimezone().date() - running.started.astimezone().date()).days + 1
    print(_("%(name)s (%(title)s): day %(day)d, started %(start)s, ends %(end)s") % {
        "name": plan.name, "title": plan.title, "day": day, "start": _local(running.started), "end": _local(running.ends)})
    print("  " + "; ".join([_("waking hours %(hours)s") % {"hours": running.waking}]
                           + [f"{k.replace('_', '-')} {v}" for k, v in running.options.items()]))
    upcoming = timing.occurrences(plan, running, local_zone(), now, min(running.ends, now + timedelta(days=2)))[:4]
    for at, step in upcoming:
        print(f"  {_local(at)}  {step.title}")
    if not upcoming:
        print("  " + _("no step left before it ends"))
    for kind, hold in timing.reminder_holds(plan, running).items():
        if hold.end > now:
            print(_wrap(_("%(kind)s reminders held until %(time)s: %(why)s") % {
                "kind": kind, "time": _local(hold.end), "why": plan_why(hold.why)}))
    if plan.warning:
        print(_wrap(plan.warning))
    return 0
