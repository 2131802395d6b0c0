"""When a plan's steps fall (ergo.plans.timing), at its edges: the same timeline whatever window is asked for
(what `ergo schedule` shows is what the daemon sends), one rhythm across midnight when waking hours cover the day,
nothing at or after the end of waking hours or of the plan, the stale limit to the microsecond, the plan's own
time zone rather than the machine's, and the holds on ordinary reminders. Pure: plans and times passed in."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ergo.plans import timing
from ergo.plans.catalog import Plan, ReminderRule, Source, Step, load_plans

ACUTE = load_plans()["acute-back"]
BERLIN = ZoneInfo("Europe/Berlin")
US = timedelta(microseconds=1)
H = timedelta(hours=1)
CITE = Source("000.md", "Section", "quote")


def local(d: int, h: int, mi: int = 0, zone=BERLIN) -> datetime:
    return datetime(2026, 11, d, h, mi, tzinfo=zone).astimezone(timezone.utc)


def plan_of(*steps: Step, length: timedelta = timedelta(days=3), waking: str = "08:00-22:00", **extra) -> Plan:
    return Plan("test", "Test", "", length, waking, steps, {}, **extra)


def clock(times, zone=BERLIN) -> list[str]:
    return [at.astimezone(zone).strftime("%a %H:%M") for at, *_ in times]


def whole(plan: Plan, running: timing.Running, zone=BERLIN) -> list[tuple[datetime, str]]:
    return [(at, s.id) for at, s in timing.occurrences(plan, running, zone, running.started - US, running.ends)]


def test_with_waking_hours_all_day_a_repeated_step_keeps_its_interval_across_midnight() -> None:
    """`ergo plan start acute-back --waking 00:00-24:00`: the daemon, stepping from one step to the next as it
    does, sends the cold pack every 3 hours day and night, exactly when `ergo schedule` said it would."""
    start = local(23, 10)
    running = timing.start(ACUTE, start, "00:00-24:00", {"cold_every": "3h"})
    sent, now = [], start
    while now is not None and now < start + timedelta(days=2):
        fresh, stale, running = timing.due(ACUTE, running, BERLIN, now)
        assert not stale
        sent += [(at, s.id) for at, s in fresh if s.id == "cold"]
        now = timing.next_time(ACUTE, running, BERLIN, now)
    gaps = {b[0] - a[0] for a, b in zip(sent, sent[1:])}
    assert gaps == {3 * H}, clock(sent)
    assert sent == [x for x in whole(ACUTE, running) if x[1] == "cold" and x[0] < start + timedelta(days=2)]


def test_with_waking_hours_all_day_a_per_day_step_is_spread_over_each_day() -> None:
    step = Step("heat", "Heat", "text", CITE, per_day=3)
    plan = plan_of(step, length=timedelta(days=2), waking="00:00-24:00")
    running = timing.start(plan, local(23, 0), "00:00-24:00", {})
    assert clock(whole(plan, running)) == ["Mon 04:00", "Mon 12:00", "Mon 20:00", "Tue 04:00", "Tue 12:00", "Tue 20:00"]


@hsettings(max_examples=40, deadline=None, derandomize=True)
@given(waking=st.sampled_from(["08:00-22:00", "00:00-24:00", "20:00-04:00", "06:30-23:45"]),
       cold=st.sampled_from(["2h", "3h", "3h20m", "4h"]), heat=st.integers(1, 6),
       offset=st.integers(0, 24 * 60 - 1), cuts=st.lists(st.integers(1, 7 * 24 * 60), min_size=1, max_size=6))
def test_the_steps_in_any_window_are_the_plans_timeline_cut_to_that_window(waking, cold, heat, offset, cuts) -> None:
    """`ergo schedule` asks for a day, the daemon for the time since its last check, `next_time` for two days at a
    time: each gets the same steps, in time order."""
    start = local(23, 0) + timedelta(minutes=offset)
    running = timing.start(ACUTE, start, waking, timing.resolve_options(ACUTE, {"cold_every": cold,
                                                                                "heat_per_day": str(heat)}))
    full = timing.occurrences(ACUTE, running, BERLIN, start - US, running.ends)
    assert [at for at, _ in full] == sorted(at for at, _ in full)
    edges = [start - US, *sorted(start + timedelta(minutes=c) for c in set(cuts)), running.ends]
    for lo, hi in zip(edges, edges[1:]):
        assert timing.occurrences(ACUTE, running, BERLIN, lo, hi) == [(at, s) for at, s in full if lo < at <= hi]
    for lo in edges[:-1]:
        after = [at for at, _ in full if at > lo]
        assert timing.next_time(ACUTE, running, BERLIN, lo) == (after[0] if after else None)


def test_a_step_once_after_the_start_never_comes_after_the_plan_has_ended() -> None:
    """A plan shortened below its `after` step: `ergo schedule` over the next day shows nothing of it."""
    plan = plan_of(Step("later", "Later", "text", CITE, after=timedelta(minutes=10)), length=timedelta(minutes=5))
    running = timing.start(plan, local(23, 9), "00:00-24:00", {})
    assert timing.occurrences(plan, running, BERLIN, running.started - US, running.started + timedelta(days=1)) == []
    kept = plan_of(Step("later", "Later", "text", CITE, after=timedelta(minutes=5)), length=timedelta(minutes=5))
    assert clock(whole(kept, timing.start(kept, local(23, 9), "00:00-24:00", {}))) == ["Mon 09:05"]


def test_a_per_day_step_is_sent_when_its_part_of_the_plan_begins_and_not_at_the_plans_end() -> None:
    """One a day in 08:00-22:00 falls at 15:00; a plan started at 15:00 sends it at once and ends at 15:00 two days
    later without it: the plan runs [start, end)."""
    plan = plan_of(Step("mid", "Mid", "text", CITE, per_day=1), length=timedelta(days=2))
    running = timing.start(plan, local(23, 15), "08:00-22:00", {})
    assert clock(whole(plan, running)) == ["Mon 15:00", "Tue 15:00"]
    fresh, _, _ = timing.due(plan, running, BERLIN, running.ends)
    assert clock(fresh) == []  # Wed 15:00 is the end, not a step


def test_a_step_shifted_onto_the_end_of_waking_hours_is_left_out() -> None:
    """No plan step falls at or after the end of waking hours: 15:00 shifted 7 h is 22:00, the end; 6h55m is in."""
    out = plan_of(Step("late", "Late", "text", CITE, per_day=1, shift=7 * H), length=timedelta(days=2))
    assert whole(out, timing.start(out, local(23, 0), "08:00-22:00", {})) == []
    kept = plan_of(Step("late", "Late", "text", CITE, per_day=1, shift=7 * H - timedelta(minutes=5)),
                   length=timedelta(days=2))
    assert clock(whole(kept, timing.start(kept, local(23, 0), "08:00-22:00", {}))) == ["Mon 21:55", "Tue 21:55"]


def test_waking_hours_too_short_for_the_steps_a_day_give_each_mark_once() -> None:
    plan = plan_of(Step("many", "Many", "text", CITE, per_day=6), length=timedelta(days=1), waking="08:00-08:10")
    assert clock(whole(plan, timing.start(plan, local(23, 0), "08:00-08:10", {}))) == ["Mon 08:00", "Mon 08:05"]


def test_a_plan_stored_before_an_option_existed_uses_the_plans_default() -> None:
    """A stored plan carries its options; one stored by an older ergo lacks the new ones: their defaults hold."""
    start = local(23, 9)
    bare = timing.Running("acute-back", start, start + timedelta(days=7), "08:00-22:00")
    given_ = timing.start(ACUTE, start, "08:00-22:00", timing.resolve_options(ACUTE, {}))
    assert whole(ACUTE, bare) == whole(ACUTE, given_)
    assert sum(1 for _, s in whole(ACUTE, bare) if s == "heat") == 3 * 4  # 3 a day on days 4 to 7


def test_a_stored_plan_with_no_last_check_counts_from_its_start() -> None:
    start = local(23, 9)
    stored = timing.Running.from_json({"name": "acute-back", "started": start.isoformat(),
                                       "ends": (start + timedelta(days=7)).isoformat(), "waking": "08:00-22:00",
                                       "last": None})
    fresh, stale, after = timing.due(ACUTE, stored, BERLIN, start + timedelta(minutes=1))
    assert [s.id for _, s in fresh] == ["cold"] and stale == [] and after.last == start + timedelta(minutes=1)


def test_a_step_exactly_thirty_minutes_late_still_goes_out_and_a_microsecond_more_is_skipped() -> None:
    plan = plan_of(Step("once", "Once", "text", CITE, after=H))
    running = timing.start(plan, local(23, 9), "00:00-24:00", {})
    at = running.started + H
    fresh, stale, _ = timing.due(plan, running, BERLIN, at + timing.STALE)
    assert (len(fresh), len(stale)) == (1, 0)
    fresh, stale, _ = timing.due(plan, running, BERLIN, at + timing.STALE + US)
    assert (len(fresh), len(stale)) == (0, 1)


def test_a_kind_held_until_a_step_that_begins_at_once_is_not_held() -> None:
    steps = (Step("now", "Now", "text", CITE, every="1h"), Step("soon", "Soon", "text", CITE, every="1h", start=H))
    rules = {"stretch": ReminderRule("stretch", "why", held_until="now"),
             "movement": ReminderRule("movement", "why", held_until="soon")}
    plan = plan_of(*steps, reminders=rules)
    running = timing.start(plan, local(23, 9), "08:00-22:00", {})
    holds = timing.reminder_holds(plan, running)
    assert list(holds) == ["movement"] and holds["movement"].end == running.started + H


@pytest.fixture(params=[("Pacific/Kiritimati", "Pacific/Pago_Pago"), ("Pacific/Pago_Pago", "Pacific/Kiritimati")],
                ids=["machine-east", "machine-west"])
def zones(request, monkeypatch):
    """(the machine's zone, the plan's zone), 25 hours apart, the machine's set through TZ."""
    machine, plan_zone = request.param

    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use, machine, ZoneInfo(plan_zone)
    monkeypatch.undo()
    time.tzset()


