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
from datetime import datetime, timedelta, timezone

import pytest

from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.desktop import DesktopSession, require_desktop_tools

pytestmark = pytest.mark.slow

#: waits for what falls due within seconds on a quiet machine: they end as soon as it happens, and
#: leave room for a machine at a load of 4 on 2 cores
SLOW = 15.0


def held(daemon: Daemon, *kinds: str) -> set[str | None]:
    reminders = daemon.status()["reminders"]
    return {reminders[kind]["held"] for kind in kinds}


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
        wait_for(lambda: daemon.status()["hold"] == "away", timeout=SLOW, what="daemon notices the person is away")
        # posture (3 s) and hydration (6 s) both fall due while away, and are held
        wait_for(lambda: held(daemon, "posture", "hydration") == {"away"}, SLOW, what="both reminders held")
        # ... and away longer than posture's natural break (4 s), so its countdown starts afresh on return
        away_since = datetime.fromisoformat(daemon.status()["away_since"])
        time.sleep(max(0.0, (away_since + timedelta(seconds=4.5) - datetime.now(timezone.utc)).total_seconds()))
        assert daemon.reminder_lines() == []
        # The person comes back and stays active.
        with keep_active(desktop):
            wait_for(lambda: daemon.status()["hold"] is None, timeout=SLOW, what="back")
            first = wait_for(daemon.delivered, SLOW, what="the first reminder after the return")
            assert first == ["hydration"], "the pending hydration reminder, alone, on return"
            assert len(daemon.reminder_lines()) == 1, f"burst on return: {daemon.reminder_lines()}"
            # posture took its natural break while away: a fresh countdown, so it comes 3 s after the return
            wait_for(lambda: "posture" in daemon.delivered(), SLOW, what="posture after the return")
        kinds = daemon.delivered()
        assert "posture" in kinds and "hydration" in kinds
        history = env.history()
        assert any(r["kind"] == "posture" and r["event"] == "natural_break" for r in history), history
        assert not any(r["kind"] == "hydration" and r["event"] == "natural_break" for r in history)
        notifications = sorted({t for t, _ in env.deliveries()})  # a merged notification is one row per kind
        assert all(b - a >= timedelta(seconds=0.9) for a, b in zip(notifications, notifications[1:])), notifications
        assert daemon.terminate() == 0


def test_do_not_disturb_holds_then_delivers_merged(desktop: DesktopSession) -> None:
    require_desktop_tools("dunstctl")
    settings = dict(NOTIFIER="console", POSTURE__INTERVAL="2s", HYDRATION__INTERVAL="3s", MERGE_WINDOW="0.5s")
    with ErgoEnv.create(desktop.env, **settings) as env, Daemon(env) as daemon:
        subprocess.run(["dunstctl", "set-paused", "true"], env=desktop.full_env(), check=True)
        wait_for(lambda: daemon.status()["dnd"], timeout=SLOW, what="daemon sees do-not-disturb")
        before = len(daemon.reminder_lines())
        # both fall due during do-not-disturb (posture at 2 s, hydration at 3 s), and are held
        wait_for(lambda: held(daemon, "posture", "hydration") == {"do not disturb"}, SLOW, what="both held")
        assert len(daemon.reminder_lines()) == before, "delivered during do-not-disturb"
        subprocess.run(["dunstctl", "set-paused", "false"], env=desktop.full_env(), check=True)
        wait_for(lambda: len(daemon.reminder_lines()) > before, timeout=SLOW, what="delivery after do-not-disturb")
        time.sleep(0.5)  # a second, unmerged delivery would follow at once
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
