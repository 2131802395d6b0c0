"""What a person reads in a terminal: local clock times, plain words, one level of brackets (issue 17, item 4).

Every test runs the real daemon (`python -m ergo run`, real socket, real SQLite) and the real CLI in a
zone far from UTC (Asia/Kolkata, +05:30), so a UTC time printed by mistake cannot pass for a local one.
`ergo run` typed by a person is run on a real pseudo-terminal (stdout and stderr both the terminal).
"""

from __future__ import annotations

import os
import re
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.daemon_helpers import Daemon, ErgoEnv, wait_for

ZONE = "Asia/Kolkata"
ISO_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def depth(text: str) -> int:
    """How deeply brackets nest in one line: "a (b (c))" is 2."""
    deepest = level = 0
    for char in text:
        if char in "([":
            level += 1
            deepest = max(deepest, level)
        elif char in ")]":
            level = max(0, level - 1)
    return deepest


def assert_plain(text: str) -> None:
    for line in text.splitlines():
        assert not ISO_STAMP.search(line), f"a raw ISO stamp: {line!r}"
        assert depth(line) <= 1, f"brackets inside brackets: {line!r}"
        assert not re.search(r"\bergo: ergo\b", line), f"says ergo twice: {line!r}"


def local_env(make_env: Callable[..., ErgoEnv], **settings: str) -> ErgoEnv:
    env = make_env(**settings)
    env.env["TZ"] = ZONE
    return env


def kolkata(value: datetime) -> str:
    return f"{value.astimezone(timezone(timedelta(hours=5, minutes=30))):%H:%M}"


def test_history_speaks_local_time_and_one_level_of_brackets(make_env: Callable[..., ErgoEnv]) -> None:
    env = local_env(make_env, POSTURE__INTERVAL="1h", HYDRATION__INTERVAL="1h")
    with Daemon(env):
        assert env.cli("skip", "posture").returncode == 0
        snoozed = env.cli("snooze", "hydration", "30m")
        assert snoozed.returncode == 0, snoozed.stderr
        started = env.cli("plan", "start", "after-workout")
        assert started.returncode == 0, started.stderr
        history = env.cli("history")
    assert history.returncode == 0, history.stderr
    assert_plain(history.stdout)
    until = kolkata(datetime.now(timezone.utc) + timedelta(minutes=30))
    assert re.search(rf"hydration +snoozed by command \(until {until}\)", history.stdout), history.stdout
    assert "posture    skipped by command before it was due: its countdown restarted" in history.stdout
    assert "plan       started: after-workout until " in history.stdout


def test_history_reads_rows_older_versions_wrote_in_plain_words(make_env: Callable[..., ErgoEnv]) -> None:
    env = local_env(make_env)
    with Daemon(env):
        pass  # the state file exists with today's schema
    at = datetime.now(timezone.utc).replace(microsecond=0)
    db = sqlite3.connect(env.state_dir / "state.sqlite3")
    with db:
        db.executemany("INSERT INTO history(at, kind, event, detail) VALUES(?, ?, ?, ?)", [
            (at.isoformat(), "posture", "skipped", "you asked (ergo skip)"),
            (at.isoformat(), "stretch", "snoozed", f"until {(at + timedelta(minutes=10)).isoformat()}"),
            (at.isoformat(), "plan", "started", f"acute-back until {(at + timedelta(days=7)).isoformat()} (waking 08:00-22:00)"),
        ])
    db.close()
    history = env.cli("history")
    assert history.returncode == 0, history.stderr
    assert_plain(history.stdout)
    assert f"snoozed by command (until {kolkata(at + timedelta(minutes=10))})" in history.stdout


def read_terminal(master: int, into: list[str], seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                into.append(os.read(master, 65536).decode(errors="replace"))
            except OSError:
                return


def test_ergo_run_in_a_terminal_one_short_start_line_and_one_line_per_reminder(make_env: Callable[..., ErgoEnv]) -> None:
    env = local_env(make_env, POSTURE__INTERVAL="2s", HYDRATION__ENABLED="false")
    import pty  # POSIX only: imported here so the suite still collects on Windows

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "ergo", "run"], env=env.env, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    screen: list[str] = []
    try:
        end = time.monotonic() + 20
        while time.monotonic() < end and "".join(screen).count("ergo · ") < 2:
            read_terminal(master, screen, 0.2)
        proc.terminate()
        proc.wait(timeout=10)
        read_terminal(master, screen, 0.3)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    lines = [line for line in "".join(screen).replace("\r", "").splitlines() if line.strip()]
    assert_plain("\n".join(lines))
    reminders = [line for line in lines if " ergo · " in line]
    assert len(reminders) >= 2, lines
    assert not [line for line in lines if "delivered via" in line], f"two lines per reminder on screen: {lines}"
    start = next(line for line in lines if " started (pid " in line)
    assert len(start) <= 130, f"{len(start)} characters: {start!r}"
    # "in 2s", or "in 1s" when starting took a second (a loaded machine; never 0 s: the countdown starts at start)
    assert re.search(r"first reminder: posture at \d\d:\d\d:\d\d \(in [12]s\); reminders go to this terminal$", start), start
    log = env.log_file.read_text()  # the log line goes to the log
    assert "reminder posture delivered via console" in log and " started (pid " in log


