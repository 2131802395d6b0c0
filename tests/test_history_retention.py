"""History retention (`history_retention`, 1d to 3650d): bounded when the config is read, and applied by the
running daemon at start and then once a day, through the daemon's clock seam (a clock that moves wall and
monotonic time together: time passing, not a jump).

The real Store (SQLite) and the real APScheduler; the console notifier, since nothing is delivered.
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ergo.config.frozen import PlainLoaded
from ergo.config.load import export_json, load_settings
from ergo.daemon.core import Backends, Daemon
from ergo.notify.console import ConsoleNotifier
from ergo.notify.select import FallbackNotifier
from ergo.paths import Paths
from ergo.records.store import Store
from tests.daemon_helpers import ErgoEnv


class PassingClock:
    """Time travel (the one fake the standards allow): real time plus an offset that moves wall and monotonic
    time together, as time passing does, so the daemon sees no clock jump."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset.total_seconds()


SLOW = {kind: {"interval": "2h"} for kind in ("posture", "hydration", "stretch", "movement")}


def _daemon(tmp_path: Path, clock: PassingClock, **flags: object) -> Daemon:
    paths = Paths(tmp_path / "config.toml", "test", tmp_path / "state", tmp_path / "run")
    paths.runtime_dir.mkdir(exist_ok=True)
    flags = {**SLOW, **flags}
    loaded = PlainLoaded.from_json(export_json(load_settings(paths.config_file, flags)))
    backends = Backends(FallbackNotifier(ConsoleNotifier(io.StringIO())), "console: test")
    return Daemon(paths, loaded, backends, Store(paths.state_db), flags=flags, clock=clock)


def test_the_running_daemon_prunes_history_once_a_day_not_only_at_start(tmp_path: Path, caplog) -> None:
    clock = PassingClock()
    daemon = _daemon(tmp_path, clock, history_retention="30d")
    store = daemon.store
    now = clock.now()
    store.record(now - timedelta(days=40), "posture", "delivered", "before the period")
    store.record(now - timedelta(days=30) + timedelta(hours=1), "posture", "delivered", "an hour inside")
    store.record(now - timedelta(days=30) + timedelta(days=2), "posture", "delivered", "two days inside")
    span = store.open_span("present", now - timedelta(days=35))
    store.close_span(span, now - timedelta(days=34))
    try:
        with caplog.at_level(logging.INFO, logger="ergo"):
            daemon.start()
        details = {row.detail for row in store.history()}
        assert "before the period" not in details and {"an hour inside", "two days inside"} <= details, details
        assert "history: deleted 2 row(s) older than 30d" in caplog.text  # one history row and one span
        assert store.spans("present", now - timedelta(days=60), now) == []

        clock.offset = timedelta(hours=2)  # the first row has now left the period, but a day has not passed
        daemon.housekeeping()
        assert "an hour inside" in {row.detail for row in store.history()}, "pruned more often than once a day"

        clock.offset = timedelta(days=1, minutes=1)  # a day after the start's pruning
        daemon.housekeeping()
        details = {row.detail for row in store.history()}
        assert "an hour inside" not in details, "the running daemon did not prune after a day"
        assert "two days inside" in details

        clock.offset = timedelta(days=2, minutes=2)  # and the next day again
        daemon.housekeeping()
        assert "two days inside" not in {row.detail for row in store.history()}
    finally:
        daemon.stop()
        store.close()


@pytest.mark.parametrize(("value", "line"), [
    ("3000000d", "history_retention: 3000000d is too long: at most 3650d"),
    ("3651d", "history_retention: 3651d is too long: at most 3650d"),
    ("P99999999999D", "far too long"),
    ("23h", "history_retention: 23h is too short: at least 1d"),
])
def test_history_retention_out_of_bounds_is_one_line_for_validate_and_run(value: str, line: str) -> None:
    with ErgoEnv.create() as env:
        env.config.write_text(f'history_retention = "{value}"\n')
        for args in (("config", "validate"), ("run",)):
            done = env.cli(*args, timeout=30)
            assert done.returncode == 2, (args, done.returncode, done.stderr[-2000:])
            assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
            assert line in done.stderr, done.stderr
        env.config.unlink()
        done = subprocess.run([sys.executable, "-m", "ergo", "run"], env={**env.env, "ERGO_HISTORY_RETENTION": value},
                              capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert done.returncode == 2 and done.stderr.startswith("ergo: ERGO_HISTORY_RETENTION: "), done.stderr[-2000:]


def test_the_longest_retention_runs_and_prunes(tmp_path: Path) -> None:
    """3650d, the bound: the daemon starts, prunes what is older and keeps what is not (no OverflowError)."""
    clock = PassingClock()
    daemon = _daemon(tmp_path, clock, history_retention="3650d")
    now = clock.now()
    daemon.store.record(now - timedelta(days=3651), "posture", "delivered", "eleven years ago")
    daemon.store.record(now - timedelta(days=3649), "posture", "delivered", "nine and a bit")
    try:
        daemon.start()
        assert {row.detail for row in daemon.store.history()} == {"nine and a bit"}
    finally:
        daemon.stop()
        daemon.store.close()
