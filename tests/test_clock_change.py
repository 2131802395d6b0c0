"""A wall clock set back (or forward) during a timed break and a plan (issue 16, item 5).

The real daemon, the real APScheduler, the real kernel: the daemon's wall clock is moved by an
LD_PRELOAD shim over clock_gettime(CLOCK_REALTIME) (tests/data/wallclock_shift.c, compiled here with
gcc), as `date -s` would move it, and the kernel's clock-was-set event that `date -s` also causes is
made real by setting the machine's clock to the time it already shows (clock_settime, corrected for
the microseconds between reading and setting): every CLOCK_REALTIME timerfd armed with
TFD_TIMER_CANCEL_ON_SET is cancelled, and the machine's time does not move. This needs CAP_SYS_TIME
(root); without it the test cannot run (a failure under ERGO_REQUIRE_DESKTOP=1).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.daemon_helpers import Daemon, ErgoEnv, parse_iso, wait_for
from tests.helpers import REPO, cannot_run

SHIM_SOURCE = REPO / "tests" / "data" / "wallclock_shift.c"
HOURS_25 = timedelta(hours=25)


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None:
        cannot_run("gcc is needed to build the wall-clock shim (Debian: gcc, libc6-dev)")
    out = tmp_path_factory.mktemp("shim") / "wallclock_shift.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(out), str(SHIM_SOURCE), "-ldl", "-pthread"], check=True)
    return out


def _kernel_clock_was_set() -> None:
    """clock_settime(CLOCK_REALTIME) to the time the clock already shows: the kernel's clock-was-set
    event, without moving the machine's time (the error is the microseconds this function takes)."""
    try:
        start = time.monotonic_ns()
        wall = time.clock_gettime_ns(time.CLOCK_REALTIME)
        time.clock_settime_ns(time.CLOCK_REALTIME, wall + (time.monotonic_ns() - start))
    except PermissionError:
        cannot_run("setting CLOCK_REALTIME needs CAP_SYS_TIME (run as root)")


