"""What a running plan does to the ordinary reminders: the pure decision (ergo.plans.timing.reminder_holds
and the Engine's KindHold rule in ergo.policy), simulated over the plan's week, one microsecond either side
of each edge; then the real daemon, `ergo status` and `ergo schedule` saying why.

acute-back: stretch reminders are held until its own gentle movement (move-3) brings stretching back, and
then carry "only as far as the pain allows ... stop if it grows"; movement reminders are replaced by its
gentle movement steps until it ends.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ergo.plans import timing
from ergo.plans.catalog import load_plans
from ergo.timing.decisions import Deliver, KindHold, ReminderSpec, Timing
from ergo.timing.policy import Engine
from ergo.timing.worktime import WorkHours
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.simulation import World, simulate

BERLIN = ZoneInfo("Europe/Berlin")
ACUTE = load_plans()["acute-back"]
US = timedelta(microseconds=1)
H = timedelta(hours=1)


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN).astimezone(timezone.utc)


def default_specs(hours: str = "09:00-17:00", days: str = "mon-fri") -> dict[str, ReminderSpec]:
    """ergo's four default reminders at their default intervals, in office hours."""
    work = WorkHours.parse(days, hours, BERLIN)
    return {kind: ReminderSpec(kind, interval, None, work) for kind, interval in (
        ("posture", timedelta(minutes=30)), ("hydration", timedelta(minutes=45)),
        ("stretch", timedelta(hours=1)), ("movement", timedelta(minutes=50)))}


def acute(start: datetime, **options: str) -> timing.Running:
    return timing.start(ACUTE, start, "08:00-22:00", timing.resolve_options(ACUTE, options))


# --- the decision: which kinds, from when to when ------------------------------------------------


def test_acute_back_holds_stretching_until_its_gentle_movement_and_movement_until_it_ends() -> None:
    start = local(2026, 11, 23, 9, 7)
    running = acute(start)
    holds = timing.reminder_holds(ACUTE, running)
    assert set(holds) == {"stretch", "movement"}  # posture and water go on as ever
    assert holds["stretch"] == KindHold(start, start + ACUTE.step("move-3").start, holds["stretch"].why)
    assert ACUTE.step("move-3").start == 120 * H and "stretch" in ACUTE.step("move-3").text
    assert holds["movement"].start == start and holds["movement"].end == running.ends
    assert "acute-back plan" in holds["stretch"].why and "gentle movement" in holds["movement"].why
    short = acute(start, days="4")  # ends before move-3 would begin: stretching never comes back
    assert timing.reminder_holds(ACUTE, short)["stretch"].end == short.ends
    assert timing.reminder_holds(load_plans()["after-workout"], running) == {}


def test_a_week_of_acute_back_simulated_with_the_default_reminders() -> None:
    start = local(2026, 11, 23, 9, 7)  # a Monday morning
    running = acute(start)
    holds = timing.reminder_holds(ACUTE, running)
    back = start + 120 * H  # move-3: Saturday 09:07; stretch reminders return on the next work day
    end = running.ends + timedelta(days=3)
    run = simulate(default_specs(), Timing(), World(), start, end, holds)
    when = {kind: [d.at for d in run.deliveries if kind in d.kinds] for kind in default_specs()}
    assert not [at for at in when["stretch"] if at < back], "a stretch reminder came before the plan brings stretching back"
    assert not [at for at in when["movement"] if at < running.ends], "a 50-minute movement reminder came during the plan"
    assert len(when["posture"]) > 5 * 15 and len(when["hydration"]) > 5 * 9  # the rest go on every work day
    first_stretch = min(when["stretch"])
    assert first_stretch == local(2026, 11, 30, 10, 0)  # Monday (Sat/Sun are off): a fresh countdown at 09:00
    first_move = min(when["movement"])
    assert first_move == running.ends + timedelta(minutes=50)  # the plan ended at 09:07 Monday: counted afresh
    assert not run.records, "a held kind never goes stale: it is not due while the plan holds it"


