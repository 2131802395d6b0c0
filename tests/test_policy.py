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
from tests.simulation import World, examples, merge_periods, simulate

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


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


@settings(max_examples=examples(40), deadline=None)
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


# --- commands and persistence, exactly ---------------------------------------------------------------------


def test_skip_restarts_the_countdown_and_says_whether_a_due_reminder_was_dropped() -> None:
    e = engine(spec("posture", 30), spec("hydration", 45))
    assert e.skip(T0 + 10 * M, "posture") == [Record("posture", "skipped", T0 + 10 * M, "via command")]
    assert e.next_due("posture", T0 + 10 * M) == T0 + 40 * M
    assert e.skip(T0 + 45 * M, "hydration") == [  # due at 45 exactly: dropped unseen
        Record("hydration", "skipped", T0 + 45 * M, "via command, due since 2026-11-23T08:45:00+00:00, not shown")]
    assert e.next_due("hydration", T0 + 45 * M) == T0 + 90 * M
    assert e.skip(T0 + 50 * M, "posture") == [Record("posture", "skipped", T0 + 50 * M,
                                                     "via command, due since 2026-11-23T08:40:00+00:00, not shown")]
    e.pause(T0 + 60 * M, None)  # while paused nothing is due, so nothing is dropped
    assert e.skip(T0 + 200 * M, "posture") == [Record("posture", "skipped", T0 + 200 * M, "via command")]


def test_snooze_by_command_holds_the_kind_until_then_and_says_until_when() -> None:
    e = engine(spec("posture", 30))
    e.reminders["posture"].pending_since, e.reminders["posture"].pending_reason = T0, "away"
    until = T0 + timedelta(minutes=42, seconds=7, microseconds=5)
    assert e.snooze(T0 + M, "posture", until) == [
        Record("posture", "snoozed", T0 + M, "via command, until 2026-11-23T08:42:07+00:00")]
    state = e.reminders["posture"]
    assert (state.snoozed_until, state.pending_since, state.pending_reason) == (until, None, None)
    assert e.next_due("posture", T0 + M) == until


def test_deliver_now_restarts_each_kind_and_marks_it_delivered() -> None:
    e = engine(spec("posture", 30), spec("hydration", 45))
    assert e.deliver_now(T0 + 7 * M, "posture", "hydration") == [Deliver(("posture", "hydration"), T0 + 7 * M, True)]
    assert e.last_delivery == T0 + 7 * M and e.last_delivered() == ("posture", "hydration")
    assert e.next_due("hydration", T0 + 7 * M) == T0 + 52 * M


def test_reconfigure_restarts_only_what_changed_and_forgets_what_went() -> None:
    e = engine(spec("posture", 30), spec("hydration", 45), spec("stretch", 60))
    e.reminders["posture"].pending_since = T0 + M
    e.reminders["hydration"].last_fired = T0 + 2 * M
    now = T0 + 10 * M
    new = {"posture": spec("posture", 20), "hydration": spec("hydration", 45, natural=9), "movement": spec("movement", 50)}
    assert e.reconfigure(now, new, Timing(merge_window=M)) == {"posture", "hydration", "stretch", "movement"}
    assert e.reminders["posture"].anchor == now and e.reminders["posture"].pending_since is None
    assert e.reminders["hydration"].anchor == T0 and e.reminders["hydration"].last_fired == T0 + 2 * M  # interval kept
    assert e.reminders["movement"].anchor == now and "stretch" not in e.reminders
    assert e.timing == Timing(merge_window=M) and set(e.specs) == {"posture", "hydration", "movement"}
    assert e.reconfigure(now, dict(new), e.timing) == set()


def test_snapshot_is_plain_json_and_restore_reads_every_field() -> None:
    e = engine(spec("posture", 30), spec("hydration", 45))
    e.deliver_now(T0 + 5 * M, "posture")
    e.snooze(T0 + 6 * M, "hydration", T0 + 40 * M)
    e.pause(T0 + 8 * M, T0 + 90 * M)
    snap = e.snapshot()
    assert snap == {
        "reminders": {
            "posture": {"anchor": "2026-11-23T08:05:00+00:00", "snoozed_until": None, "last_fired": "2026-11-23T08:05:00+00:00"},
            "hydration": {"anchor": "2026-11-23T08:00:00+00:00", "snoozed_until": "2026-11-23T08:40:00+00:00",
                          "last_fired": None},
        },
        "paused_at": "2026-11-23T08:08:00+00:00", "pause_until": "2026-11-23T09:30:00+00:00",
        "last_delivery": "2026-11-23T08:05:00+00:00",
    }
    # a kind that is no longer enabled is left out, and the ones after it still restored
    snap["reminders"] = {"stretch": {"anchor": "2026-11-23T08:01:00+00:00"}, **snap["reminders"]}
    now = T0 + 20 * M
    r = Engine.restore(snap, e.specs, e.timing, now, downtime=timedelta(0))
    assert set(r.reminders) == {"posture", "hydration"}
    assert r.reminders["posture"].anchor == T0 + 5 * M and r.reminders["posture"].last_fired == T0 + 5 * M
    assert r.reminders["hydration"].snoozed_until == T0 + 40 * M  # still ahead: kept
    assert (r.paused_at, r.pause_until, r.last_delivery) == (T0 + 8 * M, T0 + 90 * M, T0 + 5 * M)
    assert r.quiet_until is None