class Shifted:
    """The daemon's wall clock offset, written in place into the file the shim has mapped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_bytes(struct.pack("<q", 0))

    def set(self, offset: timedelta) -> None:
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.pwrite(fd, struct.pack("<q", int(offset.total_seconds()) * 1_000_000_000), 0)
        finally:
            os.close(fd)


@pytest.mark.slow
@pytest.mark.parametrize("jump", [-HOURS_25, HOURS_25], ids=["back 25h", "forward 25h"])
def test_a_clock_set_during_a_break_and_a_plan_moves_them_like_countdowns_within_2s(shim: Path, tmp_path: Path,
                                                                                     jump: timedelta) -> None:
    with ErgoEnv.create(POSTURE__INTERVAL="1h", HYDRATION__INTERVAL="1h", STRETCH__ENABLED="true",
                        STRETCH__DURATION="8s", STRETCH__INTERVAL="1h", LOG_LEVEL="debug") as env:
        shifted = Shifted(tmp_path / "shift")
        env.env.update(LD_PRELOAD=str(shim), WALLCLOCK_SHIFT_FILE=str(shifted.path))
        with Daemon(env) as daemon:
            plan = env.cli("plan", "start", "acute-back", "--waking", "00:00-24:00", "--cold-every", "2h")
            assert plan.returncode == 0, plan.stderr
            started = env.cli("break", "stretch")
            assert started.returncode == 0, started.stderr
            before = daemon.status()
            ends, next_due = parse_iso(before["break"]["ends"]), parse_iso(before["plan"]["next_due"])
            plan_ends = parse_iso(before["plan"]["ends"])
            posture_due = parse_iso(before["reminders"]["posture"]["next_due"])

            shifted.set(jump)  # what `date -s` does to the daemon's clock ...
            _kernel_clock_was_set()  # ... and to the kernel's timerfds
            set_at = time.monotonic()

            def moved() -> bool:
                status = daemon.status()
                got = status.get("break") and parse_iso(status["break"]["ends"])
                return bool(got) and abs(got - (ends + jump)) < timedelta(seconds=1)

            wait_for(moved, 2.0, what="the break's end moved with the clock, within 2 s")
            noticed = time.monotonic() - set_at
            after = daemon.status()
            assert parse_iso(after["plan"]["next_due"]) == next_due + jump
            assert parse_iso(after["plan"]["ends"]) == plan_ends + jump
            if jump < timedelta(0):  # set back: the reminders keep their countdowns too
                assert abs(parse_iso(after["reminders"]["posture"]["next_due"]) - (posture_due + jump)) < timedelta(seconds=2)
            assert f"wall clock jumped {'-' if jump < timedelta(0) else '+'}25h" in daemon.stderr()
            # the break still lasts its 8 s: done about 8 s after it began, not 25 h later (or at once)
            wait_for(lambda: "timed break finished (stretch)" in daemon.stderr(), 12, what="the break's end")
            rows = [r for r in env.history_all() if r["kind"] == "stretch" and r["event"] == "done"]
            assert rows, env.history_all()
            assert daemon.alive()
            assert "clock changes: timerfd (TFD_TIMER_CANCEL_ON_SET)" in daemon.stderr()
    print(f"clock change noticed after {noticed * 1000:.0f} ms")


class _Clocks:
    """Hand-moved wall, monotonic and boot clocks (a fake for time travel, for the pure detector)."""

    def __init__(self, boot: bool = True) -> None:
        from datetime import timezone

        self.wall, self.mono, self.boot = datetime(2026, 3, 1, tzinfo=timezone.utc), 100.0, 200.0
        if not boot:
            self.boottime = None  # type: ignore[assignment]

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def boottime(self) -> float | None:
        return self.boot


@pytest.mark.parametrize("boot", [True, False], ids=["Linux (CLOCK_BOOTTIME)", "elsewhere"])
def test_a_suspend_is_not_a_clock_set_but_a_clock_set_is(boot: bool) -> None:
    from ergo.timing.clock import JumpDetector

    clocks = _Clocks(boot)
    detector = JumpDetector(clocks)  # type: ignore[arg-type]
    clocks.wall += timedelta(hours=8)  # a night's suspend: monotonic time stood still
    clocks.boot += 8 * 3600
    assert detector.check() == timedelta(hours=8) and detector.set_part == timedelta(0)
    clocks.wall -= HOURS_25  # set back
    assert detector.check() == -HOURS_25 and detector.set_part == -HOURS_25
    clocks.wall += HOURS_25  # set forward: only boot time tells it from a suspend
    assert detector.check() == HOURS_25 and detector.set_part == (HOURS_25 if boot else timedelta(0))


def test_was_set_looks_without_taking_the_jump() -> None:
    """The clock watch wakes on a resume too; only a real set is acted on at once, and looking
    leaves the jump for the check (a suspend stays the resume's to report)."""
    from ergo.timing.clock import JumpDetector

    clocks = _Clocks()
    detector = JumpDetector(clocks)  # type: ignore[arg-type]
    clocks.wall += timedelta(hours=8)
    clocks.boot += 8 * 3600  # a suspend
    assert not detector.was_set()
    clocks.wall -= HOURS_25
    assert detector.was_set() and detector.was_set()  # looking twice changes nothing
    assert detector.check() == timedelta(hours=8) - HOURS_25 and detector.set_part == -HOURS_25


def test_the_clock_watch_wakes_on_a_real_clock_set_and_stops_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import threading

    from ergo.daemon.clockwatch import start_clock_watch

    woke = threading.Event()
    watch, reason = start_clock_watch(woke.set)
    assert watch is not None, reason
    try:
        assert not woke.wait(0.2)  # nothing happens while nothing happens
        _kernel_clock_was_set()
        assert woke.wait(2), "the timerfd did not wake on clock_settime"
        woke.clear()
        _kernel_clock_was_set()  # re-armed after the first: wakes again
        assert woke.wait(2)
    finally:
        watch.stop()
    assert not any(t.name == "ergo-clockwatch" and t.is_alive() for t in threading.enumerate())
    monkeypatch.setattr(sys, "platform", "darwin")
    assert start_clock_watch(woke.set) == (None, "clock changes: noticed within a minute (no timerfd on this platform)")