def test_with_work_hours_all_week_stretching_returns_exactly_an_interval_after_the_hold() -> None:
    start = local(2026, 11, 23, 9, 7)
    running = acute(start)
    holds = timing.reminder_holds(ACUTE, running)
    run = simulate(default_specs("00:00-24:00", "mon-sun"), Timing(), World(), start, start + 121 * H + US, holds)
    stretches = [d.at for d in run.deliveries if "stretch" in d.kinds]
    assert stretches == [start + 121 * H]


def test_the_hold_edges_to_the_microsecond() -> None:
    start = local(2026, 11, 23, 9)
    always = WorkHours.parse("mon-sun", "00:00-24:00", BERLIN)
    engine = Engine.start({"stretch": ReminderSpec("stretch", H, None, always)}, Timing(), start)
    hold = KindHold(start, start + 5 * H, "acute-back plan: stretching comes back with the plan's gentle movement")
    engine.set_kind_holds({"stretch": hold})
    assert engine.next_due("stretch", start) == hold.end + H  # counted afresh from the hold's end
    assert engine.tick(start + 5 * H - US) == []
    assert engine.plan_hold("stretch", hold.end - US) == hold and engine.plan_hold("stretch", hold.end) is None
    assert engine.waiting_for("stretch", start + H) == hold.why  # what `ergo status` says
    assert engine.tick(hold.end + H - US) == []
    assert [o.kinds for o in engine.tick(hold.end + H) if isinstance(o, Deliver)] == [("stretch",)]


def test_the_plan_ending_early_gives_the_reminders_back_at_once_counted_afresh() -> None:
    start = local(2026, 11, 23, 9)
    always = WorkHours.parse("mon-sun", "00:00-24:00", BERLIN)
    engine = Engine.start({"movement": ReminderSpec("movement", timedelta(minutes=50), None, always)}, Timing(), start)
    engine.set_kind_holds({"movement": KindHold(start, start + 7 * 24 * H, "held")})
    stopped = start + 3 * H
    assert engine.next_due("movement", stopped) > start + 7 * 24 * H
    engine.set_kind_holds({})  # `ergo plan stop`
    assert engine.next_due("movement", stopped) == start + timedelta(minutes=50)  # its own countdown: overdue, once
    assert [o.kinds for o in engine.tick(stopped) if isinstance(o, Deliver)] == [("movement",)]


def test_a_reminder_overdue_when_the_plan_starts_is_held_with_the_rest() -> None:
    """A stretch reminder that fell due while you were away (held, not yet shown) must not come out the
    moment the acute-back plan starts: the plan's hold covers what is overdue as much as what is coming."""
    start = local(2026, 11, 23, 9)
    always = WorkHours.parse("mon-sun", "00:00-24:00", BERLIN)
    engine = Engine.start({"stretch": ReminderSpec("stretch", H, None, always)}, Timing(), start)
    engine.leave(start + 50 * timedelta(minutes=1), "locked")  # away from 09:50; stretch falls due at 10:00
    assert not [o for o in engine.tick(start + H + timedelta(minutes=5)) if isinstance(o, Deliver)]  # held: away
    plan_start = start + H + timedelta(minutes=10)  # 10:10: the plan starts while stretch is overdue
    hold = KindHold(plan_start, plan_start + 5 * H, "acute-back plan: stretching comes back with the plan's gentle movement")
    engine.set_kind_holds({"stretch": hold})
    assert engine.next_due("stretch", plan_start) == hold.end + H
    back = engine.back(plan_start + timedelta(minutes=1), "locked")
    assert not [o for o in back if isinstance(o, Deliver)]
    for minute in range(2, 5 * 60, 7):
        assert not [o for o in engine.tick(plan_start + timedelta(minutes=minute)) if isinstance(o, Deliver)]
    assert engine.waiting_for("stretch", plan_start + H) == hold.why
    assert [o.kinds for o in engine.tick(hold.end + H) if isinstance(o, Deliver)] == [("stretch",)]


