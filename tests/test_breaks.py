"""Timed breaks: the pure countdown decisions, a Start press in real dunst counting down in place, and
`ergo break KIND` on the console; each ends by recording the break as done."""

from __future__ import annotations

import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ergo.timing.breaks import TimedBreak, clock, length_for, spoken, step, words
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.desktop import desktop_session, require_desktop_tools

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)


def test_the_countdown_updates_at_most_once_a_second_and_finishes() -> None:
    timed = TimedBreak(("movement",), (4,), T0, timedelta(minutes=3), "break")
    first = step(timed, T0)
    assert (first.remaining, first.progress, first.finished, first.next_at) == (timedelta(minutes=3), 0, False, T0 + timedelta(seconds=1))
    late = step(timed, T0 + timedelta(seconds=1.7))  # a late wake-up does not bunch the next update up
    assert late.next_at == T0 + timedelta(seconds=2)
    half = step(timed, T0 + timedelta(seconds=90))
    assert half.progress == 50 and clock(half.remaining) == "1:30"
    # walking the whole break: 180 updates at most, one a second
    t, updates = T0, 0
    while True:
        tick = step(timed, t)
        if tick.finished:
            break
        assert tick.next_at is not None and tick.next_at - t <= timedelta(seconds=1) and tick.next_at > t
        t, updates = tick.next_at, updates + 1
    assert updates == 180 and t == T0 + timedelta(minutes=3)
    assert step(timed, T0 + timedelta(minutes=5)).progress == 100
    assert clock(timedelta(seconds=0.2)) == "0:01"


def test_the_text_says_how_long() -> None:
    assert words("movement", timedelta(minutes=3)) == "walk for 3 minutes"
    assert words("stretch", timedelta(minutes=1)) == "stretch for 1 minute"
    assert spoken(timedelta(seconds=90)) == "1 minute 30 seconds"
    assert length_for({"stretch": timedelta(minutes=1), "movement": timedelta(minutes=3), "posture": None},
                      ("posture", "stretch", "movement")) == timedelta(minutes=3)
    assert length_for({"posture": None}, ("posture",)) is None


