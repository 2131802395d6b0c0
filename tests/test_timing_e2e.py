"""Issue 4 end to end: a real daemon with the X11 idle backend under Xvfb, real
do-not-disturb through dunst, and second-scale intervals.

With no input the person is away and reminders are held; after an xdotool move
they come back without a burst. With dunst paused, reminders wait and then
arrive merged.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.desktop import DesktopSession, require_desktop_tools

pytestmark = pytest.mark.slow


@contextmanager
def keep_active(desktop: DesktopSession, every: float = 0.5) -> Iterator[None]:
    """Move the pointer every `every` s, as a person at the keyboard would."""
    stop = threading.Event()

    def wiggle() -> None:
        x = 10
        while not stop.is_set():
            x = 10 if x > 200 else x + 7
            subprocess.run(["xdotool", "mousemove", str(x), "20"], env=desktop.full_env(), check=False)
            stop.wait(every)

    thread = threading.Thread(target=wiggle, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(2)


def test_away_holds_reminders_and_return_brings_no_burst(desktop: DesktopSession) -> None:
    require_desktop_tools("xdotool")
    settings = dict(
        IDLE__BACKEND="x11", IDLE__AWAY_AFTER="2s", POSTURE__INTERVAL="3s", POSTURE__NATURAL_BREAK="4s",
        HYDRATION__INTERVAL="6s", HYDRATION__NATURAL_BREAK="1h", MERGE_WINDOW="1s", QUIET_AFTER_RESUME="1s",
    )
    with ErgoEnv.create(desktop.env, **settings) as env, Daemon(env) as daemon:
        assert daemon.status()["idle_backend"] == "x11"
        # Nobody touches the (virtual) keyboard: away after 2 s, so nothing is delivered.
        wait_for(lambda: daemon.status()["hold"] == "away", timeout=6, what="daemon notices the person is away")
        time.sleep(6)  # posture (3 s) and hydration (6 s) both fall due meanwhile
        assert daemon.reminder_lines() == []
        status = daemon.status()
        assert status["reminders"]["hydration"]["held"] == "away"
        away_for = time.monotonic()
        # The person comes back and stays active.
        with keep_active(desktop):
            back = wait_for(lambda: daemon.status()["hold"] is None and time.monotonic(), timeout=5, what="back")
            time.sleep(1.5)
            first = daemon.reminder_lines()
            assert len(first) <= 1, f"burst on return: {first}"
            assert daemon.delivered() == ["hydration"], "the pending hydration reminder, alone, on return"
            time.sleep(5)
        kinds = daemon.delivered()
        assert "posture" in kinds and "hydration" in kinds
        history = env.history()
        assert any(r["kind"] == "posture" and r["event"] == "natural_break" for r in history), history
        assert not any(r["kind"] == "hydration" and r["event"] == "natural_break" for r in history)
        notifications = sorted({t for t, _ in env.deliveries()})  # a merged notification is one row per kind
        assert all(b - a >= timedelta(seconds=0.9) for a, b in zip(notifications, notifications[1:])), notifications
        assert back - away_for < 5
        assert daemon.terminate() == 0


def test_do_not_disturb_holds_then_delivers_merged(desktop: DesktopSession) -> None:
    require_desktop_tools("dunstctl")
    settings = dict(NOTIFIER="console", POSTURE__INTERVAL="2s", HYDRATION__INTERVAL="3s", MERGE_WINDOW="0.5s")
    with ErgoEnv.create(desktop.env, **settings) as env, Daemon(env) as daemon:
        subprocess.run(["dunstctl", "set-paused", "true"], env=desktop.full_env(), check=True)
        wait_for(lambda: daemon.status()["dnd"], timeout=5, what="daemon sees do-not-disturb")
        before = len(daemon.reminder_lines())
        time.sleep(3.5)
        assert len(daemon.reminder_lines()) == before, "delivered during do-not-disturb"
        assert daemon.status()["reminders"]["posture"]["held"] == "do not disturb"
        subprocess.run(["dunstctl", "set-paused", "false"], env=desktop.full_env(), check=True)
        wait_for(lambda: len(daemon.reminder_lines()) > before, timeout=5, what="delivery after do-not-disturb")
        time.sleep(0.3)
        after = daemon.reminder_lines()[before:]
        assert len(after) == 1 and "Posture check" in after[0] and "Drink some water" in after[0], after
        assert daemon.terminate() == 0


def test_status_explains_outside_hours() -> None:
    """Work hours that start two hours from now: every reminder says when it resumes."""
    hour = (time.gmtime().tm_hour + 2) % 24
    with ErgoEnv.create(SCHEDULE__HOURS=f"{hour:02d}:00-{(hour + 1) % 24:02d}:00") as env:
        env.env["TZ"] = "UTC"
        with Daemon(env) as daemon:
            entry = daemon.status()["reminders"]["posture"]
            assert entry["held"] == "outside hours"
            assert entry["resumes_at"].endswith(f"T{hour:02d}:00:00+00:00")
            assert entry["next_due"].endswith(f"T{hour:02d}:00:02+00:00")  # a fresh countdown at the window start
            assert "outside work hours until" in env.cli("status").stdout
            assert daemon.terminate() == 0
