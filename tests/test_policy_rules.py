"""One direct example at the boundary of each rule in ergo/timing/policy.py's docstring.

Each test sits exactly on the edge a comparison decides (`>` against `>=`, `<` against `<=`), one
microsecond either side, so flipping any of those comparisons fails a test here. The spacing rule
("two notifications are never closer than merge_window") is tested in tests/test_spacing.py.
Time is a plain datetime passed in (the policy reads no clock), the one fake the standards allow.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ergo.timing.policy import Engine
from ergo.timing.decisions import (PLAIN_HOLD, Deliver, Record, ReminderSpec, Timing, event_words, format_seconds,
                                   stale_detail)
from ergo.timing.worktime import WorkHours

UTC = timezone.utc
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday
M = timedelta(minutes=1)
S = timedelta(seconds=1)
US = timedelta(microseconds=1)
DAY = timedelta(days=1)
ALWAYS = WorkHours.parse("every day", "00:00-24:00", UTC)


def spec(kind: str, interval: timedelta, natural: timedelta | None = None, hours: WorkHours = ALWAYS) -> ReminderSpec:
    return ReminderSpec(kind, interval, natural, hours)


def engine(*specs: ReminderSpec, timing: Timing | None = None, start: datetime = T0) -> Engine:
    return Engine.start({s.kind: s for s in specs}, timing or Timing(), start)


def delivered(outcomes: list) -> list[tuple[str, ...]]:
    return [o.kinds for o in outcomes if isinstance(o, Deliver)]


def records(outcomes: list) -> list[tuple[str, str]]:
    return [(o.kind, o.event) for o in outcomes if isinstance(o, Record)]


# --- "a reminder is due `interval` after its countdown started" ----------------------------------


def test_due_exactly_one_interval_after_the_anchor_not_a_microsecond_before() -> None:
    e = engine(spec("posture", 30 * M))
    assert e.tick(T0 + 30 * M - US) == []
    assert delivered(e.tick(T0 + 30 * M)) == [("posture",)]


def test_an_on_time_delivery_keeps_the_grid_and_a_late_one_restarts_from_now() -> None:
    on_time = engine(spec("posture", 30 * M))
    on_time.tick(T0 + 30 * M + S - US)  # just inside ON_TIME: the next countdown starts at the due time
    assert on_time.next_due("posture", T0 + 31 * M) == T0 + 60 * M
    late = engine(spec("posture", 30 * M))
    late.tick(T0 + 30 * M + S)  # one second late: the countdown starts at the delivery
    assert late.next_due("posture", T0 + 31 * M) == T0 + 60 * M + S


# --- "outside its work hours nothing is delivered, and a window's start begins a fresh countdown" --


def test_a_reminder_falling_due_exactly_at_the_window_end_waits_for_the_next_window() -> None:
    office = WorkHours.parse("every day", "09:00-10:00", UTC)
    e = engine(spec("posture", 30 * M, hours=office), start=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    e.tick(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    assert e.next_due("posture", datetime(2026, 11, 23, 9, 45, tzinfo=UTC)) == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    # a microsecond shorter, it falls due a microsecond before the end and still goes out
    assert delivered(engine(spec("posture", 30 * M - US, hours=office), start=datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
                     .tick(datetime(2026, 11, 23, 10, 0, tzinfo=UTC) - US)) == [("posture",)]


def test_outside_hours_is_true_before_the_window_and_false_from_its_start() -> None:
    """What `ergo status` says of a kind ("outside work hours")."""
    office = WorkHours.parse("every day", "09:00-17:00", UTC)
    e = engine(spec("posture", 30 * M, hours=office), start=datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert e.outside_hours("posture", datetime(2026, 11, 23, 9, 0, tzinfo=UTC) - US)
    assert not e.outside_hours("posture", datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


def test_the_window_start_is_a_fresh_countdown_from_the_start_itself() -> None:
    office = WorkHours.parse("every day", "09:00-17:00", UTC)
    e = engine(spec("posture", 30 * M, hours=office), start=datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert e.tick(start + 30 * M - US) == []
    assert delivered(e.tick(start + 30 * M)) == [("posture",)]


# --- "while paused, countdowns freeze; while away, locked, asleep, quiet or dnd, due ones are held" --


def test_a_timed_pause_holds_until_its_end_exactly() -> None:
    e = engine(spec("posture", 30 * M))
    e.pause(T0 + 10 * M, T0 + 40 * M)
    assert e.tick(T0 + 40 * M - US) == [] and e.paused
    e.tick(T0 + 40 * M)
    assert not e.paused
    assert e.next_due("posture", T0 + 40 * M) == T0 + 60 * M  # 20 min were left when it froze


def test_the_quiet_period_after_a_resume_holds_until_its_end_exactly() -> None:
    e = engine(spec("posture", 30 * M, natural=10 * M), timing=Timing(quiet_after_resume=M))
    e.leave(T0 + 29 * M, "asleep")
    e.back(T0 + 31 * M, "asleep")  # 2 min asleep: no natural break, posture is due and held
    assert e.hold(T0 + 32 * M - US) == "quiet after resume"
    assert e.tick(T0 + 32 * M - US) == []
    assert e.hold(T0 + 32 * M) is None
    assert delivered(e.tick(T0 + 32 * M)) == [("posture",)]


def test_away_begins_at_exactly_away_after_of_idle() -> None:
    e = engine(spec("posture", 30 * M), timing=Timing(away_after=3 * M))
    e.observe_idle(T0 + 30 * M, 3 * M - US)
    assert e.hold(T0 + 30 * M) is None
    e.observe_idle(T0 + 30 * M, 3 * M)
    assert e.hold(T0 + 30 * M) == "away"
    assert e.tick(T0 + 30 * M) == []


def test_do_not_disturb_and_a_lock_hold_a_due_reminder() -> None:
    e = engine(spec("posture", 30 * M, natural=10 * M))
    e.set_dnd(T0, True)
    assert e.tick(T0 + 30 * M) == [] and e.hold(T0 + 30 * M) == "do not disturb"
    e.set_dnd(T0 + 31 * M, False)
    e.leave(T0 + 31 * M, "locked")
    assert e.tick(T0 + 31 * M) == [] and e.hold(T0 + 31 * M) == "locked"


def test_a_snooze_holds_until_its_end_exactly() -> None:
    e = engine(spec("posture", 30 * M))
    e.snooze(T0 + 29 * M, "posture", T0 + 40 * M)
    assert e.tick(T0 + 40 * M - US) == []
    assert delivered(e.tick(T0 + 40 * M)) == [("posture",)]


# --- "an absence at least as long as natural_break counts as that break" --------------------------


def test_an_absence_of_exactly_the_natural_break_counts_and_a_microsecond_less_does_not() -> None:
    e = engine(spec("posture", 30 * M, natural=5 * M))
    e.observe_idle(T0 + 10 * M, 3 * M)  # away since 07 min
    out = e.observe_idle(T0 + 12 * M, timedelta(0))  # back at 12: 5 min away
    assert records(out) == [("posture", "natural_break")]
    assert e.next_due("posture", T0 + 12 * M) == T0 + 42 * M
    short = engine(spec("posture", 30 * M, natural=5 * M))
    short.observe_idle(T0 + 10 * M, 3 * M)
    assert short.observe_idle(T0 + 12 * M - US, timedelta(0)) == []
    assert short.next_due("posture", T0 + 12 * M) == T0 + 30 * M


def test_a_lock_of_exactly_the_natural_break_counts_as_it() -> None:
    e = engine(spec("posture", 30 * M, natural=5 * M))
    e.leave(T0 + 10 * M, "locked")
    assert records(e.back(T0 + 15 * M, "locked")) == [("posture", "natural_break")]
    short = engine(spec("posture", 30 * M, natural=5 * M))
    short.leave(T0 + 10 * M, "locked")
    assert short.back(T0 + 15 * M - US, "locked") == []


def test_daemon_downtime_of_exactly_the_natural_break_counts_as_it() -> None:
    e = engine(spec("posture", 30 * M, natural=5 * M))
    snap = e.snapshot()
    now = T0 + 20 * M
    assert Engine.restore(snap, e.specs, e.timing, now, downtime=5 * M).next_due("posture", now) == now + 30 * M
    assert Engine.restore(snap, e.specs, e.timing, now, downtime=5 * M - US).next_due("posture", now) == T0 + 30 * M


# --- "a reminder held for longer than its interval has gone stale" --------------------------------


def test_held_exactly_one_interval_is_delivered_and_a_microsecond_more_is_stale() -> None:
    for held, expected in ((30 * M, "delivered"), (30 * M + US, "skipped_stale")):
        e = engine(spec("posture", 30 * M))
        e.set_dnd(T0, True)
        e.tick(T0 + 30 * M)  # due and held since 30
        e.set_dnd(T0 + 30 * M + held, False)
        out = e.tick(T0 + 30 * M + held)
        if expected == "delivered":
            assert delivered(out) == [("posture",)] and records(out) == []
        else:
            assert delivered(out) == [] and records(out) == [("posture", "skipped_stale")]
            assert e.next_due("posture", T0 + 30 * M + held) == T0 + 60 * M + held  # restarted from now


def test_staleness_counts_from_the_due_time_even_when_the_first_look_came_later() -> None:
    e = engine(spec("posture", 30 * M))
    e.set_dnd(T0, True)
    assert e.tick(T0 + 40 * M) == []  # due at 30, first seen held at 40
    e.set_dnd(T0 + 61 * M, False)  # held 31 min since it fell due: more than its interval
    assert records(e.tick(T0 + 61 * M)) == [("posture", "skipped_stale")]


def test_a_stale_reminder_is_skipped_beside_one_that_just_fell_due() -> None:
    e = engine(spec("posture", 60 * M), spec("hydration", 10 * M))
    e.set_dnd(T0, True)
    assert e.tick(T0 + 10 * M) == []  # hydration held from 10
    e.set_dnd(T0 + 60 * M, False)  # posture falls due as the hold ends; hydration was held 50 min
    assert e.tick(T0 + 60 * M) == [
        Record("hydration", "skipped_stale", T0 + 60 * M, "held back longer than its interval (do not disturb was on)"),
        Deliver(("posture",), T0 + 60 * M)]


def test_busy_time_never_counts_to_staleness_whichever_hold_came_first() -> None:
    dnd_then_busy = engine(spec("posture", 30 * M))
    dnd_then_busy.set_dnd(T0, True)
    assert dnd_then_busy.tick(T0 + 30 * M) == []  # held by do not disturb for 20 min ...
    dnd_then_busy.set_dnd(T0 + 50 * M, False)
    dnd_then_busy.set_busy(T0 + 50 * M, "in a call")
    assert dnd_then_busy.tick(T0 + 50 * M) == []  # ... then by a call for 40 min
    dnd_then_busy.set_busy(T0 + 90 * M, None)
    out = dnd_then_busy.tick(T0 + 91 * M)  # once busy_after is over: delivered, never stale
    assert delivered(out) == [("posture",)] and records(out) == []
    busy_then_dnd = engine(spec("posture", 30 * M))
    busy_then_dnd.set_busy(T0, "in a call")
    assert busy_then_dnd.tick(T0 + 30 * M) == []  # a call for 40 min ...
    busy_then_dnd.set_busy(T0 + 70 * M, None)
    busy_then_dnd.set_dnd(T0 + 70 * M, True)
    assert busy_then_dnd.tick(T0 + 70 * M) == []  # ... then do not disturb: staleness counts from here
    busy_then_dnd.set_dnd(T0 + 100 * M, False)
    assert delivered(busy_then_dnd.tick(T0 + 100 * M)) == [("posture",)]  # 30 min counted: exactly its interval
    stale = engine(spec("posture", 30 * M))
    stale.set_busy(T0, "in a call")
    assert stale.tick(T0 + 30 * M) == []
    stale.set_busy(T0 + 70 * M, None)
    stale.set_dnd(T0 + 70 * M, True)
    assert stale.tick(T0 + 70 * M) == []
    stale.set_dnd(T0 + 101 * M, False)  # do not disturb held it 31 min after the call: stale
    assert records(stale.tick(T0 + 101 * M)) == [("posture", "skipped_stale")]


def test_a_reminder_held_when_its_work_hours_ended_starts_fresh_in_the_next_window() -> None:
    office = WorkHours.parse("every day", "09:00-10:00", UTC)
    day = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    e = engine(spec("posture", 30 * M, hours=office), start=day)
    e.set_dnd(day, True)
    assert e.tick(day + 30 * M) == []  # due at 09:30, held until the window ends
    assert e.tick(day + 61 * M) == []  # 10:01: out of hours, the hold no longer applies
    e.set_dnd(day + 61 * M, False)
    out = e.tick(day + DAY + 30 * M)  # the next morning, 09:30: delivered, not skipped as stale
    assert delivered(out) == [("posture",)] and records(out) == []


def test_after_a_hold_and_the_spacing_the_countdown_starts_afresh_at_the_delivery() -> None:
    e = engine(spec("posture", 10 * M), timing=Timing(merge_window=2 * M))
    e.set_dnd(T0, True)
    assert e.tick(T0 + 10 * M) == []
    e.set_dnd(T0 + 13 * M, False)
    e.last_delivery = T0 + 12 * M  # a notification (say `ergo now` of another kind) a minute ago
    assert e.tick(T0 + 13 * M) == []  # the hold is over, the spacing keeps it until 14
    assert delivered(e.tick(T0 + 14 * M)) == [("posture",)]
    assert e.next_due("posture", T0 + 14 * M) == T0 + 24 * M  # afresh from the delivery, not the old grid (20)


def test_a_reminder_kept_back_by_the_spacing_a_whole_interval_keeps_no_grid_behind_it() -> None:
    """Only the spacing delayed it (it keeps its grid), unless the grid has fallen a whole interval behind:
    then the countdown starts at the delivery, so no second notification follows at once."""
    for late, next_due in ((10 * S - US, T0 + 20 * S), (10 * S, T0 + 30 * S)):
        e = engine(spec("posture", 10 * S), timing=Timing(merge_window=2 * S))  # spacing 2 s
        e.last_delivery = T0 + 9 * S  # a notification (say `ergo now` of another kind) a second before
        assert e.tick(T0 + 10 * S) == []  # due at 10 s, one second after the last notification
        assert delivered(e.tick(T0 + 10 * S + late)) == [("posture",)]  # the timer came back late
        assert e.next_due("posture", T0 + 10 * S + late) == next_due


def test_a_wait_that_stopped_applying_leaves_no_trace_on_the_next_delivery() -> None:
    """A reminder kept back (after a hold, or by the spacing) that stops being due before it goes out (here
    its interval is changed in the config, which restarts it) is timed afresh: merged early it keeps its
    grid, and delivered late by the timer it counts from the delivery."""
    timing = Timing(merge_window=2 * M)
    e = engine(spec("posture", 10 * M), spec("hydration", 29 * M + 30 * S), timing=timing)
    e.set_dnd(T0, True)
    assert e.tick(T0 + 10 * M) == []
    e.set_dnd(T0 + 13 * M, False)
    e.last_delivery = T0 + 12 * M
    assert e.tick(T0 + 13 * M) == []  # the hold is over, the spacing keeps it back until 14
    e.reconfigure(T0 + 13 * M + 30 * S, {"posture": spec("posture", 16 * M + 30 * S), "hydration": e.specs["hydration"]},
                  timing)  # posture now due at 30
    assert e.tick(T0 + 14 * M) == []
    assert delivered(e.tick(T0 + 29 * M + 30 * S)) == [("hydration", "posture")]  # posture merged early
    assert e.next_due("posture", T0 + 30 * M) == T0 + 46 * M + 30 * S  # on its grid, not from 29:30
    s = engine(spec("posture", 10 * M), timing=timing)
    s.last_delivery = T0 + 9 * M + 30 * S
    assert s.tick(T0 + 10 * M) == []  # due, kept back by the spacing
    s.reconfigure(T0 + 10 * M + 30 * S, {"posture": spec("posture", 19 * M + 30 * S)}, timing)  # due at 30
    assert s.tick(T0 + 11 * M) == []
    assert delivered(s.tick(T0 + 30 * M + 5 * S)) == [("posture",)]  # the timer 5 s late
    assert s.next_due("posture", T0 + 31 * M) == T0 + 49 * M + 35 * S  # counted from the delivery


def test_a_reminder_is_merged_in_even_after_one_that_cannot_be() -> None:
    e = engine(spec("posture", 30 * M), spec("stretch", 60 * M), spec("hydration", 31 * M))
    assert delivered(e.tick(T0 + 30 * M)) == [("posture", "hydration")]  # stretch, between them, is far off


def test_a_pause_holds_everything_and_says_so() -> None:
    """`ergo status` shows the hold, and a reminder kept back by a pause is skipped in history's words."""
    e = engine(spec("posture", 30 * M))
    e.pause(T0 + M, None)
    assert e.hold(T0 + 2 * M) == "paused"


