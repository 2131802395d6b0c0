"""The daemon's wiring, in-process: the real APScheduler, a real SQLite store and the
console notifier, with a time-travel clock where a test needs to jump the wall clock
(the one fake the standards allow)."""

from __future__ import annotations

import io
import logging
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ergo.daemon.core import Backends, Daemon
from ergo.notify.console import ConsoleNotifier
from ergo.notify.select import FallbackNotifier
from ergo.paths import Paths
from ergo.config.frozen import PlainLoaded
from ergo.config.load import export_json, load_settings
from ergo.records.store import Store
from tests.daemon_helpers import wait_for

#: waits for what happens within a second or two on a quiet machine (they end as soon as it does)
PATIENCE = 15.0


class TravellingClock:
    """Real time plus an offset that a test moves, as a suspend or a clock change would."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def monotonic(self) -> float:
        return time.monotonic()


@pytest.fixture
def make_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for key in [k for k in __import__("os").environ if k.startswith("ERGO_") and k != "ERGO_REQUIRE_DESKTOP"]:
        monkeypatch.delenv(key)
    created: list[Daemon] = []

    def make(clock=None, **flags) -> tuple[Daemon, io.StringIO]:
        paths = Paths(tmp_path / "config.toml", "test", tmp_path / "state", tmp_path / "run")
        loaded = PlainLoaded.from_json(export_json(load_settings(paths.config_file, flags)))
        out = io.StringIO()
        backends = Backends(FallbackNotifier(ConsoleNotifier(out)), "console: test")
        daemon = Daemon(paths, loaded, backends, Store(paths.state_db), flags=flags, clock=clock)
        daemon.start()
        created.append(daemon)
        return daemon, out

    yield make
    for daemon in created:
        daemon.stop()
        daemon.store.close()


FAST = {"posture": {"interval": "1s"}, "hydration": {"enabled": "false"}, "stretch": {"enabled": "false"},
        "movement": {"enabled": "false"}, "merge_window": "0.1s"}


def test_a_failing_job_is_logged_and_the_daemon_goes_on(make_daemon, caplog):
    daemon, out = make_daemon(**FAST)
    real_tick = daemon.engine.tick
    calls = {"n": 0}

    def flaky(now):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return real_tick(now)

    daemon.engine.tick = flaky
    with caplog.at_level(logging.ERROR, logger="ergo"):
        wait_for(lambda: "Posture check" in out.getvalue(), PATIENCE, what="a reminder after the failing job")
    assert calls["n"] >= 2
    assert "reminder job failed" in caplog.text and "boom" in caplog.text
    assert daemon.scheduler.running


def _reminder_jobs_due_within(daemon: Daemon, clock: TravellingClock, limit: timedelta) -> bool:
    """APScheduler keeps real time while this clock travels, so compare job times with the clock."""
    jobs = [j for j in daemon.scheduler.get_jobs() if j.id.startswith("reminder:")]
    # (a job may be a moment overdue on a loaded machine, before the scheduler's thread runs it; a month
    # or five hours off is what a missed rebuild looks like)
    return bool(jobs) and all(-timedelta(seconds=2) <= j.trigger.start_date - clock.now() <= limit for j in jobs)


def test_a_forward_clock_jump_is_a_suspend_without_burst(make_daemon, caplog):
    clock = TravellingClock()
    daemon, out = make_daemon(clock=clock, **FAST, quiet_after_resume="2s")
    wait_for(lambda: "Posture check" in out.getvalue(), PATIENCE, what="a first reminder")
    clock.offset = timedelta(days=30)  # a month-long suspend, or the clock set forward
    with caplog.at_level(logging.INFO, logger="ergo"):
        daemon.housekeeping()
    assert "wall clock jumped +720h" in caplog.text
    assert daemon.engine.hold(clock.now()) == "quiet after resume"
    assert any(r.event == "natural_break" for r in daemon.store.history())
    # The timers were rebuilt around the new time: one countdown ahead, not a month of missed runs.
    assert _reminder_jobs_due_within(daemon, clock, timedelta(seconds=1.1))


def test_a_backward_clock_jump_keeps_the_countdowns(make_daemon):
    clock = TravellingClock()
    daemon, out = make_daemon(clock=clock, **FAST)
    wait_for(lambda: "Posture check" in out.getvalue(), PATIENCE, what="a first reminder")
    clock.offset = -timedelta(hours=5)
    daemon.housekeeping()
    assert _reminder_jobs_due_within(daemon, clock, timedelta(seconds=1.1))
    assert daemon.engine.hold(clock.now()) is None


def test_catch_up_trigger_never_lists_missed_runs():
    from apscheduler.job import Job

    from ergo.daemon.triggers import CatchUpIntervalTrigger

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    trigger = CatchUpIntervalTrigger(seconds=1, start_date=start)
    job = Job.__new__(Job)
    job.trigger, job.next_run_time = trigger, start
    runs = Job._get_run_times(job, start + timedelta(days=365))  # a year of one-second runs missed
    assert len(runs) <= 2


def test_state_records_the_delivery_it_is_about_to_make(make_daemon, tmp_path):
    daemon, out = make_daemon(**FAST)
    wait_for(lambda: "Posture check" in out.getvalue(), PATIENCE, what="a first reminder")
    saved = daemon.store.load_engine()
    assert saved is not None and saved["reminders"]["posture"]["last_fired"] is not None
    last = datetime.fromisoformat(saved["reminders"]["posture"]["last_fired"])
    assert timedelta(0) <= datetime.now(timezone.utc) - last < timedelta(seconds=5)  # this run's, not an old one


def test_lost_idle_source_counts_as_present_and_is_logged_once(tmp_path: Path, monkeypatch, caplog, desktop) -> None:
    """Away under a silent Xvfb; then the X server dies: reminders resume, one warning."""
    from ergo.idle.x11 import X11IdleMonitor

    for key in [k for k in __import__("os").environ if k.startswith("ERGO_") and k != "ERGO_REQUIRE_DESKTOP"]:
        monkeypatch.delenv(key)
    flags = {**FAST, "posture": {"interval": "2s"}, "idle": {"away_after": "1s"}}
    paths = Paths(tmp_path / "config.toml", "test", tmp_path / "state", tmp_path / "run")
    loaded = PlainLoaded.from_json(export_json(load_settings(paths.config_file, flags)))
    out = io.StringIO()
    monitor = X11IdleMonitor()
    backends = Backends(FallbackNotifier(ConsoleNotifier(out)), "console: test", monitor, "x11: test")
    daemon = Daemon(paths, loaded, backends, Store(paths.state_db), flags=flags)
    daemon.start()
    try:
        wait_for(lambda: daemon.engine.away_since is not None, PATIENCE, what="away")  # nobody touches the keyboard
        time.sleep(2.5)  # posture (2 s) falls due while away: held
        assert "Posture check" not in out.getvalue()
        desktop.kill_server()
        xvfb = desktop.processes.pop("Xvfb")
        xvfb.terminate()
        xvfb.wait(timeout=5)
        killed = time.monotonic()
        with caplog.at_level(logging.INFO, logger="ergo"):
            wait_for(lambda: "Posture check" in out.getvalue(), PATIENCE, what="reminders resuming")
            time.sleep(max(0.0, killed + 4.5 - time.monotonic()))  # more idle readings: a second warning would show
        assert caplog.text.count("idle detection failed") == 1
    finally:
        daemon.stop()
        daemon.store.close()


class SteppingClock:
    """A fake clock for time travel: real time plus an offset that moves wall and monotonic time
    together, as time passing does (no jump for JumpDetector to see)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return time.monotonic() + self.offset


