"""The spacing and merge rules of the pure Engine: a property over any intervals, then boundaries.

Time is simulated (a fake clock passed to the Engine), the one fake the standards allow.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ergo.timing.policy import Engine
from ergo.timing.decisions import Deliver, Record, ReminderSpec, Timing, stale_detail
from ergo.timing.worktime import WorkHours
from tests.simulation import examples

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
S = timedelta(seconds=1)
M = timedelta(minutes=1)
DAY = timedelta(days=1)
ALWAYS = WorkHours.parse("every day", "00:00-24:00", timezone.utc)
KINDS = ["posture", "hydration", "stretch", "movement", "breathing", "workspace", "strength"]


def spec(kind: str, interval: timedelta, natural: timedelta | None = None) -> ReminderSpec:
    return ReminderSpec(kind, interval, natural, ALWAYS)


def engine(*specs: ReminderSpec, merge_window: timedelta = 2 * M) -> Engine:
    return Engine.start({s.kind: s for s in specs}, Timing(merge_window=merge_window), T0)


def delivered(outcomes: list) -> list[tuple[str, ...]]:
    return [o.kinds for o in outcomes if isinstance(o, Deliver)]


# --- the property: no holds, any intervals from 1 s to 24 h, one simulated day ----------------

interval_seconds = st.one_of(st.integers(1, 60), st.integers(61, 3600), st.integers(3601, 24 * 3600))


@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(seconds=[1, 3600], merge_seconds=120, seed=0)  # 1 s beside an hour, with the default merge window
@example(seconds=[3600, 24 * 3600], merge_seconds=120, seed=2)  # the longest interval, a whole day
@example(seconds=[10], merge_seconds=120, seed=1)  # the README's ERGO_POSTURE__INTERVAL=10s
@given(
    seconds=st.lists(interval_seconds, min_size=1, max_size=4),
    merge_seconds=st.integers(1, 600),
    seed=st.integers(0, 2**32 - 1),
)
def test_no_holds_every_reminder_comes_about_elapsed_over_interval_times_and_none_is_skipped(seconds, merge_seconds, seed):
    """Driven like the daemon (a timer calling tick at next_wakeup, up to 0.3 s late), for a day or, when
    the shortest interval is under 43 s, for 2000 of it (a day of 1 s reminders is 86 400 ticks, and
    the rules repeat long before that)."""
    specs = {KINDS[i]: spec(KINDS[i], s * S) for i, s in enumerate(seconds)}
    e = Engine.start(specs, Timing(merge_window=merge_seconds * S), T0)
    lateness = random.Random(seed)
    span = min(DAY, 2000 * min(seconds) * S)
    end = T0 + span
    t = T0
    counts = {kind: 0 for kind in specs}
    last: dict[str, datetime] = {}
    previous: datetime | None = None
    while True:
        wake = e.next_wakeup(t)
        assert wake is not None, "the engine stopped waking up"
        assert wake > t, "after a tick the timer never asks to wake at once: that would spin"
        t = wake + lateness.random() * 0.3 * S
        if t > end:
            break
        for outcome in e.tick(t):
            assert not isinstance(outcome, Record), f"nothing may be skipped without a hold: {outcome}"
            assert isinstance(outcome, Deliver)
            if previous is not None:
                assert outcome.at - previous >= e.spacing
            previous = outcome.at
            for kind in outcome.kinds:
                counts[kind] += 1
                if kind in last:  # never starved: the next one comes within its interval plus the spacing
                    assert outcome.at - last[kind] <= specs[kind].interval + e.spacing + 0.3 * S
                last[kind] = outcome.at
    for kind, s in specs.items():
        expected = span / s.interval
        assert abs(counts[kind] - expected) <= 1, f"{kind} every {s.interval}: {counts[kind]} deliveries, expected {expected:.2f}"


# --- the spacing rule ------------------------------------------------------------------------


def test_spacing_is_the_merge_window_when_intervals_are_long():
    e = engine(spec("posture", 30 * M), spec("hydration", 45 * M))
    assert e.spacing == 2 * M


def test_spacing_is_half_the_shortest_interval_when_that_is_shorter():
    e = engine(spec("posture", 10 * S), spec("hydration", 45 * M))
    assert e.spacing == 5 * S
    assert engine(spec("posture", 4 * M)).spacing == 2 * M  # exactly half: the merge window itself


def test_ten_second_interval_is_delivered_every_ten_seconds():
    """The README's own example: ERGO_POSTURE__INTERVAL=10s with the default 2-minute merge window."""
    e = engine(spec("posture", 10 * S))
    times = []
    t = T0
    while t < T0 + 5 * M:
        t, before = e.next_wakeup(t), t
        assert t > before, "the timer would spin"
        if delivered(e.tick(t)):
            times.append(t - T0)
    assert times == [k * 10 * S for k in range(1, 31)]