def test_status_shows_a_timed_break_and_resume_says_when_nothing_was_paused(make_env: Callable[..., ErgoEnv]) -> None:
    env = local_env(make_env, POSTURE__INTERVAL="1h", HYDRATION__INTERVAL="1h", STRETCH__ENABLED="true",
                    STRETCH__DURATION="5m")
    with Daemon(env):
        resumed = env.cli("resume")
        assert resumed.returncode == 0 and resumed.stdout.strip() == "not paused: reminders were running already", resumed
        assert env.cli("pause").returncode == 0
        assert env.cli("resume").stdout.strip() == "resumed"
        assert env.cli("break", "stretch").returncode == 0
        status = env.cli("status")
    assert status.returncode == 0, status.stderr
    assert_plain(status.stdout)
    ends = kolkata(datetime.now(timezone.utc) + timedelta(minutes=5))
    assert re.search(rf"^break in progress: stretch until {ends}:\d\d, [45]m\d*s? left; `ergo done` ends it early$",
                     status.stdout, re.M), status.stdout


def test_status_tells_the_truth_when_console_was_asked_for(make_env: Callable[..., ErgoEnv]) -> None:
    env = local_env(make_env, POSTURE__INTERVAL="1h", HYDRATION__INTERVAL="1h")  # NOTIFIER=console, no terminal
    started = env.cli("start")
    assert started.returncode == 0, started.stderr
    env.started.append(env.daemon_pid() or 0)
    status = env.cli("status")
    env.cli("stop")
    assert "reminders reach only the log file: notifier is set to console and ergo has no terminal" in status.stdout
    assert "no notification server" not in status.stdout


def test_errors_say_ergo_once(make_env: Callable[..., ErgoEnv]) -> None:
    env = local_env(make_env)
    with Daemon(env) as daemon:
        second = env.cli("run")
        assert second.returncode == 1
        assert second.stderr.strip() == f"ergo is already running (pid {daemon.pid})", second.stderr
        assert env.cli("stop").returncode == 0
        daemon.proc.wait(timeout=10)
    assert_plain(daemon.stderr())  # the log: "ergo stopped", not "ergo: ergo stopped"
    assert re.search(r"^\S+ \S+ ergo stopped$", daemon.stderr(), re.M), daemon.stderr()


def test_plan_wording(make_env: Callable[..., ErgoEnv]) -> None:
    env = local_env(make_env)
    listed = env.cli("plan", "list")
    assert "--waking HH:MM-HH:MM" in listed.stdout, listed.stdout
    with Daemon(env):
        started = env.cli("plan", "start", "acute-back", "--waking", "00:00-24:00")
        assert started.returncode == 0, started.stderr
        assert "First step now: Cold pack" in started.stdout, started.stdout
        again = env.cli("plan", "start", "acute-back")
        assert again.returncode == 1
        assert_plain(again.stderr)
        assert env.cli("plan", "stop").returncode == 0
        assert env.cli("plan", "start", "after-workout").returncode == 0
        status = env.cli("plan", "status")
    assert status.returncode == 0, status.stderr
    assert not [line for line in status.stdout.splitlines() if line.rstrip().endswith(";")], status.stdout
    assert "  waking hours 00:00-24:00\n" in status.stdout, status.stdout


def test_stats_and_report_agree_on_how_long_ergo_ran(make_env: Callable[..., ErgoEnv], tmp_path: Path) -> None:
    env = local_env(make_env)
    with Daemon(env) as daemon:
        assert daemon.terminate() == 0  # its own spans closed: only the one written below counts
    now = datetime.now(timezone.utc)
    start = now - timedelta(hours=2)  # inside the week `ergo stats` and the report both cover
    db = sqlite3.connect(env.state_dir / "state.sqlite3")
    with db:
        db.execute("DELETE FROM spans")
        db.execute("INSERT INTO spans(what, start, end) VALUES('running', ?, ?)",
                   (start.isoformat(), (start + timedelta(hours=1, minutes=5, seconds=40)).isoformat()))
    db.close()
    stats = env.cli("stats")
    page = tmp_path / "week.html"
    report = env.cli("report", "--html", str(page))
    assert stats.returncode == 0 and report.returncode == 0, (stats.stderr, report.stderr)
    ran_text = re.search(r"ergo ran (\S+)", stats.stdout).group(1)
    ran_page = re.search(r"ergo ran (\S+) ·", page.read_text()).group(1)
    assert ran_text == ran_page == "1h06m", (ran_text, ran_page)


@pytest.fixture(autouse=True)
def _kolkata_differs_from_utc() -> None:
    assert Path("/usr/share/zoneinfo", ZONE).exists() or sys.platform != "linux", "tzdata missing"
