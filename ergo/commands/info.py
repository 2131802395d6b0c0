"""Commands that need no daemon: tips, schedule, notify-test, history."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from ergo.errors import ErgoError, NotifyError
from ergo.paths import Paths


def run(command: str, config: str | None, flags: dict[str, Any], args: argparse.Namespace) -> int:
    if command == "tips":
        return tips(args.kind)
    if command == "history":
        return history(Paths.resolve(config), args.days, args.json)
    from ergo.config.model import load_settings

    paths = Paths.resolve(config)
    loaded = load_settings(paths.config_file, flags)
    if command == "schedule":
        return schedule(loaded.settings, args.hours)
    if command == "notify-test":
        return notify_test(loaded.settings, args.kind)
    raise ErgoError(f"unknown command {command!r}")


def tips(kind: str | None) -> int:
    from ergo.tips import load_catalog

    catalog = load_catalog()
    if kind is not None and kind not in catalog:
        raise ErgoError(f"no tips of kind {kind!r} (kinds: {', '.join(catalog)})")
    for name, items in catalog.items():
        if kind is not None and name != kind:
            continue
        print(f"{name} ({len(items)} tips)")
        for tip in items:
            print(f"  {tip.id:<14} {tip.text}")
            print(f"  {'':<14} source: {tip.source}, section \"{tip.section}\"")
    return 0


def schedule(settings: Any, hours: float) -> int:
    """Simulate the coming reminders with a fresh start now, through the same Engine the daemon uses."""
    from ergo.daemon import specs_from
    from ergo.policy import Deliver, Engine
    from ergo.worktime import local_zone

    if hours <= 0 or hours > 24 * 14:
        raise ErgoError("--hours must be between 0 and 336")
    zone = local_zone()
    specs, timing = specs_from(settings, zone)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    end = now + timedelta(hours=hours)
    engine = Engine.start(specs, timing, now)
    print(f"Coming reminders for the next {hours:g}h, counting from now (as if ergo started now):")
    if not specs:
        print("  no reminder is enabled")
        return 0
    hours_seen: set[str] = set()
    for kind, spec in specs.items():
        text = spec.hours.describe()
        if text not in hours_seen:
            hours_seen.add(text)
            print(f"  work hours: {text}" + (f" (for {kind})" if len({s.hours for s in specs.values()}) > 1 else ""))
    events = _window_events(specs, now, end)
    moment = now
    printed = 0
    while printed < 500:
        wake = engine.next_wakeup(moment)
        if wake is None or wake > end:
            break
        moment = wake
        for outcome in engine.tick(moment):
            if isinstance(outcome, Deliver):
                events.append((moment, " + ".join(outcome.kinds) + ("  (merged)" if len(outcome.kinds) > 1 else "")))
                printed += 1
    last_day = None
    for at, text in sorted(events):
        local = at.astimezone(zone)
        if local.date() != last_day:
            last_day = local.date()
            print(f"{local:%a %d %b}")
        print(f"  {local:%H:%M}  {text}")
    if printed == 0:
        print("  nothing falls due in that time")
    return 0


def _window_events(specs: dict, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Work-hour window starts and ends within [start, end), for the timeline."""
    events: set[tuple[datetime, str]] = set()
    for spec in specs.values():
        if spec.hours.always:
            continue
        moment = start
        while True:
            upcoming = spec.hours.next_start(moment)
            if upcoming is None or upcoming[0] >= end:
                break
            events.add((upcoming[0], "-- work hours begin"))
            if upcoming[1] < end:
                events.add((upcoming[1], "-- work hours end"))
            moment = upcoming[0]
        current = spec.hours.window_at(start)
        if current is not None and current[1] < end:
            events.add((current[1], "-- work hours end"))
    return sorted(events)


def notify_test(settings: Any, kind: str) -> int:
    """Send one reminder through the configured backend, with no fallback, and say exactly what happened."""
    from ergo.compose import compose, kind_texts
    from ergo.notify.base import Notification
    from ergo.notify.select import select_notifier
    from ergo.tips import load_catalog

    reminders = settings.reminders()
    if kind not in reminders:
        raise ErgoError(f"{kind!r} is not a reminder kind ({', '.join(reminders)})")
    notifier, reason = select_notifier(settings.notifier)
    reminder = reminders[kind]
    texts = {kind: kind_texts(kind, reminder.title, reminder.messages, load_catalog())}
    message, _ = compose((kind,), texts, {})
    try:
        notifier.send(Notification(message.key, message.title, message.body, reminder.urgency, settings.expire))
    except NotifyError as error:
        raise ErgoError(f"notify-test failed via {notifier.name}: {error}") from None
    finally:
        notifier.close()
    print(f"sent a {kind} reminder via {reason}" + (f" (tip {message.tip_ids[0]})" if message.tip_ids else ""))
    return 0


def history(paths: Paths, days: float, as_json: bool) -> int:
    from ergo.store import Store

    if not paths.state_db.exists():
        print("no history yet")
        return 0
    store = Store(paths.state_db, read_only=True)  # a read-only command never moves or creates anything
    try:
        rows = store.history(datetime.now(timezone.utc) - timedelta(days=days))
    finally:
        store.close()
    if as_json:
        print(json.dumps([{"at": r.at.isoformat(), "kind": r.kind, "event": r.event, "detail": r.detail} for r in rows], indent=2))
        return 0
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        print(f"{row.at.astimezone():%a %H:%M:%S}  {row.kind:<10} {row.event.replace('_', ' '):<14} {row.detail}")
        counts[(row.kind, row.event)] = counts.get((row.kind, row.event), 0) + 1
    if counts:
        print("totals: " + ", ".join(f"{kind} {event.replace('_', ' ')} {n}" for (kind, event), n in sorted(counts.items())))
    else:
        print("nothing recorded in that time")
    return 0
