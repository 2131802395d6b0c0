"""The Engine's busy rules (issue 21), by simulation over the clock seam: held while busy, never stale,
one merged delivery `busy_after` after the end, and busy is not a natural break."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ergo.timing.decisions import ReminderSpec, Timing
from ergo.timing.policy import Engine
from tests.simulation import World, simulate
from tests.test_policy import spec

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)


def _specs() -> dict[str, ReminderSpec]:
    return {"posture": spec("posture", 30), "hydration": spec("hydration", 45, natural=15)}


def _timing(after: timedelta = MIN) -> Timing:
    return Timing(merge_window=2 * MIN, quiet_after_resume=MIN, away_after=3 * MIN, busy_after=after)


def test_a_long_call_holds_everything_then_one_merged_delivery_after_the_grace() -> None:
    call = (T0 + 20 * MIN, T0 + 110 * MIN)  # posture due at 30, 60 (held); hydration at 45 (held)
    run = simulate(_specs(), _timing(), World(busy=[call]), T0, T0 + 112 * MIN)
    during = [d for d in run.deliveries if call[0] <= d.at < call[1] + MIN]
    after = [d for d in run.deliveries if d.at >= call[1] + MIN]
    assert during == []
    assert [(d.at, set(d.kinds)) for d in after] == [(call[1] + MIN, {"posture", "hydration"})]
    assert not [r for r in run.records if r.event in ("skipped_stale", "natural_break")]  # not dropped, not a break


def test_nothing_due_during_a_call_means_the_call_is_never_asked_about() -> None:
    engine = Engine.start(_specs(), _timing(), T0)
    assert not engine.due_now(T0 + 10 * MIN)  # the daemon asks its sources only when this is true
    assert engine.due_now(T0 + 30 * MIN)


def test_the_grace_after_a_call_is_its_own_setting_and_a_new_call_restarts_the_hold() -> None:
    engine = Engine.start(_specs(), _timing(after=5 * MIN), T0)
    now = T0 + 31 * MIN
    engine.set_busy(now, "in a call (microphone in use by firefox)")
    assert engine.hold(now) == "busy" and engine.tick(now) == []
    engine.set_busy(now + MIN, None)
    assert engine.hold(now + 5 * MIN) == "busy" and engine.next_wakeup(now + 2 * MIN) == now + 6 * MIN
    engine.set_busy(now + 3 * MIN, "in a meeting (Standup)")  # another call inside the grace
    assert engine.busy_after_until is None and engine.hold(now + 7 * MIN) == "busy"
    engine.set_busy(now + 8 * MIN, None)
    assert engine.tick(now + 12 * MIN) == []
    delivered = engine.tick(now + 13 * MIN)
    assert [d.kinds for d in delivered] == [("posture", "hydration")]  # hydration (due at 45) merges in


def test_away_during_a_call_still_makes_a_natural_break_and_busy_time_never_makes_one_stale() -> None:
    engine = Engine.start(_specs(), _timing(), T0)
    engine.set_busy(T0 + 31 * MIN, "in a meeting (Planning)")
    assert engine.tick(T0 + 31 * MIN) == []
    engine.observe_idle(T0 + 100 * MIN, 4 * MIN)  # left the desk during the long meeting
    breaks = engine.observe_idle(T0 + 130 * MIN, timedelta(0))
    assert {r.kind for r in breaks if r.event == "natural_break"} == {"posture", "hydration"}
    assert engine.tick(T0 + 190 * MIN) == []  # both due again, held: the meeting goes on
    engine.set_busy(T0 + 199 * MIN, None)
    outcomes = engine.tick(T0 + 200 * MIN)
    assert not [o for o in outcomes if getattr(o, "event", "") == "skipped_stale"]
    assert [o.kinds for o in outcomes] == [("posture", "hydration")]


def test_a_call_at_the_desk_is_not_a_break() -> None:
    call = (T0 + 20 * MIN, T0 + 40 * MIN)  # longer than both natural breaks, but you were there
    run = simulate(_specs(), _timing(), World(busy=[call]), T0, T0 + 90 * MIN)
    assert not [r for r in run.records if r.event == "natural_break"]
    assert [(d.at, d.kinds) for d in run.deliveries][:1] == [(call[1] + MIN, ("posture",))]