def test_two_and_three_second_intervals_are_not_starved():
    """The issue's report: 2 s and 3 s used to give one merged notification and then only stale skips."""
    e = engine(spec("posture", 2 * S), spec("hydration", 3 * S))
    assert e.spacing == 1 * S
    got: dict[str, int] = {"posture": 0, "hydration": 0}
    t = T0
    while True:
        t, before = e.next_wakeup(t), t
        assert t > before, "the timer would spin"
        if t > T0 + 60 * S:
            break
        for outcome in e.tick(t):
            assert isinstance(outcome, Deliver)
            for kind in outcome.kinds:
                got[kind] += 1
    assert 29 <= got["posture"] <= 31 and 19 <= got["hydration"] <= 21


def test_reminder_due_inside_the_spacing_waits_for_its_end_and_is_never_stale():
    e = engine(spec("posture", 60 * S), spec("hydration", 62 * S), merge_window=timedelta(seconds=0.5))
    e.reconfigure(T0, e.specs, Timing(merge_window=30 * S))  # spacing 30 s, the merge horizon too
    assert delivered(e.tick(T0 + 60 * S)) == [("posture", "hydration")]  # 2 s apart: merged
    e2 = engine(spec("posture", 61 * S), spec("hydration", 100 * S), merge_window=15 * S)
    assert delivered(e2.tick(T0 + 61 * S)) == [("posture",)]
    e2.last_delivery = T0 + 90 * S  # as if another notification (`ergo now`) had just gone out
    assert e2.tick(T0 + 100 * S) == []  # due, but 10 s after the last notification
    assert e2.waiting_for("hydration", T0 + 100 * S).startswith("keeping notifications 15s apart")
    assert e2.next_wakeup(T0 + 100 * S) == T0 + 105 * S
    assert delivered(e2.tick(T0 + 105 * S)) == [("hydration",)]
    assert e2.next_due("hydration", T0 + 105 * S) == T0 + 200 * S  # it keeps its rhythm


def test_a_notification_exactly_one_spacing_after_the_last_goes_out():
    e = engine(spec("posture", 10 * S), spec("hydration", 40 * S), merge_window=3 * S)
    e.deliver_now(T0 + 38 * S, "posture")  # `ergo now posture`: the last notification, at 38 s
    assert e.tick(T0 + 40 * S) == []  # hydration due at 40 s, only 2 s later
    assert e.tick(T0 + 41 * S - timedelta(microseconds=1)) == []
    assert delivered(e.tick(T0 + 41 * S)) == [("hydration",)]


def test_a_late_timer_never_makes_a_reminder_stale():
    e = engine(spec("posture", 1 * S))
    assert delivered(e.tick(T0 + 3 * S)) == [("posture",)]  # 2 s late, 2 intervals: still delivered, not skipped
    assert e.next_due("posture", T0 + 3 * S) == T0 + 4 * S  # too late to keep the grid: counts from now


# --- merging -------------------------------------------------------------------------------


def test_due_exactly_at_the_horizon_is_merged_and_just_beyond_is_not():
    e = engine(spec("posture", 30 * M), spec("hydration", 32 * M))
    assert delivered(e.tick(T0 + 30 * M)) == [("posture", "hydration")]
    e = engine(spec("posture", 30 * M), spec("hydration", 32 * M + timedelta(microseconds=1)))
    assert delivered(e.tick(T0 + 30 * M)) == [("posture",)]


def test_merging_never_pulls_a_reminder_more_than_half_its_interval_early():
    e = engine(spec("posture", 10 * M), spec("hydration", 3 * M), merge_window=2 * M)  # spacing 1.5 min
    e.reminders["hydration"].anchor = T0 + 8 * M + timedelta(seconds=40)  # due 11:40, 1:40 after posture
    assert delivered(e.tick(T0 + 10 * M)) == [("posture",)]  # 1:40 > 1:30: not merged
    e = engine(spec("posture", 10 * M), spec("hydration", 3 * M), merge_window=2 * M)
    e.reminders["hydration"].anchor = T0 + 8 * M + timedelta(seconds=30)  # due exactly 1:30 later = half its interval
    assert delivered(e.tick(T0 + 10 * M)) == [("posture", "hydration")]


def test_a_merged_reminder_keeps_its_rhythm():
    e = engine(spec("posture", 30 * M), spec("hydration", 31 * M))
    assert delivered(e.tick(T0 + 30 * M)) == [("posture", "hydration")]
    assert e.next_due("posture", T0 + 30 * M) == T0 + 60 * M
    assert e.next_due("hydration", T0 + 30 * M) == T0 + 62 * M


