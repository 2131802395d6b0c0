"""Commands that need no daemon: tips, schedule, notify-test, history."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ergo.errors import ErgoError, NotifyError
from ergo.paths import Paths

if TYPE_CHECKING:
    import argparse


def run(command: str, config: str | None, flags: dict[str, Any], args: argparse.Namespace) -> int:
    if command == "tips":
        from ergo.config.cache import language

        return tips(args.kind, language(Paths.resolve(config), flags))
    if command == "history":
        from ergo.i18n import use

        if args.json:  # for programs: English words, whatever the language
            use("en")
        else:
            from ergo.config.cache import language

            use(language(Paths.resolve(config), flags))
        return history(Paths.resolve(config), args.days, args.json)
    paths = Paths.resolve(config)
    if command in ("stats", "report"):  # checked settings remembered between runs: no pydantic (ergo.config.cache)
        from ergo.config.cache import plain_loaded

        settings = plain_loaded(paths, flags).settings
        from ergo.i18n import use

        use(settings.language)  # the reader's language (ergo.i18n); English loads neither gettext nor Babel
        if command == "stats":
            return stats(paths, settings, args.period, args.json)
        return report(paths, settings, args.html, args.open)
    from ergo.config.load import load_settings

    loaded = load_settings(paths.config_file, flags)
    if command == "schedule":
        from ergo.i18n import use

        use(loaded.settings.language)  # the `language` key, else this process's environment (ergo.i18n)
        if getattr(args, "plan", False):
            return plan_timeline(paths)
        return schedule(loaded.settings, args.hours, paths)
    if command == "notify-test":
        return notify_test(loaded.settings, args.kind, paths)
    raise ErgoError(f"unknown command {command!r}")


def tips(kind: str | None, language: str = "auto") -> int:
    """Every tip, in the reader's language (ergo.i18n); the source lines cite the English documents as they are."""
    from ergo.i18n import translation
    from ergo.tips import EVENING_LABEL, cite, label, load_catalog, load_sources, localized, red_flag

    found = translation(language)
    gettext, ngettext = found.gettext, found.ngettext
    catalog = localized(load_catalog(), gettext)
    if kind is not None and kind not in catalog:
        raise ErgoError(f"no tips of kind {kind!r} (kinds: {', '.join(catalog)})")
    sources = load_sources()

    flag = red_flag()
    print(f"! {gettext(flag.text)}")
    print(f"  {cite(flag.source, flag.section, sources)}")
    print("  " + gettext("ergo's tips are general ergonomic reminders, not medical care."))
    print()
    for name, items in catalog.items():
        if kind is not None and name != kind:
            continue
        print(ngettext("%(kind)s (%(count)d tip)", "%(kind)s (%(count)d tips)", len(items)) % {
            "kind": name, "count": len(items)})
        for tip in items:
            print(f"  {tip.id:<14} {tip.text}")
            print(f"  {'':<14} {cite(tip.source, tip.section, sources)}")
            if label(tip):
                print(f"  {'':<14} ({gettext(label(tip))})")
            if tip.when == "evening":
                print(f"  {'':<14} ({gettext(EVENING_LABEL)})")
    return 0


def schedule(settings: Any, hours: float, paths: Paths | None = None) -> int:
    """Simulate the coming reminders with a fresh start now, through the same Engine the daemon uses."""
    from ergo.commands import words
    from ergo.daemon.specs import specs_from
    from ergo.i18n import _
    from ergo.timing import timeline
    from ergo.timing.policy import Engine
    from ergo.timing.worktime import local_zone

    if hours <= 0 or hours > 24 * 14:
        raise ErgoError("--hours must be between 0 and 336")
    zone = local_zone()
    specs, timing = specs_from(settings, zone)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    end = now + timedelta(hours=hours)
    engine = Engine.start(specs, timing, now)
    print(_("Coming reminders for the next %(hours)sh, counting from now (as if ergo started now):") % {
        "hours": f"{hours:g}"})
    if not specs:
        print("  " + _("no reminder is enabled"))
        return 0
    for line in timeline.work_hours(specs):
        print("  " + _("work hours: %(hours)s") % {"hours": words.hours(line)})
    events = timeline.window_events(specs, now, end)
    running_plan = _running_plan(paths, now)
    if running_plan is not None:
        events += _plan_events(*running_plan, now, end)
        engine.set_kind_holds(_plan_holds(*running_plan, specs, zone))
    coming = timeline.reminders(engine, now, end)
    events += coming
    printed = len(coming)
    last_day = None
    for at, text in sorted(events):
        local = at.astimezone(zone)
        if local.date() != last_day:
            last_day = local.date()
            print(words.day(at.timestamp()))
        print(f"  {words.clock(at.timestamp())}  {words.event(text)}")
    if printed == 0:
        print("  " + _("nothing falls due in that time"))
    return 0