def test_a_snoozed_reminder_falling_due_just_after_a_notification_waits_for_the_spacing() -> None:
    e = engine(spec("posture", 30 * M), spec("hydration", 45 * M), timing=Timing(merge_window=2 * M))
    e.answer(T0 + M, "hydration", "snoozed", until=T0 + 31 * M)  # snoozed: not merged in, due at 31
    assert delivered(e.tick(T0 + 30 * M)) == [("posture",)]
    assert e.tick(T0 + 31 * M) == []  # its snooze ended a minute after posture went out
    assert delivered(e.tick(T0 + 32 * M)) == [("hydration",)]


# --- "reminders due within merge_window of each other go out as one" -------------------------------


def test_a_reminder_due_exactly_merge_window_later_joins_and_a_microsecond_later_does_not() -> None:
    timing = Timing(merge_window=2 * M)
    joined = engine(spec("posture", 30 * M), spec("hydration", 32 * M), timing=timing)
    assert delivered(joined.tick(T0 + 30 * M)) == [("posture", "hydration")]
    apart = engine(spec("posture", 30 * M), spec("hydration", 32 * M + US), timing=timing)
    assert delivered(apart.tick(T0 + 30 * M)) == [("posture",)]


def test_merging_never_brings_a_reminder_more_than_half_its_interval_early() -> None:
    timing = Timing(merge_window=10 * M)
    # hydration (interval 4 min, due at 34) is 4 min early at 30: more than half its interval
    e = engine(spec("posture", 30 * M), spec("hydration", 4 * M), timing=timing, start=T0)
    e.reminders["hydration"].anchor = T0 + 30 * M  # due at 34
    assert delivered(e.tick(T0 + 30 * M)) == [("posture",)]
    # exactly half its interval early joins
    half = engine(spec("posture", 30 * M), spec("hydration", 4 * M), timing=timing, start=T0)
    half.reminders["hydration"].anchor = T0 + 28 * M  # due at 32: 2 min = half of 4 early
    assert delivered(half.tick(T0 + 30 * M)) == [("posture", "hydration")]
    more = engine(spec("posture", 30 * M), spec("hydration", 4 * M), timing=timing, start=T0)
    more.reminders["hydration"].anchor = T0 + 28 * M + US  # a microsecond more than half early
    assert delivered(more.tick(T0 + 30 * M)) == [("posture",)]