def test_a_plans_days_follow_the_plans_zone_not_the_machines(zones) -> None:
    """Waking hours, the days they fall on and the day the warning signs went out are the plan's local ones: the
    same answers whatever zone the machine is set to."""
    use, machine, zone = zones
    plan = plan_of(Step("cold", "Cold", "text", CITE, every="3h"), Step("heat", "Heat", "text", CITE, per_day=4),
                   length=timedelta(days=3), red_flag="see a doctor")

    def answers(waking: str) -> list:
        start = datetime(2026, 11, 23, 21, 10, tzinfo=zone)
        running = timing.start(plan, start, waking, {})
        cuts = [start + timedelta(hours=h) for h in range(0, 72, 5)]
        out: list = [timing.occurrences(plan, running, zone, lo, hi) for lo, hi in zip(cuts, cuts[1:])]
        out += [timing.next_time(plan, running, zone, at) for at in cuts]
        out += [timing.warned(running, zone, at).warned for at in cuts]
        out += [timing.warn_today(plan, timing.warned(running, zone, start), zone, at) for at in cuts]
        return out

    use(zone.key)
    expected = {waking: answers(waking) for waking in ("08:00-22:00", "20:00-04:00")}
    use(machine)
    assert {waking: answers(waking) for waking in expected} == expected
