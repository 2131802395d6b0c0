"""The pure timing Engine: unit rules, then property-based simulated weeks.

Time is simulated (tests/simulation.py): a fake clock is the one fake the
standards allow, and it lets a week of random life run in milliseconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ergo.timing.policy import Engine
from ergo.timing.decisions import Deliver, Record, ReminderSpec, Timing
from ergo.timing.worktime import WorkHours
from tests.simulation import World, merge_periods, simulate

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday
M = timedelta(minutes=1)
ALWAYS = WorkHours.parse("every day", "00:00-24:00", UTC)


def spec(kind: str, minutes: float, natural: float | None = 5, hours: WorkHours = ALWAYS) -> ReminderSpec:
    return ReminderSpec(kind, timedelta(minutes=minutes), None if natural is None else timedelta(minutes=natural), hours)


def engine(*specs: ReminderSpec, timing: Timing | None = None, start: datetime = T0) -> Engine:
    return Engine.start({s.kind: s for s in specs}, timing or Timing(), start)


def delivered(outcomes) -> list[tuple[str, ...]]:
    return [o.kinds for o in outcomes if isinstance(o, Deliver)]


# --- unit rules ---------------------------------------------------------------


def test_due_after_interval_and_not_before():
    e = engine(spec("posture", 30))
    assert e.next_due("posture", T0) == T0 + 30 * M
    assert e.tick(T0 + 29 * M) == []
    assert delivered(e.tick(T0 + 30 * M)) == [("posture",)]
    assert e.next_due("posture", T0 + 30 * M) == T0 + 60 * M


def test_reminders_due_within_merge_window_go_out_as_one():
    e = engine(spec("posture", 30), spec("hydration", 31))
    assert delivered(e.tick(T0 + 30 * M)) == [("posture", "hydration")]
    assert e.next_due("hydration", T0 + 30 * M) == T0 + 62 * M  # merged early, it keeps its rhythm


def test_notifications_never_closer_than_merge_window():
    e = engine(spec("posture", 30), spec("hydration", 33), timing=Timing(merge_window=2 * M))
    assert delivered(e.tick(T0 + 30 * M)) == [("posture",)]
    assert e.tick(T0 + 31 * M) == []
    assert delivered(e.tick(T0 + 33 * M)) == [("hydration",)]
    e2 = engine(spec("posture", 30), spec("hydration", 30.5), timing=Timing(merge_window=10 * timedelta(seconds=1)))
    assert delivered(e2.tick(T0 + 30 * M)) == [("posture",)]
    assert delivered(e2.tick(T0 + 30.5 * M)) == [("hydration",)]  # 30 s later: beyond the 10 s window


def test_away_holds_and_natural_break_restarts_countdown():
    e = engine(spec("posture", 30, natural=5), spec("hydration", 45, natural=None))
    e.observe_idle(T0 + 25 * M, timedelta(minutes=4))  # idle since 21 min: away
    assert e.hold(T0 + 25 * M) == "away"
    assert e.tick(T0 + 30 * M) == []  # due but away
    back = e.observe_idle(T0 + 40 * M, timedelta(seconds=2))  # back at ~39:58, away for ~19 min
    assert [r.kind for r in back if isinstance(r, Record) and r.event == "natural_break"] == ["posture"]
    assert e.next_due("posture", T0 + 40 * M) == T0 + 40 * M - timedelta(seconds=2) + 30 * M
    assert e.tick(T0 + 40 * M) == []  # nothing really due: no burst on return
    assert delivered(e.tick(T0 + 45 * M)) == [("hydration",)]


def test_short_absence_delivers_the_pending_reminder_once_on_return():
    e = engine(spec("posture", 30, natural=10))
    e.observe_idle(T0 + 29 * M, timedelta(minutes=3))
    assert e.tick(T0 + 30 * M) == []
    assert e.observe_idle(T0 + 33 * M, timedelta(0)) == []  # 7 min < natural break of 10
    assert delivered(e.tick(T0 + 33 * M)) == [("posture",)]
    assert e.tick(T0 + 33 * M + timedelta(seconds=1)) == []


def test_nothing_in_quiet_minute_after_resume_and_long_sleep_is_a_break():
    e = engine(spec("posture", 30, natural=5), timing=Timing(quiet_after_resume=M))
    e.leave(T0 + 10 * M, "asleep")
    assert e.tick(T0 + 31 * M) == []
    records = e.back(T0 + 50 * M, "asleep")
    assert any(r.event == "natural_break" for r in records)
    assert e.hold(T0 + 50 * M + timedelta(seconds=30)) == "quiet after resume"
    assert e.next_due("posture", T0 + 50 * M) == T0 + 80 * M


def test_short_lock_holds_then_delivers_after_the_quiet_minute():
    e = engine(spec("posture", 30, natural=10), timing=Timing(quiet_after_resume=M))
    e.leave(T0 + 28 * M, "locked")
    assert e.tick(T0 + 30 * M) == []
    e.back(T0 + 32 * M, "locked")
    assert e.tick(T0 + 32 * M) == []
    assert e.next_wakeup(T0 + 32 * M) == T0 + 33 * M
    assert delivered(e.tick(T0 + 33 * M)) == [("posture",)]


def test_pause_freezes_countdowns_and_resume_continues_them():
    e = engine(spec("posture", 30))
    e.pause(T0 + 10 * M, None)
    assert e.tick(T0 + 45 * M) == []
    assert e.next_wakeup(T0 + 45 * M) is None
    e.resume(T0 + 60 * M)
    assert e.next_due("posture", T0 + 60 * M) == T0 + 80 * M  # 20 min were left


def test_timed_pause_ends_by_itself():
    e = engine(spec("posture", 30))
    e.pause(T0 + 10 * M, T0 + 20 * M)
    assert e.next_wakeup(T0 + 11 * M) == T0 + 20 * M
    e.tick(T0 + 20 * M)
    assert not e.paused
    assert e.next_due("posture", T0 + 20 * M) == T0 + 40 * M


def test_dnd_holds_then_delivers_merged_or_skips_stale():
    e = engine(spec("posture", 30), spec("hydration", 32))
    e.set_dnd(T0 + 29 * M, True)
    assert e.tick(T0 + 30 * M) == [] and e.tick(T0 + 32 * M) == []
    e.set_dnd(T0 + 40 * M, False)
    assert delivered(e.tick(T0 + 40 * M)) == [("posture", "hydration")]
    e.set_dnd(T0 + 41 * M, True)
    e.tick(T0 + 70 * M)
    e.set_dnd(T0 + 103 * M, False)  # posture due at 70 (33 min ago > 30), hydration at 72 (31 min < 32)
    outcomes = e.tick(T0 + 103 * M)
    assert [(o.kind, o.event) for o in outcomes if isinstance(o, Record)] == [("posture", "skipped_stale")]
    assert delivered(outcomes) == [("hydration",)]
    assert e.next_due("posture", T0 + 103 * M) == T0 + 133 * M


def test_snooze_skip_and_now():
    e = engine(spec("posture", 30), spec("hydration", 45))
    e.snooze(T0 + 29 * M, "posture", T0 + 39 * M)
    assert e.tick(T0 + 30 * M) == []
    assert delivered(e.tick(T0 + 39 * M)) == [("posture",)]
    e.skip(T0 + 40 * M, "hydration")
    assert e.next_due("hydration", T0 + 40 * M) == T0 + 85 * M
    assert delivered(e.deliver_now(T0 + 41 * M, "hydration")) == [("hydration",)]
    assert e.next_due("hydration", T0 + 41 * M) == T0 + 86 * M


def test_reconfigure_keeps_unchanged_countdowns():
    e = engine(spec("posture", 30), spec("hydration", 45))
    changed = e.reconfigure(T0 + 10 * M, {"posture": spec("posture", 30), "hydration": spec("hydration", 20), "stretch": spec("stretch", 60)}, Timing())
    assert changed == {"hydration", "stretch"}
    assert e.next_due("posture", T0 + 10 * M) == T0 + 30 * M
    assert e.next_due("hydration", T0 + 10 * M) == T0 + 30 * M
    e.reconfigure(T0 + 11 * M, {"posture": spec("posture", 30)}, Timing())
    assert set(e.reminders) == {"posture"}


def test_work_hours_hold_and_start_fresh_at_window_start():
    office = WorkHours.parse("mon-fri", "09:00-12:30, 13:30-18:00", UTC)
    e = engine(spec("posture", 30, hours=office), start=datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert e.next_due("posture", datetime(2026, 11, 23, 7, 0, tzinfo=UTC)) == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert e.tick(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) == []  # no reminder at 09:00 sharp
    lunch = datetime(2026, 11, 23, 12, 45, tzinfo=UTC)
    assert e.next_due("posture", lunch) == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    friday_evening = datetime(2026, 11, 27, 18, 5, tzinfo=UTC)
    assert e.next_due("posture", friday_evening) == datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def test_merging_never_pulls_a_reminder_out_of_its_work_hours():
    office = WorkHours.parse("mon-fri", "09:00-12:30, 13:30-18:00", UTC)
    e = engine(spec("posture", 2, hours=office), spec("hydration", 2), timing=Timing(merge_window=timedelta(seconds=124)),
               start=datetime(2026, 11, 23, 13, 27, 56, tzinfo=UTC))
    assert delivered(e.tick(datetime(2026, 11, 23, 13, 29, 56, tzinfo=UTC))) == [("hydration",)]  # posture starts at 13:30


def test_clock_jumps_neither_hang_nor_burst():
    e = engine(spec("posture", 1), spec("hydration", 2))
    far = T0 + timedelta(days=400)
    e.clock_jump(far, far - T0)
    outcomes = e.tick(far)
    assert delivered(outcomes) == []  # quiet minute after the jump
    wake = e.next_wakeup(far)
    assert wake is not None and wake - far <= timedelta(minutes=2)
    assert len(delivered(e.tick(wake))) <= 1
    back = far - timedelta(days=3)
    e.clock_jump(back, -timedelta(days=3))
    wake = e.next_wakeup(back)
    assert wake is not None and timedelta(0) < wake - back <= timedelta(minutes=2)


def test_snapshot_restore_continues_countdowns_and_drops_expired():
    e = engine(spec("posture", 30), spec("hydration", 45))
    e.snooze(T0 + 1 * M, "hydration", T0 + 5 * M)
    e.pause(T0 + 2 * M, T0 + 4 * M)
    snap = e.snapshot()
    later = T0 + 10 * M
    r = Engine.restore(snap, e.specs, e.timing, later, downtime=timedelta(seconds=20))
    assert not r.paused and r.reminders["hydration"].snoozed_until is None
    assert r.next_due("posture", later) == T0 + 32 * M  # 2 min of pause frozen, then continued
    fresh = Engine.restore(snap, e.specs, e.timing, T0 + 9 * 60 * M, downtime=timedelta(hours=8))
    assert fresh.next_due("posture", T0 + 9 * 60 * M) == T0 + 9 * 60 * M + 30 * M


# --- simulated weeks ------------------------------------------------------------

HOURS = [("every day", "00:00-24:00"), ("mon-fri", "09:00-12:30, 13:30-18:00"), ("every day", "22:00-06:00"), ("sat-sun", "10:00-16:00")]
STARTS = [
    datetime(2026, 11, 23, 0, 0, tzinfo=UTC),  # an ordinary week
    datetime(2026, 10, 21, 12, 0, tzinfo=UTC),  # contains the autumn DST change in Berlin
    datetime(2026, 3, 26, 5, 0, tzinfo=UTC),  # contains the spring DST change
]


@st.composite
def scenarios(draw):
    start = draw(st.sampled_from(STARTS))
    days, hours = draw(st.sampled_from(HOURS))
    common = WorkHours.parse(days, hours, BERLIN)
    specs = {}
    for kind in draw(st.lists(st.sampled_from(["posture", "hydration", "stretch", "movement"]), min_size=1, max_size=4, unique=True)):
        own = draw(st.sampled_from([None] + HOURS))
        specs[kind] = ReminderSpec(
            kind,
            timedelta(minutes=draw(st.integers(2, 180))),
            draw(st.sampled_from([None, timedelta(minutes=3), timedelta(minutes=5), timedelta(minutes=15)])),
            common if own is None else WorkHours.parse(own[0], own[1], BERLIN),
        )
    timing = Timing(
        merge_window=timedelta(seconds=draw(st.integers(1, 300))),
        quiet_after_resume=timedelta(seconds=draw(st.integers(0, 120))) or timedelta(seconds=1),
        away_after=timedelta(minutes=draw(st.integers(1, 5))),
    )

    def periods(max_count: int, max_minutes: int) -> list[tuple[datetime, datetime]]:
        raw = draw(st.lists(st.tuples(st.integers(0, 7 * 24 * 60), st.integers(1, max_minutes)), max_size=max_count))
        return merge_periods([(start + m * M, start + (m + length) * M) for m, length in raw])

    world = World(
        idle=periods(40, 90), locked=periods(10, 120), asleep=periods(6, 600), dnd=periods(8, 240), paused=periods(4, 180)
    )
    return start, specs, timing, world


def _held(world: World, timing: Timing, t: datetime) -> bool:
    if world.inside(world.paused, t) or world.inside(world.locked, t) or world.inside(world.asleep, t) or world.inside(world.dnd, t):
        return True
    if world.idle_for(t) >= timing.away_after:
        return True
    return any(end <= t < end + timing.quiet_after_resume for _, end in world.locked + world.asleep)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_simulated_week_keeps_every_promise(scenario):
    start, specs, timing, world = scenario
    end = start + timedelta(days=7)
    run = simulate(specs, timing, world, start, end)
    last_by_kind: dict[str, datetime] = {}
    previous: datetime | None = None
    for d in run.deliveries:
        assert not _held(world, timing, d.at), f"delivered while held at {d.at}"
        for kind in d.kinds:
            assert specs[kind].hours.window_at(d.at) is not None, f"{kind} outside work hours at {d.at}"
            if kind in last_by_kind:
                assert d.at - last_by_kind[kind] >= specs[kind].interval / 2, f"{kind} twice within half its interval"
            last_by_kind[kind] = d.at
        if previous is not None:
            spacing = min(timing.merge_window, min(s.interval for s in specs.values()) / 2)
            assert d.at - previous >= spacing, "two notifications closer than the spacing"
        previous = d.at
    # Liveness: in every stretch with the person present and nothing holding, inside one
    # work window, each reminder is delivered within its interval plus the merge window.
    boundaries = sorted({start, end, *world.boundaries(), *(e + timing.quiet_after_resume for _, e in world.locked + world.asleep)})
    for kind, s in specs.items():
        need = s.interval + timing.merge_window
        times = [d.at for d in run.deliveries if kind in d.kinds]
        for a, b in zip(boundaries, boundaries[1:]):
            if b - a < need or world.inside(world.idle, a) or _held(world, timing, a):
                continue
            window = s.hours.window_at(a)
            if window is None:
                continue
            stretch_end = min(b, window[1])
            if stretch_end - a < need:
                continue
            assert any(a <= t <= a + need for t in times), f"{kind} not delivered within {need} of {a} (clean until {stretch_end})"


@settings(max_examples=40, deadline=None)
@given(
    jumps=st.lists(st.tuples(st.integers(1, 600), st.integers(-3 * 24 * 3600, 400 * 24 * 3600)), min_size=1, max_size=6),
    interval=st.integers(1, 120),
)
def test_clock_jumps_never_burst_or_stall(jumps, interval):
    e = engine(spec("posture", interval), spec("hydration", interval * 1.5), timing=Timing(merge_window=timedelta(seconds=30)))
    wall = T0
    for minutes_later, jump_seconds in jumps:
        wall += minutes_later * M
        assert e.next_wakeup(wall - minutes_later * M) is not None
        e.tick(wall)
        jump = timedelta(seconds=jump_seconds)
        wall += jump
        e.clock_jump(wall, jump)
        counts = sum(len(delivered(e.tick(wall + k * timedelta(seconds=10)))) for k in range(3))
        assert counts <= 1
        wake = e.next_wakeup(wall)
        assert wake is not None and wake - wall <= timedelta(minutes=interval * 1.5) + timedelta(minutes=2)