# --- the daemon's own downtime (issue 13): overdue goes out once, after the quiet period -----------


def test_restart_after_the_due_time_delivers_once_right_after_the_quiet_period() -> None:
    """Posture every 30 s, the daemon killed at +25 s and started at +35 s (the issue's example)."""
    timing = Timing(merge_window=timedelta(seconds=0.2), quiet_after_resume=timedelta(seconds=5))
    e = engine(spec("posture", 30 * S, natural=5 * M), timing=timing)
    snap = e.snapshot()
    start = T0 + 35 * S
    r = Engine.restore(snap, e.specs, e.timing, start, downtime=10 * S)
    assert r.next_due("posture", start) == T0 + 30 * S  # overdue ...
    assert r.hold(start) == "quiet after resume"  # ... and held, so status names why
    assert r.tick(start) == []
    assert r.next_wakeup(start) == start + 5 * S
    assert r.tick(start + 5 * S - US) == []
    assert delivered(r.tick(start + 5 * S)) == [("posture",)]
    assert r.next_due("posture", start + 5 * S) == start + 35 * S
    assert r.tick(start + 10 * S) == []  # once


def test_an_overdue_reminder_with_nothing_holding_it_wakes_the_timer_now() -> None:
    e = engine(spec("posture", 30 * M), spec("hydration", 45 * M), timing=Timing(merge_window=2 * M))
    e.deliver_now(T0 + 29 * M, "hydration")  # the latest delivery was a minute ago
    assert e.next_wakeup(T0 + 30 * M) == T0 + 31 * M  # overdue, but spacing first: not a busy loop
    assert e.next_wakeup(T0 + 31 * M + S) == T0 + 31 * M + S  # overdue and free: right now
    e.set_dnd(T0 + 31 * M + S, True)
    wake = e.next_wakeup(T0 + 31 * M + S)
    assert wake is None or wake > T0 + 31 * M + S  # held: the end of the hold brings it, no spinning


