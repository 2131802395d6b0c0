"""Promises about the daemon's own downtime, tested on the real daemon with kill -9.

- State is saved before a notification is sent, so a daemon killed in the middle of a send never
  delivers that reminder again for the same due time (the send is held open by a notification
  server double that never answers).
- A reminder that fell due while no daemon ran goes out once, right after the quiet period that
  follows the start, and `ergo status` never shows a past time as due without naming a hold.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.daemon_helpers import Daemon, ErgoEnv, parse_iso, wait_for
from tests.dbus_doubles import SilentNotificationServerDouble, private_bus, require_tools


def utcnow() -> datetime:
    return datetime.now(UTC)


def sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - utcnow()).total_seconds()))


def kill_9(daemon: Daemon) -> None:
    os.kill(daemon.pid, signal.SIGKILL)
    assert daemon.proc is not None
    daemon.proc.wait(timeout=5)


@pytest.mark.slow
def test_kill_9_while_the_server_holds_the_send_never_delivers_that_due_time_again(make_env: Callable[..., ErgoEnv]) -> None:
    require_tools("dbus-daemon")
    with private_bus() as address, SilentNotificationServerDouble(address) as server:
        env = make_env({"DBUS_SESSION_BUS_ADDRESS": address}, NOTIFIER="freedesktop", POSTURE__INTERVAL="4s",
                       POSTURE__NATURAL_BREAK="1h", HYDRATION__ENABLED="false", QUIET_AFTER_RESUME="0.5s")
        first = Daemon(env, name="first").start()
        try:
            assert first.status()["notifier"] == "freedesktop"
            due = parse_iso(first.status()["reminders"]["posture"]["next_due"])
            wait_for(server.notify_calls, 8, 0.01, "the daemon's Notify call")
            kill_9(first)  # the server never answered: the daemon died inside its send
        finally:
            first.kill()
        assert "delivered" not in first.stderr() and "failed" not in first.stderr(), first.stderr()

        with Daemon(env, name="second") as second:
            entry = second.status()["reminders"]["posture"]
            next_due = parse_iso(entry["next_due"])
            # the state written before the send already counted that delivery
            assert next_due >= due + timedelta(seconds=3), (due, entry)
            sleep_until(due + timedelta(seconds=4) - timedelta(seconds=0.4))
            assert len(server.notify_calls()) == 1, f"the reminder due at {due} went out again after the restart"
            assert second.alive()


@pytest.mark.slow
def test_reminder_overdue_after_a_restart_goes_out_once_after_the_quiet_period(make_env: Callable[..., ErgoEnv]) -> None:
    """The issue's case scaled down: posture every 30 s, kill -9 at +25 s, start at +35 s, here 6/5/7 s."""
    env = make_env(POSTURE__INTERVAL="6s", POSTURE__NATURAL_BREAK="1h", HYDRATION__ENABLED="false",
                   QUIET_AFTER_RESUME="1.5s")
    first = Daemon(env, name="first").start()
    try:
        due = parse_iso(first.status()["reminders"]["posture"]["next_due"])
        sleep_until(due - timedelta(seconds=1))
        kill_9(first)
    finally:
        first.kill()
    assert first.delivered() == []
    sleep_until(due + timedelta(seconds=1))

    with Daemon(env, name="second") as second:
        answers = []
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not env.db_deliveries():
            answers.append(second.status())
            time.sleep(0.1)
        [(at, kind)] = wait_for(env.db_deliveries, 1, what="the overdue reminder after the restart")
        assert kind == "posture"
        for answer in answers:  # a past time as due always comes with the hold that keeps it
            entry, now = answer["reminders"]["posture"], parse_iso(answer["now"])
            if entry["next_due"] is not None and parse_iso(entry["next_due"]) < now - timedelta(seconds=1):
                assert entry["held"] == "quiet after resume", answer
        assert any(a["reminders"]["posture"]["held"] == "quiet after resume" for a in answers), answers[:3]
        assert at >= due + timedelta(seconds=1 + 1.5) - timedelta(seconds=0.5), "delivered inside the quiet period"
        next_due = parse_iso(second.status()["reminders"]["posture"]["next_due"])
        assert next_due >= at + timedelta(seconds=5), "the countdown restarts at the delivery"
        time.sleep(1.0)
        assert len(env.db_deliveries()) == 1 and second.delivered() == ["posture"]
        assert "skipped stale" not in second.stderr()


@pytest.mark.slow
def test_downtime_longer_than_the_natural_break_counts_as_the_break(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(POSTURE__INTERVAL="4s", POSTURE__NATURAL_BREAK="3s", HYDRATION__ENABLED="false",
                   QUIET_AFTER_RESUME="0.5s")
    first = Daemon(env, name="first").start()
    try:
        due = parse_iso(first.status()["reminders"]["posture"]["next_due"])
        kill_9(first)
    finally:
        first.kill()
    sleep_until(due + timedelta(seconds=0.5))  # down for more than 3 s, past the due time
    with Daemon(env, name="second") as second:
        status = second.status()
        started = parse_iso(status["now"])
        entry = status["reminders"]["posture"]
        assert entry["held"] is None and parse_iso(entry["next_due"]) >= started + timedelta(seconds=3), entry
        time.sleep(1.5)
        assert env.db_deliveries() == [], "the downtime was the break: nothing is owed"
        assert "continuing saved countdowns: ergo was down for" in second.stderr()