def test_restore_reads_other_offsets_as_utc_and_drops_a_snooze_that_ends_now() -> None:
    saved = {"reminders": {"posture": {"anchor": "2026-11-23T10:00:00+02:00", "snoozed_until": "2026-11-23T08:20:00+00:00"}},
             "last_delivery": "2026-11-23T09:05:00+01:00"}
    specs = {"posture": spec("posture", 30)}
    r = Engine.restore(saved, specs, Timing(), T0 + 20 * M, downtime=timedelta(0))
    assert r.reminders["posture"].anchor == T0 and r.reminders["posture"].anchor.tzinfo == UTC
    assert r.reminders["posture"].snoozed_until is None, "a snooze ending now is over"
    assert r.last_delivery == T0 + 5 * M and r.last_delivery.tzinfo == UTC
    assert not r.paused
    empty = Engine.restore({}, specs, Timing(), T0, downtime=timedelta(0))
    assert empty.reminders["posture"].anchor == T0 and empty.last_delivery is None


def test_restore_ends_a_pause_that_ended_while_ergo_was_down_at_its_end() -> None:
    e = engine(spec("posture", 30))
    e.pause(T0 + 10 * M, T0 + 20 * M)  # 20 min left when paused; the pause ended at 20
    r = Engine.restore(e.snapshot(), e.specs, e.timing, T0 + 25 * M, downtime=timedelta(0))
    assert not r.paused and r.next_due("posture", T0 + 25 * M) == T0 + 40 * M
    e.pause(T0 + 10 * M, T0 + 25 * M)  # ends exactly at the restore: over
    assert not Engine.restore(e.snapshot(), e.specs, e.timing, T0 + 25 * M, downtime=timedelta(0)).paused
    e.pause(T0 + 10 * M, None)  # until `ergo resume`: still paused
    assert Engine.restore(e.snapshot(), e.specs, e.timing, T0 + 25 * M, downtime=timedelta(0)).paused


def test_restore_counts_downtime_as_an_absence_and_quiets_an_overdue_reminder() -> None:
    specs = {"posture": spec("posture", 30, natural=5), "hydration": spec("hydration", 45, natural=None)}
    e = Engine.start(specs, Timing(quiet_after_resume=2 * M), T0)
    now = T0 + 60 * M
    r = Engine.restore(e.snapshot(), specs, e.timing, now, downtime=10 * M)
    assert r.reminders["posture"].anchor == now, "ten minutes down is posture's natural break"
    assert r.reminders["hydration"].anchor == T0 and r.quiet_until == now + 2 * M  # overdue: once, after the quiet
    short = Engine.restore(e.snapshot(), specs, e.timing, now, downtime=4 * M)
    assert short.reminders["posture"].anchor == T0


def test_a_clock_jump_forward_is_an_absence_and_back_moves_every_time_with_it() -> None:
    specs = {"posture": spec("posture", 30, natural=5), "hydration": spec("hydration", 45, natural=20)}
    e = Engine.start(specs, Timing(quiet_after_resume=M), T0)
    now = T0 + 40 * M
    assert e.clock_jump(now, 10 * M) == [Record("posture", "natural_break", now, "clock jump or suspend, 10 min")]
    assert e.quiet_until == now + M and e.reminders["posture"].anchor == now and e.reminders["hydration"].anchor == T0
    assert e.clock_jump(now, timedelta(0)) == [] and e.reminders["posture"].anchor == now  # no jump: nothing moves
    b = Engine.start(specs, Timing(), T0)
    b.reminders["posture"].last_fired, b.reminders["posture"].pending_since = T0 + M, T0 + 2 * M
    b.last_delivery = T0 + M
    b.pause(T0 + 3 * M, None)
    assert b.clock_jump(T0 + 4 * M, -60 * M) == []
    state = b.reminders["posture"]
    assert (state.anchor, state.last_fired, state.pending_since) == (T0 - 60 * M, T0 - 59 * M, T0 - 58 * M)
    assert (b.last_delivery, b.paused_at, b.quiet_until) == (T0 - 59 * M, T0 - 57 * M, None)
    assert b.reminders["hydration"].last_fired is None and b.reminders["hydration"].pending_since is None


def test_an_answer_restarts_or_snoozes_and_refuses_a_snooze_into_the_past() -> None:
    e = engine(spec("posture", 30))
    assert e.answer(T0 + M, "posture", "done", ref=7) == [Record("posture", "done", T0 + M, "", 7)]
    assert e.answer(T0 + M, "stretch", "done") == [], "a kind that is not enabled is not answered"
    for until in (None, T0 + 2 * M):
        with pytest.raises(ValueError, match="^a snooze needs a time in the future$"):
            e.answer(T0 + 2 * M, "posture", "snoozed", until=until)
    assert e.answer(T0 + 2 * M, "posture", "snoozed", until=T0 + 12 * M)[0].event == "snoozed"
    assert e.reminders["posture"].snoozed_until == T0 + 12 * M and e.next_due("posture", T0 + 3 * M) == T0 + 12 * M