def test_start_in_dunst_counts_down_in_place_and_records_the_break(make_env: Callable[..., ErgoEnv],
                                                                   tmp_path: Path) -> None:
    require_desktop_tools()
    script = tmp_path / "pick.sh"
    script.write_text(f"#!/bin/sh\ncat > {tmp_path}/menu.txt\ngrep -m1 'Start' {tmp_path}/menu.txt\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    with desktop_session(dunst_settings=f"dmenu = {script}") as desk:
        env = make_env(desk.env, NOTIFIER="auto", POSTURE__ENABLED="false", HYDRATION__ENABLED="false",
                       STRETCH__ENABLED="true", STRETCH__INTERVAL="3s", STRETCH__DURATION="3s")
        with Daemon(env) as daemon:
            wait_for(lambda: daemon.delivered(), 10, what="the stretch reminder")
            [reminder, *_] = desk.notifications(count=1)
            assert reminder["actions"][-2:] == ["start", "Start 3 seconds break"]
            assert "Stretch for 3 seconds." in reminder["body"]
            desk._dunstctl("context")
            rows = wait_for(lambda: [r for r in env.history() if r["via"] == "break"], 10, what="the break recorded as done")
            assert rows[0]["kind"] == "stretch" and rows[0]["outcome"] == "done" and rows[0]["what"] == "reminder"
            countdown = [n for n in desk.notifications() if " left" in n["summary"]]
            assert 2 <= len(countdown) <= 4, [n["summary"] for n in countdown]  # 3 s at most once a second
            values = [n["hints"]["value"] for n in countdown]
            assert values == sorted(values) and values[0] < values[-1]
            ids = {n["id"] for n in countdown}
            assert len(ids) == 1, "the countdown replaces itself in place"
            assert all(n["replaces_id"] in (0, *ids) for n in countdown) and countdown[-1]["replaces_id"] in ids
            assert any(n["summary"].endswith("break done") for n in desk.notifications())
            assert "done with a timed break" in env.cli("history").stdout


def test_ergo_break_on_the_console_ends_as_done(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(POSTURE__ENABLED="false", HYDRATION__ENABLED="false", STRETCH__ENABLED="true",
                   STRETCH__INTERVAL="1h", STRETCH__DURATION="2s")
    with Daemon(env) as daemon:
        started = env.cli("break", "stretch")
        assert started.returncode == 0, started.stderr
        assert "break started, 2s" in started.stdout
        assert daemon.status()["break"]["kinds"] == ["stretch"]
        rows = wait_for(lambda: env.history(), 6, what="the break recorded")
        assert (rows[0]["kind"], rows[0]["what"], rows[0]["via"]) == ("stretch", "done", "break")
        assert daemon.status()["break"] is None
        lines = daemon.reminder_lines()
        assert any("0:02 left" in line for line in lines) and any("break done" in line for line in lines)
        assert len(lines) == 2, "the console shows the start and the end, not every second"
        none = env.cli("break", "posture")
        assert none.returncode == 1 and "not an enabled reminder" in none.stderr


@pytest.mark.parametrize(("seconds", "long", "short"), [
    (1, "1 second", "1 s"), (0, "0 seconds", "0 s"), (45, "45 seconds", "45 s"), (60, "1 minute", "1 min"),
    (61, "1 minute 1 second", "1 min 1 s"), (90, "1 minute 30 seconds", "1 min 30 s"), (120, "2 minutes", "2 min"),
    (150, "2 minutes 30 seconds", "2 min 30 s"), (600.9, "10 minutes", "10 min"),
])
def test_spoken_lengths_long_and_short(seconds: float, long: str, short: str) -> None:
    assert spoken(timedelta(seconds=seconds)) == long
    assert spoken(timedelta(seconds=seconds), short=True) == short


def test_each_kind_says_its_break_and_an_unknown_kind_a_plain_one() -> None:
    two = timedelta(minutes=2)
    assert [words(kind, two) for kind in ("stretch", "movement", "breathing", "posture", "hydration", "workspace",
                                          "strength", "eyes")] == [
        "stretch for 2 minutes", "walk for 2 minutes", "breathe slowly for 2 minutes", "reset your posture for 2 minutes",
        "fetch a glass of water, 2 minutes", "adjust your workspace for 2 minutes", "take 2 minutes for core exercises",
        "take 2 minutes for it"]


def test_the_countdown_before_its_start_near_its_end_and_on_the_clock() -> None:
    timed = TimedBreak(("stretch",), (None,), T0, timedelta(seconds=100), "break")
    early = step(timed, T0 - timedelta(seconds=5))  # a clock that reads a little behind the start
    assert (early.remaining, early.progress, early.finished, early.next_at) == (
        timedelta(seconds=100), 0, False, T0 + timedelta(seconds=1))  # counted from the start
    end = step(timed, T0 + timedelta(seconds=99.5))
    assert (end.progress, end.finished, end.next_at, end.remaining) == (99, False, T0 + timedelta(seconds=100),
                                                                        timedelta(seconds=0.5))
    assert step(timed, T0 + timedelta(seconds=100)) == step(timed, T0 + timedelta(seconds=300))
    assert step(timed, T0 + timedelta(seconds=100)).finished and step(timed, T0 + timedelta(seconds=100)).remaining == timedelta(0)
    assert step(timed, T0 + timedelta(seconds=33.3)).progress == 33
    assert [clock(timedelta(seconds=s)) for s in (0, 1, 59.01, 60, 61, 600, 3599.5)] == [
        "0:00", "0:01", "1:00", "1:00", "1:01", "10:00", "60:00"]
    assert length_for({"stretch": timedelta(minutes=1)}, ("posture", "stretch")) == timedelta(minutes=1)
    assert length_for({}, ()) is None


def test_spoken_in_the_process_language_and_in_english_for_the_log() -> None:
    """A German session hears its break lengths in German; the log asks for English and gets it."""
    from ergo import i18n

    i18n.use("de")
    try:
        german = spoken(timedelta(seconds=90))
        english = spoken(timedelta(seconds=90), language="en")
    finally:
        i18n.use(i18n.AUTO)
    assert english == "1 minute 30 seconds"
    assert german != english and "Minute" in german, german
