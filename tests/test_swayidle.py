"""The swayidle backend against a real headless sway: idle after the timeout, active on a real key press.

sway runs as a separate test user (it refuses root); see tests/wayland.py. Input comes from wtype
through the compositor's virtual-keyboard protocol, so the idle/active transitions are sway's own.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from ergo.idle import swayidle
from ergo.idle.select import select_idle_monitor
from ergo.idle.swayidle import SwayidleIdleMonitor
from tests.daemon_helpers import Daemon, ErgoEnv, pid_alive, wait_for
from tests.test_status_follow import Follower
from tests.wayland import Sway, headless_sway


@pytest.fixture
def sway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sway]:
    with headless_sway() as running:
        for var in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_SESSION_TYPE"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("WAYLAND_DISPLAY", running.display)
        yield running


class Events:
    """Records the monitor's callbacks (they run on its thread)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.changed = threading.Event()

    def away(self) -> None:
        self.seen.append("away")

    def back(self) -> None:
        self.seen.append("back")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.append(int(entry))
    return found


def comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def test_auto_picks_swayidle_on_wayland_without_mutter_or_screensaver_and_says_why(sway: Sway) -> None:
    assert swayidle.probe() is None
    monitor, reason = select_idle_monitor("auto")
    try:
        assert isinstance(monitor, SwayidleIdleMonitor)
        assert reason.startswith(f"swayidle: swayidle on {sway.display} (a Wayland session without mutter: ")
        assert "screensaver: " in reason
    finally:
        monitor.close()


def test_idle_then_a_key_press_brings_you_back(sway: Sway) -> None:
    monitor = SwayidleIdleMonitor()
    events = Events()
    try:
        monitor.watch(timedelta(seconds=1), events.away, events.back)
        wait_for(lambda: events.seen == ["away"], timeout=10, what="swayidle's idle")
        assert monitor.idle_time() >= timedelta(seconds=1)
        sway.type_key()
        wait_for(lambda: events.seen == ["away", "back"], timeout=5, what="swayidle's resume after a key press")
        assert monitor.idle_time() == timedelta(0)
        wait_for(lambda: events.seen == ["away", "back", "away"], timeout=10, what="idle again")
    finally:
        monitor.close()


def test_a_dead_swayidle_is_restarted_and_close_ends_it(sway: Sway) -> None:
    monitor = SwayidleIdleMonitor()
    events = Events()
    try:
        monitor.watch(timedelta(seconds=1), events.away, events.back)
        wait_for(lambda: events.seen == ["away"], timeout=10, what="swayidle's idle")
        first = wait_for(lambda: monitor.child_pid, timeout=5, what="the swayidle child")
        os.kill(first, signal.SIGKILL)
        # while it is gone the person counts as present, then the new child reports idle again
        wait_for(lambda: events.seen[:2] == ["away", "back"], timeout=5, what="present after the child died")
        second = wait_for(lambda: monitor.child_pid != first and monitor.child_pid, timeout=10, what="a new child")
        assert monitor.restarts == 1
        wait_for(lambda: events.seen == ["away", "back", "away"], timeout=10, what="idle from the new child")
    finally:
        monitor.close()
    wait_for(lambda: not pid_alive(second), timeout=3, what="close() to end swayidle")


def test_the_daemon_holds_reminders_while_sway_says_idle(sway: Sway) -> None:
    with ErgoEnv.create(sway.env(), IDLE__BACKEND="auto", IDLE__AWAY_AFTER="1s", POSTURE__INTERVAL="4s",
                        HYDRATION__INTERVAL="1h") as env:
        with Daemon(env) as daemon:
            status = daemon.status()
            assert status["idle_backend"] == "swayidle", status["idle_reason"]
            children = [p for p in children_of(daemon.pid) if comm(p) == "swayidle"]
            assert len(children) == 1
            follower = Follower(env, "waybar")  # what a bar sees of the hold starting and ending
            try:
                follower.until(lambda line: json.loads(line)["class"] == "held", timeout=10)
                wait_for(lambda: daemon.status()["hold"] == "away", timeout=10, what="hold: away")
                time.sleep(4.5)  # posture fell due while away
                assert daemon.status()["reminders"]["posture"]["held"] == "away"
                assert "posture" not in daemon.delivered()
                sway.type_key()
                wait_for(lambda: daemon.status()["hold"] is None, timeout=5, what="back after a key press")
                follower.until(lambda line: json.loads(line)["class"] != "held", timeout=2)
            finally:
                follower.close()
            assert "idle detection: swayidle, event-driven, no polling" in daemon.stderr()
            assert daemon.terminate() == 0
        wait_for(lambda: not pid_alive(children[0]), timeout=3, what="ergo's stop to end swayidle")
