"""Commands that must follow the running daemon and say only what happened (issue 17, item 5).

Real daemon, real control socket, real SQLite; do-not-disturb through a real dunst on a private bus.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.desktop import DesktopSession, require_desktop_tools


def timeline(stdout: str) -> list[str]:
    """The rows under the day headers: 'HH:MM  text'."""
    return [line.strip() for line in stdout.splitlines() if re.match(r"^  \d\d:\d\d  ", line)]


def test_schedule_shows_the_running_daemons_pause_snooze_and_plan(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(POSTURE__INTERVAL="20m", HYDRATION__INTERVAL="30m")
    env.env["TZ"] = "UTC"
    with Daemon(env):
        assert env.cli("pause", "1h").returncode == 0
        assert env.cli("snooze", "hydration", "3h").returncode == 0
        assert env.cli("plan", "start", "after-workout").returncode == 0
        paused_at = datetime.now(timezone.utc)
        shown = env.cli("schedule", "--hours", "2")
        assert shown.returncode == 0, shown.stderr
        out = shown.stdout
        assert "from the running ergo (pid " in out and "as if ergo started now" not in out, out
        assert "  paused until " in out and "  hydration snoozed until " in out, out
        rows = timeline(out)
        # nothing in the paused hour; posture comes back 20 min after the pause ends; hydration stays snoozed
        first_posture = next(row for row in rows if row.endswith("  posture"))
        at = datetime.strptime(first_posture[:5], "%H:%M").time()
        expected = (paused_at + timedelta(hours=1, minutes=20)).time()
        gap = abs((datetime.combine(paused_at.date(), at) - datetime.combine(paused_at.date(), expected)).total_seconds())
        assert min(gap, 86400 - gap) <= 90, (first_posture, expected, out)
        assert not [row for row in rows if "hydration" in row], out
        assert any("plan after-workout: " in row for row in rows), out
        resumed = env.cli("resume")
        assert resumed.returncode == 0
        after = env.cli("schedule", "--hours", "2").stdout
        assert "paused until" not in after, after
        assert [row for row in timeline(after) if "plan " not in row][0].endswith("posture"), after
    # without a daemon: the simulation "as if ergo started now", as before
    alone = env.cli("schedule", "--hours", "1")
    assert alone.returncode == 0 and "as if ergo started now" in alone.stdout, alone.stdout


def test_schedule_with_a_daemon_stays_light(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(POSTURE__INTERVAL="20m")
    code = ("import sys; from ergo.cli import main; code = main(['schedule']); "
            "heavy = [m for m in ('pydantic', 'apscheduler', 'plyer', 'ergo.policy', 'ergo.config.model') if m in sys.modules]; "
            "print('HEAVY', heavy); sys.exit(code)")
    with Daemon(env):
        done = subprocess.run([sys.executable, "-c", code],
                              env=env.env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "from the running ergo" in done.stdout
    assert "HEAVY []" in done.stdout, done.stdout


def test_skip_of_a_due_reminder_not_yet_shown_says_so(desktop: DesktopSession, make_env: Callable[..., ErgoEnv]) -> None:
    require_desktop_tools("dunstctl")
    env = make_env(desktop.env, NOTIFIER="console", POSTURE__INTERVAL="2s", HYDRATION__INTERVAL="1h")
    with Daemon(env) as daemon:
        subprocess.run(["dunstctl", "set-paused", "true"], env=desktop.full_env(), check=True)
        wait_for(lambda: daemon.status()["dnd"], 5, what="do-not-disturb seen")
        wait_for(lambda: daemon.status()["reminders"]["posture"]["held"] == "do not disturb", 6, what="posture due, held")
        skipped = env.cli("skip", "posture")
        subprocess.run(["dunstctl", "set-paused", "false"], env=desktop.full_env(), check=True)
    assert skipped.returncode == 0, skipped.stderr
    assert "next one skipped" not in skipped.stdout
    assert re.match(r"posture: skipped the reminder due at [\d:]+, not shown yet, held back: do not disturb; "
                    r"its countdown restarted: next due [\d:]+$", skipped.stdout.strip()), skipped.stdout
    rows = [r for r in env.history_all() if r["event"] == "skipped"]
    assert rows and rows[-1]["detail"].startswith("via command, due since ") and rows[-1]["detail"].endswith(", not shown")


def test_skip_before_it_is_due_says_the_countdown_restarted(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(POSTURE__INTERVAL="1h", HYDRATION__INTERVAL="1h")
    with Daemon(env):
        skipped = env.cli("skip", "posture")
    assert skipped.returncode == 0, skipped.stderr
    assert skipped.stdout.startswith("posture: skipped before it was due, so its countdown restarted: next due "), skipped.stdout


def test_config_validate_without_a_file_checks_defaults_and_environment(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env()
    assert not env.config.exists()
    good = env.cli("config", "validate")
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith(f"{env.config}: no such file; the built-in defaults with the environment and flags are ok")
    env.env["ERGO_POSTURE__INTERVAL"] = "abc"
    bad = env.cli("config", "validate")
    run = env.cli("run")
    assert bad.returncode == run.returncode == 2, (bad, run)
    assert bad.stderr == run.stderr == 'ergo: ERGO_POSTURE__INTERVAL: "abc" is not a duration (try 45m or 1h30m)\n'
    named = env.cli("config", "validate", str(env.root / "nowhere.toml"))
    assert named.returncode == 1 and named.stderr.strip().endswith("nowhere.toml: no such file"), named
