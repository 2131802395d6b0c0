"""The reminder delivered last: the Engine's lookup (simulated clock), `ergo now` with no kind on the
real daemon, and `snooze`/`skip` with no kind answering it (issue 10 answers them from the store)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest

from ergo.timing.policy import Engine
from ergo.timing.decisions import Deliver, ReminderSpec, Timing
from ergo.timing.worktime import WorkHours
from tests.daemon_helpers import Daemon, ErgoEnv

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
M = timedelta(minutes=1)
ALWAYS = WorkHours.parse("every day", "00:00-24:00", timezone.utc)


def engine(**minutes: float) -> Engine:
    specs = {k: ReminderSpec(k, timedelta(minutes=v), None, ALWAYS) for k, v in minutes.items()}
    return Engine.start(specs, Timing(), T0)


def test_nothing_delivered_yet_means_no_last_reminder():
    assert engine(posture=30, hydration=45).last_delivered() == ()


def test_last_delivered_is_the_latest_notification_and_all_kinds_of_a_merged_one():
    e = engine(posture=30, hydration=31, stretch=50)
    e.tick(T0 + 30 * M)  # posture and hydration merged
    assert e.last_delivered() == ("posture", "hydration")
    e.tick(T0 + 50 * M)
    assert e.last_delivered() == ("stretch",)
    e.deliver_now(T0 + 51 * M, "hydration")
    assert e.last_delivered() == ("hydration",)


def test_last_delivered_survives_a_restart():
    e = engine(posture=30, hydration=45)
    e.tick(T0 + 30 * M)
    restored = Engine.restore(e.snapshot(), e.specs, e.timing, T0 + 31 * M, timedelta(0))
    assert restored.last_delivered() == ("posture",)


def test_now_with_several_kinds_is_one_notification():
    e = engine(posture=30, hydration=45)
    [outcome] = e.deliver_now(T0 + M, "posture", "hydration")
    assert isinstance(outcome, Deliver) and outcome.kinds == ("posture", "hydration") and outcome.requested


# --- the real daemon ---------------------------------------------------------------------------


@pytest.fixture
def env() -> Iterator[ErgoEnv]:
    made = ErgoEnv.create(None, POSTURE__INTERVAL="20s", HYDRATION__INTERVAL="30s")
    yield made
    made.cleanup()


def test_now_snooze_and_skip_without_a_kind_act_on_the_last_reminder_and_say_which(env: ErgoEnv) -> None:
    with Daemon(env) as daemon:
        none_yet = env.cli("now")
        assert none_yet.returncode == 1 and "no reminder was delivered yet" in none_yet.stderr
        assert len(none_yet.stderr.strip().splitlines()) == 1

        assert env.cli("now", "hydration").returncode == 0
        assert daemon.status()["last_delivered"] == ["hydration"]
        again = env.cli("now")
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith("hydration: delivered; next due") and "(the reminder delivered last)" in again.stdout
        snoozed = env.cli("snooze", "5m")  # a duration alone: the kind is the last one
        assert snoozed.returncode == 0, snoozed.stderr
        assert snoozed.stdout.startswith("hydration snoozed until")
        status = daemon.status()
        assert status["reminders"]["hydration"]["snoozed_until"] is not None
        assert status["reminders"]["posture"]["snoozed_until"] is None
        events = [(r["kind"], r["event"]) for r in env.history()]
        assert events.count(("hydration", "delivered")) == 2  # (the snooze is folded into its reminder in the diary)
        assert not any(kind == "posture" for kind, _ in events)