# --- commands, `ergo status` and a restart, where the time or the work hours decide -----------------------


def test_waiting_for_names_a_hold_that_ends_at_a_set_time_and_lets_go_at_its_end() -> None:
    e = engine(spec("posture", 30 * M), timing=Timing(quiet_after_resume=M, busy_after=2 * M))
    e.leave(T0 + 29 * M, "locked")
    e.back(T0 + 30 * M, "locked")  # a one-minute lock: no natural break, but the quiet minute after it
    assert e.waiting_for("posture", T0 + 30 * M) == "quiet after resume"
    assert e.waiting_for("posture", T0 + 31 * M) == "being delivered now"
    e.set_busy(T0 + 31 * M, "in a call")
    e.set_busy(T0 + 32 * M, None)  # the call ended: two more minutes held
    assert e.waiting_for("posture", T0 + 34 * M - US) == "busy"
    assert e.waiting_for("posture", T0 + 34 * M) == "being delivered now"


def test_due_now_and_waiting_for_read_real_work_hours_at_that_moment() -> None:
    """`ergo status` and the busy check (the daemon asks the busy sources only when something is due)."""
    office = WorkHours.parse("every day", "09:00-17:00", UTC)
    e = engine(spec("posture", 30 * M, hours=office), start=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    due = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert not e.due_now(due - US) and e.due_now(due)
    assert e.waiting_for("posture", due - US) is None and e.waiting_for("posture", due) == "being delivered now"


def test_a_skip_while_paused_drops_nothing_even_a_reminder_held_when_the_pause_began() -> None:
    """A pause stops the clock: nothing is due while paused (`ergo status` says "paused"), so the history
    never gets a "due since" time for it."""
    e = engine(spec("posture", 30 * M))
    e.set_dnd(T0, True)
    assert e.tick(T0 + 30 * M) == []  # due, held by do not disturb
    e.pause(T0 + 35 * M, None)
    assert e.skip(T0 + 40 * M, "posture") == [Record("posture", "skipped", T0 + 40 * M, "via command")]


def test_a_skip_outside_work_hours_restarts_the_countdown_for_the_next_window() -> None:
    hours = WorkHours.parse("mon-fri", "09:00-17:00", UTC)
    e = engine(spec("posture", 30 * M, hours=hours))  # T0 is a Monday, 08:00: before the window
    assert e.skip(T0 + 10 * M, "posture") == [Record("posture", "skipped", T0 + 10 * M, "via command")]
    assert e.next_due("posture", T0 + 10 * M) == T0 + 90 * M  # 09:30, the window's fresh countdown


def test_a_restart_quiets_only_a_reminder_already_due_then() -> None:
    """Issue 13: what fell due while no daemon ran goes out after the quiet period; a restart with nothing due
    holds nothing back (a reminder due a minute later is on time), and one due at the very instant counts
    as due. The work hours are real ones, not 'all day'."""
    timing = Timing(quiet_after_resume=2 * M)
    hours = WorkHours.parse("every day", "06:00-20:00", UTC)
    e = engine(spec("posture", 30 * M, hours=hours), spec("hydration", 45 * M, hours=hours), timing=timing)
    snap = e.snapshot()
    early = Engine.restore(snap, e.specs, timing, T0 + 29 * M, downtime=timedelta(0))
    assert early.quiet_until is None and early.hold(T0 + 29 * M) is None
    assert delivered(early.tick(T0 + 30 * M)) == [("posture",)]
    exact = Engine.restore(snap, e.specs, timing, T0 + 30 * M, downtime=timedelta(0))
    assert exact.quiet_until == T0 + 32 * M and exact.tick(T0 + 30 * M) == []
    assert delivered(exact.tick(T0 + 32 * M)) == [("posture",)]


def test_a_timed_pause_reached_late_still_ends_at_its_own_end() -> None:
    """The timer (or a laptop waking up) may first look after the pause has ended: the countdown went on from
    the pause's end, not from that late look."""
    e = engine(spec("posture", 30 * M))
    e.pause(T0 + 10 * M, T0 + 20 * M)  # 20 min left when it froze
    assert e.tick(T0 + 25 * M) == [] and not e.paused
    assert e.next_due("posture", T0 + 25 * M) == T0 + 40 * M


def test_a_reminder_whose_snooze_ends_right_then_joins_a_notification() -> None:
    """A snooze holds until its end exactly (tests above); at that instant the kind may be merged again."""
    e = engine(spec("posture", 30 * M), spec("hydration", 32 * M))  # hydration due at 32, within the spacing
    e.snooze(T0 + M, "hydration", T0 + 30 * M)
    assert delivered(e.tick(T0 + 30 * M)) == [("posture", "hydration")]
    late = engine(spec("posture", 30 * M), spec("hydration", 32 * M))
    late.snooze(T0 + M, "hydration", T0 + 30 * M + US)
    assert delivered(late.tick(T0 + 30 * M)) == [("posture",)]


def test_asleep_is_named_before_locked_when_both_hold() -> None:
    """A laptop locked as it suspends: the hold (and a stale skip's words) say it was asleep."""
    e = engine(spec("posture", 30 * M))
    e.leave(T0 + M, "locked")
    e.leave(T0 + M, "asleep")
    assert e.hold(T0 + 2 * M) == "asleep"
    e.back(T0 + 3 * M, "asleep")
    assert e.hold(T0 + 3 * M) == "locked"


def test_each_delivery_starts_the_next_countdown_with_a_clean_slate() -> None:
    """After a delivery that followed a hold, or the spacing, the next on-time one keeps its grid, and the
    next one the timer brings late counts from the delivery."""
    after_hold = engine(spec("posture", 10 * M))
    after_hold.set_dnd(T0, True)
    assert after_hold.tick(T0 + 10 * M) == []
    after_hold.set_dnd(T0 + 12 * M, False)
    assert delivered(after_hold.tick(T0 + 12 * M)) == [("posture",)]  # after the hold: next at 22
    assert delivered(after_hold.tick(T0 + 22 * M + S / 2)) == [("posture",)]  # on time (half a second)
    assert after_hold.next_due("posture", T0 + 23 * M) == T0 + 32 * M
    spaced = engine(spec("posture", 10 * M))
    spaced.last_delivery = T0 + 9 * M + 30 * S
    assert spaced.tick(T0 + 10 * M) == []
    assert delivered(spaced.tick(T0 + 11 * M + 30 * S)) == [("posture",)]  # only the spacing: grid kept, next 20
    assert delivered(spaced.tick(T0 + 20 * M + 5 * S)) == [("posture",)]  # the timer 5 s late
    assert spaced.next_due("posture", T0 + 21 * M) == T0 + 30 * M + 5 * S


def test_a_plans_hold_begins_and_ends_exactly_at_its_bounds() -> None:
    from ergo.timing.decisions import KindHold

    e = engine(spec("stretch", 10 * M), spec("posture", 30 * M))
    e.set_kind_holds({"stretch": KindHold(T0 + 10 * M, T0 + 20 * M, "a plan holds stretches")})
    assert e.next_due("stretch", T0) == T0 + 30 * M  # due exactly as the hold begins: held, afresh from its end
    assert e.tick(T0 + 10 * M) == []
    overdue = engine(spec("stretch", 5 * M))
    overdue.set_dnd(T0, True)
    assert overdue.tick(T0 + 5 * M) == []  # due before the plan's hold, held by do not disturb
    overdue.set_kind_holds({"stretch": KindHold(T0 + 10 * M, T0 + 20 * M, "a plan holds stretches")})
    assert overdue.next_due("stretch", T0 + 20 * M) == T0 + 25 * M  # the hold's end begins a fresh countdown
    never = engine(spec("stretch", 10 * M, hours=WorkHours(frozenset(), ALWAYS.windows, UTC)))  # no work day
    never.set_kind_holds({"stretch": KindHold(T0, T0 + 20 * M, "a plan holds stretches")})
    assert never.next_due("stretch", T0 + 10 * M) is None


def test_a_clock_set_back_moves_the_quiet_minute_and_the_time_after_a_call_with_it() -> None:
    """Hypothesis found it: a quiet minute that had ended came back when the clock was then set back."""
    e = engine(spec("posture", 30 * M), timing=Timing(quiet_after_resume=M, busy_after=2 * M))
    e.clock_jump(T0 + 10 * M, S)  # a jump forward: quiet until 11
    e.set_busy(T0 + 10 * M, "in a call")
    e.set_busy(T0 + 11 * M, None)  # held until 13 after the call
    e.clock_jump(T0 + 14 * M - 5 * M, -5 * M)  # at 14 the clock is set back 5 minutes, to 9
    assert (e.quiet_until, e.busy_after_until) == (T0 + 6 * M, T0 + 8 * M)
    assert e.hold(T0 + 9 * M) is None


# --- when the timer wakes: next_wakeup ---------------------------------------------------------------


def test_the_timer_wakes_at_the_due_instant_itself_but_never_spins_on_a_held_reminder() -> None:
    e = engine(spec("posture", 30 * M))
    assert e.next_wakeup(T0 + 30 * M - US) == T0 + 30 * M
    assert e.next_wakeup(T0 + 30 * M) == T0 + 30 * M  # asked at the due instant: now, not never
    e.set_dnd(T0 + 30 * M, True)  # held right at the due instant: no wake-up at `now` (that would be a busy loop)
    assert e.next_wakeup(T0 + 30 * M) is None


def test_the_timer_wakes_when_the_hold_after_a_call_ends() -> None:
    e = engine(spec("posture", 30 * M), timing=Timing(busy_after=2 * M))
    e.set_busy(T0 + 29 * M, "in a call")
    e.set_busy(T0 + 31 * M, None)
    assert e.tick(T0 + 31 * M) == []  # due since 30, held for two more minutes
    assert e.next_wakeup(T0 + 31 * M) == T0 + 33 * M
    assert delivered(e.tick(T0 + 33 * M)) == [("posture",)]


def test_a_kind_that_never_falls_due_leaves_the_others_on_time() -> None:
    """next_due is None for a kind with no work day in the coming week (the settings refuse empty days; the
    data allows them): the timer still wakes for every other kind."""
    never = WorkHours(frozenset(), ALWAYS.windows, UTC)
    first = engine(spec("stretch", 30 * M, hours=never), spec("posture", 30 * M))
    assert first.next_due("stretch", T0) is None
    assert first.next_wakeup(T0) == T0 + 30 * M
    assert delivered(first.tick(T0 + 30 * M)) == [("posture",)]
    assert first.next_wakeup(T0 + 30 * M) == T0 + 60 * M


# --- the Engine's plain words: the spacing as text, history events and stale skips ------------------------


@pytest.mark.parametrize(("value", "text"), [
    (timedelta(minutes=2), "2m"), (timedelta(seconds=60), "1m"), (timedelta(seconds=90), "90s"),
    (timedelta(seconds=59), "59s"), (timedelta(seconds=0.5), "0.5s"), (timedelta(hours=1), "60m"),
    (timedelta(0), "0s"),
])
def test_format_seconds(value: timedelta, text: str) -> None:
    assert format_seconds(value) == text


def test_event_words() -> None:
    assert [event_words(e) for e in ("skipped_stale", "natural_break", "skipped", "snoozed", "delivered", "done",
                                     "some_new_event")] == [
        "skipped", "natural break", "skipped", "snoozed", "delivered", "done", "some new event"]


def test_stale_detail_names_the_hold_in_plain_words() -> None:
    assert stale_detail("locked") == "held back longer than its interval (the screen was locked)"
    assert stale_detail("quiet after resume") == \
        "held back longer than its interval (in the quiet minute after a wake-up or unlock)"
    assert stale_detail("an unheard-of hold") == "held back longer than its interval (an unheard-of hold)"
    assert stale_detail(None) == "held back longer than its interval (it was held back)"
    assert stale_detail("") == "held back longer than its interval (it was held back)"
    assert set(PLAIN_HOLD) == {"paused", "asleep", "locked", "quiet after resume", "away", "do not disturb", "busy"}
    assert PLAIN_HOLD["paused"] == "ergo was paused" and PLAIN_HOLD["away"] == "you were away"
    assert PLAIN_HOLD["asleep"] == "the computer was asleep" and PLAIN_HOLD["do not disturb"] == "do not disturb was on"