SLOW = {kind: {"interval": "2h"} for kind in ("posture", "hydration", "stretch", "movement")}


def _quiet_daemon(tmp_path: Path, clock: SteppingClock) -> Daemon:
    """Nothing due for two hours, no idle backend, and the alive marker that `ergo run` uses."""
    paths = Paths(tmp_path / "config.toml", "test", tmp_path / "state", tmp_path / "run")
    paths.runtime_dir.mkdir(exist_ok=True)
    loaded = PlainLoaded.from_json(export_json(load_settings(paths.config_file, SLOW)))
    backends = Backends(FallbackNotifier(ConsoleNotifier(io.StringIO())), "console: test")
    return Daemon(paths, loaded, backends, Store(paths.state_db, alive_marker=paths.alive_marker), flags=SLOW,
                  clock=clock)


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_an_idle_hour_writes_nothing_and_a_crash_still_counts_downtime_from_the_last_sign_of_life(tmp_path, monkeypatch):
    for key in [k for k in __import__("os").environ if k.startswith("ERGO_") and k != "ERGO_REQUIRE_DESKTOP"]:
        monkeypatch.delenv(key)
    clock = SteppingClock()
    first = _quiet_daemon(tmp_path, clock)
    first.start()
    try:
        written = _files(tmp_path / "state")
        for _ in range(120):  # an idle hour in 30 s steps: what the control thread and the idle job do
            clock.offset += 30
            first.housekeeping()
            first.presence.on_idle_poll()
        assert _files(tmp_path / "state") == written  # no heartbeat, no checkpoint: nothing on disk
    finally:
        first.scheduler.shutdown(wait=False)  # then a crash: no stop(), so no last save
    alive = first.store.last_alive()
    assert alive is not None and timedelta(0) <= clock.now() - alive <= timedelta(seconds=60)
    first.store.close()

    clock.offset += 120  # the daemon runs again two minutes later: less than posture's 5m natural break
    second = _quiet_daemon(tmp_path, clock)
    left = second.engine.next_due("posture", clock.now()) - clock.now()
    second.store.close()
    assert timedelta(minutes=57) < left < timedelta(minutes=59), left  # the countdown went on: 2h - 62m
    # Without the sign of life the same restart counts the idle hour as downtime, hence a natural break.
    (tmp_path / "run" / "ergo.alive").unlink()
    third = _quiet_daemon(tmp_path, clock)
    left = third.engine.next_due("posture", clock.now()) - clock.now()
    third.store.close()
    assert left > timedelta(minutes=119), left