def test_snoozed_or_out_of_hours_reminders_are_not_merged_in():
    e = engine(spec("posture", 30 * M), spec("hydration", 31 * M))
    e.snooze(T0 + 1 * M, "hydration", T0 + 31 * M)
    assert delivered(e.tick(T0 + 30 * M)) == [("posture",)]


# --- stale reminders: only a real hold makes one, and history says it plainly ------------------


def test_held_longer_than_its_interval_is_skipped_with_a_plain_reason():
    e = engine(spec("posture", 10 * M))
    e.observe_idle(T0 + 9 * M, 4 * M)
    assert e.tick(T0 + 10 * M) == []
    e.observe_idle(T0 + 20 * M + S, timedelta(0))
    outcomes = e.tick(T0 + 20 * M + S)
    records = [o for o in outcomes if isinstance(o, Record)]
    assert [(r.kind, r.event, r.detail) for r in records] == [
        ("posture", "skipped_stale", "held back longer than its interval (you were away)")
    ]


def test_held_exactly_its_interval_is_still_delivered():
    e = engine(spec("posture", 10 * M))
    e.observe_idle(T0 + 9 * M, 4 * M)
    assert e.tick(T0 + 10 * M) == []
    e.observe_idle(T0 + 20 * M, timedelta(0))
    assert delivered(e.tick(T0 + 20 * M)) == [("posture",)]


def test_after_a_hold_ends_waiting_for_the_spacing_does_not_make_it_stale():
    e = engine(spec("posture", 10 * M), spec("hydration", 10 * M + 30 * S), merge_window=2 * M)
    e.set_dnd(T0, True)
    e.tick(T0 + 10 * M)
    e.tick(T0 + 10 * M + 30 * S)
    e.set_dnd(T0 + 19 * M, False)
    e.last_delivery = T0 + 18 * M + 30 * S  # a notification (say `ergo now`) went out 30 s ago
    assert e.tick(T0 + 19 * M) == []  # both due, spacing holds them until 20:30
    outcomes = e.tick(T0 + 20 * M + 30 * S)  # posture was held 9 min, then 1.5 min for spacing: 10.5 min > 10
    assert delivered(outcomes) == [("posture", "hydration")]
    assert not [o for o in outcomes if isinstance(o, Record)]


def test_stale_detail_names_every_hold_in_plain_words():
    assert stale_detail("locked") == "held back longer than its interval (the screen was locked)"
    assert stale_detail("asleep") == "held back longer than its interval (the computer was asleep)"
    assert stale_detail("do not disturb") == "held back longer than its interval (do not disturb was on)"
    assert stale_detail(None) == "held back longer than its interval (it was held back)"


# --- `ergo status` never shows a past time as due without saying what holds it ---------------


def test_status_names_the_spacing_for_a_due_reminder_and_renders_it(tmp_path, monkeypatch) -> None:
    """The real daemon object in-process (real APScheduler and SQLite), its engine steered under its lock."""
    import io

    from ergo.commands.control import render_status
    from ergo.config.frozen import PlainLoaded
    from ergo.config.load import export_json, load_settings
    from ergo.daemon.core import Backends, Daemon
    from ergo.notify.console import ConsoleNotifier
    from ergo.notify.select import FallbackNotifier
    from ergo.paths import Paths
    from ergo.records.store import Store

    for key in [k for k in __import__("os").environ if k.startswith("ERGO_") and k != "ERGO_REQUIRE_DESKTOP"]:
        monkeypatch.delenv(key)
    flags = {"posture": {"interval": "1h"}, "hydration": {"enabled": "false"}, "stretch": {"enabled": "false"},
             "movement": {"enabled": "false"}}
    paths = Paths(tmp_path / "config.toml", "test", tmp_path / "state", tmp_path / "run")
    loaded = PlainLoaded.from_json(export_json(load_settings(paths.config_file, flags)))
    daemon = Daemon(paths, loaded, Backends(FallbackNotifier(ConsoleNotifier(io.StringIO())), "console: test"),
                    Store(paths.state_db), flags=flags)
    try:
        with daemon.lock:
            now = daemon.clock.now()
            daemon.engine.reminders["posture"].anchor = now - 61 * M  # due a minute ago
            daemon.engine.last_delivery = now - 30 * S  # `ergo now` of another kind, 30 s ago
            status = daemon.status()
        entry = status["reminders"]["posture"]
        assert entry["held"] == "spacing" and entry["resumes_at"] is not None
        text = render_status(status)
        assert "due; keeping notifications apart until" in text and "(due" not in text
        daemon.engine.last_delivery = None
        status = daemon.status()
        assert status["reminders"]["posture"]["held"] is None
        assert "(due now: being delivered)" in render_status(status)
    finally:
        daemon.store.close()