# --- the real daemon -------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_daemon_holds_stretch_and_movement_while_acute_back_runs_and_says_why() -> None:
    with ErgoEnv.create(POSTURE__INTERVAL="2s", HYDRATION__ENABLED="false", STRETCH__ENABLED="true", STRETCH__INTERVAL="2s",
                        MOVEMENT__ENABLED="true", MOVEMENT__INTERVAL="2s", SCHEDULE__HOURS="00:00-24:00") as env:
        with Daemon(env) as daemon:
            started = env.cli("plan", "start", "acute-back", "--waking", "00:00-24:00")
            assert started.returncode == 0, started.stderr
            assert "stretch reminders are held until move-3 begins" in started.stdout
            assert "movement reminders are held until it ends" in started.stdout
            mark = len(daemon.stderr())
            wait_for(lambda: daemon.stderr()[mark:].count("reminder posture delivered") >= 3, 15, what="posture reminders")
            later = daemon.stderr()[mark:]
            assert "reminder stretch delivered" not in later and "reminder movement delivered" not in later
            status = json.loads(env.cli("status", "--json").stdout)["reminders"]
            assert status["stretch"]["held"] == "plan" and "gentle movement" in status["stretch"]["held_why"]
            assert status["movement"]["held"] == "plan" and status["movement"]["resumes_at"] == \
                json.loads(env.cli("status", "--json").stdout)["plan"]["ends"]
            shown = env.cli("status").stdout
            assert re.search(r"stretch .* held until \w{3} \d\d:\d\d \(acute-back plan: stretching comes back", shown), shown
            assert re.search(r"movement .* held until \w{3} \d\d:\d\d \(acute-back plan: the plan's own gentle movement", shown)
            schedule = env.cli("schedule", "--hours", "6").stdout
            assert "stretch reminders held until" in schedule and "movement reminders held until" in schedule
            assert not re.search(r"^\s+\d\d:\d\d\s+.*\b(stretch|movement)\b(?!.*plan)", schedule, re.M), schedule
            assert env.cli("plan", "stop").returncode == 0
            mark = len(daemon.stderr())
            wait_for(lambda: "reminder stretch delivered" in daemon.stderr()[mark:]
                     and "reminder movement delivered" in daemon.stderr()[mark:], 10, what="stretch and movement back")
            assert json.loads(env.cli("status", "--json").stdout)["reminders"]["stretch"]["held"] != "plan"


@pytest.mark.slow
def test_from_move_3_on_stretch_reminders_come_back_carrying_the_plans_care() -> None:
    from ergo.records.store import Store

    with ErgoEnv.create(POSTURE__ENABLED="false", HYDRATION__ENABLED="false", STRETCH__ENABLED="true", STRETCH__INTERVAL="2s",
                        MOVEMENT__ENABLED="false", SCHEDULE__HOURS="00:00-24:00") as env:
        now = datetime.now(timezone.utc)
        running = timing.Running("acute-back", now - 121 * H, now - 121 * H + timedelta(days=7), "00:00-24:00",
                                 timing.resolve_options(ACUTE, {}), now, now.astimezone().date().isoformat())
        env.state_dir.mkdir(parents=True, exist_ok=True)
        store = Store(env.state_dir / "state.sqlite3")
        store.save_plan(running.to_json())
        store.close()
        with Daemon(env) as daemon:
            wait_for(lambda: "Stop if it grows." in daemon.stdout(), 8, what="a stretch reminder with the plan's note")
            assert "Only if the sharp pain has eased, and only as far as the pain allows." in daemon.stdout()


def test_a_bar_names_the_kinds_the_plan_holds_and_counts_down_to_the_others() -> None:
    from ergo.control.glance import glance

    now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    status = {"running": True, "now": now.isoformat(), "paused": False, "hold": None, "reminders": {
        "posture": {"enabled": True, "next_due": (now + timedelta(minutes=12)).isoformat(), "held": None,
                    "interval_seconds": 1800.0},
        "stretch": {"enabled": True, "next_due": (now + 121 * H).isoformat(), "held": "plan",
                    "held_why": "acute-back plan: stretching comes back", "resumes_at": (now + 120 * H).isoformat(),
                    "interval_seconds": 3600.0}}}
    shown = glance(status)
    assert shown.text == "posture in 12 min"  # the held kind is not the next thing due
    assert "stretch: held by the plan until" in shown.tooltip