def test_waiting_for_says_why_a_due_reminder_has_not_gone_out() -> None:
    from ergo.timing.decisions import KindHold

    e = engine(spec("posture", 30), spec("stretch", 60))
    due = T0 + 30 * M
    assert e.waiting_for("posture", T0 + 10 * M) is None  # not due
    assert e.waiting_for("posture", due) == "being delivered now"
    e.set_kind_holds({"stretch": KindHold(T0, T0 + 90 * M, "the acute-back plan holds stretches for now")})
    assert e.waiting_for("stretch", T0 + 61 * M) == "the acute-back plan holds stretches for now"
    assert e.waiting_for("posture", due) == "being delivered now", "a plan's hold on one kind holds only that kind"
    e.set_dnd(due, True)
    assert e.waiting_for("posture", due) == "do not disturb"
    e.set_dnd(due, False)
    e.last_delivery = due - 30 * timedelta(seconds=1)
    assert e.waiting_for("posture", due) == "keeping notifications 2m apart"  # the merge window
    e.pause(due, None)
    assert e.waiting_for("posture", due) == "paused" and e.waiting_for("stretch", due) == "paused"


def test_the_engines_small_questions_at_their_edges() -> None:
    from ergo.timing.decisions import KindHold

    e = engine(spec("posture", 30, natural=5), spec("hydration", 45, natural=None))
    assert not e.due_now(T0 + 29 * M) and e.due_now(T0 + 30 * M) and e.due_now(T0 + 31 * M)
    e.pause(T0 + 31 * M, None)
    assert not e.due_now(T0 + 31 * M), "nothing is due while paused"
    e.resume(T0 + 31 * M)
    hold = KindHold(T0 + 10 * M, T0 + 20 * M, "held")
    e.set_kind_holds({"posture": hold})
    assert [e.plan_hold("posture", T0 + m * M) for m in (9, 10, 19, 20)] == [None, hold, hold, None]
    assert e.plan_hold("hydration", T0 + 15 * M) is None
    # idle: the absence is a natural break, said as idle
    assert e.observe_idle(T0 + 40 * M, 4 * M) == [] and e.away_since == T0 + 36 * M
    assert e.observe_idle(T0 + 50 * M, timedelta(seconds=2)) == [
        Record("posture", "natural_break", T0 + 50 * M - timedelta(seconds=2), "idle, 13 min")]
    # back without having left: nothing, no quiet minute
    assert e.back(T0 + 51 * M, "locked") == [] and e.quiet_until is None
    e.leave(T0 + 52 * M, "asleep")
    e.leave(T0 + 53 * M, "locked")
    assert e.back(T0 + 60 * M, "asleep") == [] and e.gone == {"locked": T0 + 52 * M}, "still locked: the absence began asleep"
    assert e.back(T0 + 61 * M, "locked") == [Record("posture", "natural_break", T0 + 61 * M, "locked, 9 min")]
    # a clock jump of nothing changes nothing, not even the quiet minute
    z = engine(spec("posture", 30))
    assert z.clock_jump(T0 + M, timedelta(0)) == [] and z.quiet_until is None


def test_busy_holds_and_then_holds_a_little_longer() -> None:
    e = engine(spec("posture", 30), timing=Timing(busy_after=2 * M))
    e.set_busy(T0 + M, None)  # not busy before: nothing after
    assert e.busy_after_until is None and e.hold(T0 + M) is None
    e.set_busy(T0 + 2 * M, "in a call", until=T0 + 9 * M)
    assert (e.busy, e.busy_until, e.hold(T0 + 3 * M)) == ("in a call", T0 + 9 * M, "busy")
    e.set_busy(T0 + 5 * M, None)
    assert (e.busy, e.busy_until, e.busy_after_until) == (None, None, T0 + 7 * M)
    assert e.hold(T0 + 6 * M) == "busy" and e.hold(T0 + 7 * M) is None


def test_reconfigure_keeps_what_a_changed_kind_had_delivered_and_restore_reads_times_as_utc(monkeypatch) -> None:
    import time as _time

    e = engine(spec("posture", 30))
    e.reminders["posture"].last_fired = T0 + 3 * M
    e.reconfigure(T0 + 5 * M, {"posture": spec("posture", 20)}, Timing())
    assert e.reminders["posture"].last_fired == T0 + 3 * M and e.reminders["posture"].anchor == T0 + 5 * M
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    _time.tzset()
    try:
        r = Engine.restore({"reminders": {"posture": {"anchor": "2026-11-23T17:00:00+09:00"}}}, e.specs, Timing(),
                           T0 + M, downtime=timedelta(0))
        assert r.reminders["posture"].anchor == T0 and r.reminders["posture"].anchor.utcoffset() == timedelta(0)
    finally:
        monkeypatch.delenv("TZ")
        _time.tzset()