def test_idle_readings_back_off_while_away_unless_a_reminder_waits_for_the_return():
    from ergo.daemon.presence import IDLE_AWAY, IDLE_FAST, IDLE_NONE, IDLE_SLOW, idle_poll_delay
    from ergo.timing.policy import Engine
    from ergo.timing.decisions import ReminderSpec, Timing
    from ergo.timing.worktime import WorkHours

    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    spec = ReminderSpec("posture", timedelta(minutes=30), timedelta(minutes=5), WorkHours.parse("mon-sun", "00:00-24:00", timezone.utc))
    engine = Engine.start({"posture": spec}, Timing(away_after=timedelta(minutes=3)), t0)
    away_after = timedelta(minutes=3)
    assert idle_poll_delay(engine, t0, away_after, polling=True) == IDLE_SLOW
    assert idle_poll_delay(engine, t0 + timedelta(minutes=29, seconds=30), away_after, polling=True) == IDLE_FAST
    assert idle_poll_delay(engine, t0 + timedelta(minutes=29, seconds=30), away_after, polling=False) == IDLE_NONE
    engine.observe_idle(t0 + timedelta(minutes=10), timedelta(minutes=4))  # away since 09:06
    assert engine.away_since is not None
    assert idle_poll_delay(engine, t0 + timedelta(minutes=10), away_after, polling=True) == IDLE_AWAY
    engine.tick(t0 + timedelta(minutes=30))  # posture falls due while away: held for the return
    assert any(state.pending_since is not None for state in engine.reminders.values())
    assert idle_poll_delay(engine, t0 + timedelta(minutes=30), away_after, polling=True) == IDLE_FAST