def _running_plan(paths: Paths | None, now: datetime) -> tuple[Any, Any] | None:
    """The running plan and its stored state (the plan lives in the state file), or None."""
    from ergo.commands.plan import current
    from ergo.plans import timing
    from ergo.plans.catalog import load_plans

    running = current(paths) if paths is not None else None
    plans = load_plans()
    if running is None or running.name not in plans or timing.finished(running, now):
        return None
    return plans[running.name], running


def _plan_holds(plan: Any, running: Any, specs: dict, zone: Any) -> dict:
    """The plan's holds on ordinary reminders (the same pure decision the daemon uses), each said in one line."""
    from ergo.plans import timing

    from ergo.commands.words import day_and_clock, plan_why
    from ergo.i18n import _

    holds = timing.reminder_holds(plan, running)
    for kind, hold in holds.items():
        if kind in specs:
            print("  " + _("%(kind)s reminders held until %(time)s: %(why)s") % {
                "kind": kind, "time": day_and_clock(hold.end.timestamp()), "why": plan_why(hold.why)})
    return holds


def _plan_events(plan: Any, running: Any, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """The running plan's steps in (start, end], for the timeline."""
    from ergo.plans import timing
    from ergo.timing.worktime import local_zone

    events = [(at, f"plan {plan.name}: {step.title}") for at, step in timing.occurrences(plan, running, local_zone(), start, end)]
    if running.ends <= end:
        events.append((running.ends, f"-- plan {plan.name} ends"))
    return events


def plan_timeline(paths: Paths) -> int:
    """`ergo schedule --plan`: every step of the running plan from now until it ends, day by day."""
    from ergo.commands import words
    from ergo.i18n import _, translator
    from ergo.plans import timing
    from ergo.plans.catalog import localized
    from ergo.timing.worktime import local_zone

    now = datetime.now(timezone.utc)
    found = _running_plan(paths, now)
    if found is None:
        print(_("no plan is running (`ergo plan start NAME`; `ergo plan list` shows them)"))
        return 0
    plan, running = found
    plan = localized(plan, translator())
    zone = local_zone()
    print(_("Plan %(name)s (%(title)s), waking hours %(waking)s, until %(time)s:") % {
        "name": plan.name, "title": plan.title, "waking": running.waking, "time": words.day_and_clock(running.ends.timestamp())})
    for kind, hold in timing.reminder_holds(plan, running).items():
        print("  " + _("%(kind)s reminders held until %(time)s: %(why)s") % {
            "kind": kind, "time": words.day_and_clock(hold.end.timestamp()), "why": words.plan_why(hold.why)})
    last_day = None
    for at, step in timing.occurrences(plan, running, zone, now, running.ends):
        local = at.astimezone(zone)
        if local.date() != last_day:
            last_day = local.date()
            day = (local.date() - running.started.astimezone(zone).date()).days + 1
            # TRANSLATORS: a day heading of a plan's timeline: "Wed 02 Dec (day 2)"
            print(_("%(date)s (day %(day)d)") % {"date": words.day(at.timestamp()), "day": day})
        print(f"  {words.clock(at.timestamp())}  {step.title}: {step.text}")
    print(f"{words.day_and_clock(running.ends.timestamp())}  " + _("-- the plan ends by itself"))
    return 0


def _shown_in_this_cycle(paths: Paths) -> dict[str, set[str]]:
    """The tips the daemon has shown in its current rotation cycle, read only (no state file: none)."""
    if not paths.state_db.exists():
        return {}
    from ergo.records.store import Store

    store = Store(paths.state_db, read_only=True)
    try:
        return store.shown_tips()
    finally:
        store.close()


def notify_test(settings: Any, kind: str, paths: Paths) -> int:
    """Send one reminder through the configured backend, with no fallback, and say exactly what happened.

    The rotation is left alone: the test reuses a tip already shown in this cycle, which the
    daemon will not pick next, so the next real reminder never repeats the test.
    """
    import random

    from ergo.tips.compose import Message, kind_texts
    from ergo.notify.base import Notification
    from ergo.notify.select import select_notifier
    from ergo.i18n import translator
    from ergo.tips import load_catalog, localized

    gettext = translator(settings.language)
    reminders = settings.reminders()
    if kind not in reminders:
        raise ErgoError(f"{kind!r} is not a reminder kind ({', '.join(reminders)})")
    notifier, reason = select_notifier(settings.notifier)
    reminder = reminders[kind]
    text = kind_texts(kind, reminder.title and gettext(reminder.title), reminder.messages,
                      localized(load_catalog(), gettext))
    shown = _shown_in_this_cycle(paths).get(kind, set())
    tip = random.choice([t for t in text.tips if t.id in shown] or list(text.tips)) if text.tips else None
    message = Message(kind, text.title, tip.text if tip else f"Time for your {kind} reminder.", {kind: tip.id} if tip else {})
    try:
        notifier.send(Notification(message.key, message.title, message.body, reminder.urgency, settings.expire))
    except NotifyError as error:
        raise ErgoError(f"notify-test failed via {notifier.name}: {error}") from None
    finally:
        notifier.close()
    print(f"sent a {kind} reminder via {reason}" + (f" (tip {message.tip_ids[0]})" if message.tip_ids else ""))
    return 0


def history(paths: Paths, days: float, as_json: bool) -> int:
    """The diary: each reminder and what became of it, oldest first, grouped by day.

    Streamed: rows are read a batch at a time and each entry printed once nothing can change it,
    so ten years of history print in the same memory as one day.
    """
    import sys

    from ergo.i18n import _, format_date, format_time, ngettext
    from ergo.records.diary import describe, diary_stream
    from ergo.records.store import Store

    if not paths.state_db.exists():
        print("[]" if as_json else _("no history yet"))
        return 0
    store = Store(paths.state_db, read_only=True)  # a read-only command never moves or creates anything
    try:
        entries = diary_stream(store.iter_history(datetime.now(timezone.utc) - timedelta(days=days)))
        if as_json:
            _json_list((entry.as_json() for entry in entries), sys.stdout)
            return 0
        day = None
        reminders = done = natural = 0
        for entry in entries:
            local = entry.at.astimezone()
            if local.date() != day:
                day = local.date()
                print(format_date(local, "%a %d %b", "EEEdMMM"))
            print(f"  {format_time(local)}  {entry.kind:<10} {describe(entry)}")
            if entry.what == "reminder":
                reminders += 1
                done += entry.outcome == "done"
            natural += entry.what == "natural break"
    finally:
        store.close()
    if day is None:
        print(_("nothing recorded in that time"))
        return 0
    # TRANSLATORS: the last line of `ergo history`, e.g. "75 reminders, 30 answered with a break; 2 natural breaks"
    print(_("%(reminders)s, %(done)d answered with a break; %(natural)s") % {
        "reminders": ngettext("%(count)d reminder", "%(count)d reminders", reminders) % {"count": reminders},
        "done": done,
        "natural": ngettext("%(count)d natural break", "%(count)d natural breaks", natural) % {"count": natural}})
    return 0


def _json_list(items: Any, out: Any, chunk: int = 500) -> None:
    """A JSON array written a chunk at a time, one entry per line (json's C encoder: `indent` would
    switch to its pure-Python one, several times slower over years of history)."""
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    lines: list[str] = []
    first = True
    for item in items:
        lines.append(dumps(item))
        if len(lines) >= chunk:
            out.write(("[\n" if first else ",\n") + ",\n".join(lines))
            first, lines = False, []
    if lines:
        out.write(("[\n" if first else ",\n") + ",\n".join(lines))
        first = False
    out.write("[]\n" if first else "\n]\n")


def gather_stats(paths: Paths, settings: Any, length: str, today: Any = None) -> Any:
    """Read the store and compute ergo.records.stats.Stats for the period ending today (local time)."""
    from ergo.records.stats import compute, day_bounds, period
    from ergo.records.store import Store
    from ergo.timing.worktime import local_zone

    zone = local_zone()
    today = today or datetime.now(zone).date()
    first, last = period(today, length)
    since, until = day_bounds(first, zone)[0], day_bounds(last, zone)[1]
    kinds = [kind for kind, r in settings.reminders().items() if r.enabled]
    goal = getattr(settings.reminders().get("hydration"), "daily_goal", None)
    if not paths.state_db.exists():
        return compute([], [], [], first, last, zone, kinds, goal)
    # read only: stats never creates, moves or migrates anything; a running daemon's spans reach its last sign of life
    store = Store(paths.state_db, alive_marker=paths.alive_marker, read_only=True)
    try:
        rows = store.history(since, limit=1_000_000, until=until)
        running, present = store.spans("running", since, until), store.spans("present", since, until)
    finally:
        store.close()
    return compute(rows, running, present, first, last, zone, kinds, goal)


def stats(paths: Paths, settings: Any, length: str, as_json: bool) -> int:
    """`ergo stats`: a table per kind and a bar chart per day (Unicode blocks, ASCII when the terminal is not UTF-8)."""
    import sys

    from ergo.records.stats import render

    result = gather_stats(paths, settings, length)
    if as_json:
        print(json.dumps(result.as_json(), indent=2))
        return 0
    encoding = (getattr(sys.stdout, "encoding", None) or "ascii").lower().replace("-", "")
    print(render(result, unicode=encoding.startswith("utf")))
    return 0


def report(paths: Paths, settings: Any, target: str, open_it: bool) -> int:
    """`ergo report --html FILE [--open]`: the week as one page, written atomically."""
    import os
    from pathlib import Path

    from ergo.i18n import _
    from ergo.records.report import render

    page = render(gather_stats(paths, settings, "week"), datetime.now(timezone.utc))
    path = Path(target).expanduser()
    if path.is_dir():
        raise ErgoError(f"--html {target}: is a directory; name a file, e.g. {path / 'ergo-week.html'}")
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(page, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ErgoError(f"--html {target}: cannot write it ({error.strerror or error})") from None
    print(_("report written to %(path)s") % {"path": path})
    if open_it:
        import webbrowser

        if not webbrowser.open(path.resolve().as_uri()):
            print(_("no web browser found: open %(address)s yourself") % {"address": path.resolve().as_uri()})
    return 0
