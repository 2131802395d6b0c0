"""A full disk or an unwritable state dir never costs state or reminders (issue 7, item 3).

The disk is a real 256 KiB tmpfs mounted for the test (root only; CI runs as root); a
read-only state dir is a tmpfs remounted read-only. The kill -9 between saving and sending
uses SilentNotificationServerDouble (tests/dbus_doubles.py), a hung notification server on a
private bus that takes Notify and never answers, so the daemon is caught exactly between the two.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ergo.errors import StateError
from ergo.records.store import Store
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.dbus_doubles import SilentNotificationServerDouble
from tests.desktop import desktop_session, require_desktop_tools, require_tools
from tests.helpers import cannot_run


def _need_root() -> None:
    require_tools("mount", "umount")
    if os.geteuid() != 0:
        cannot_run("mounting a small tmpfs needs root; CI runs as root")


@pytest.fixture
def tiny_fs() -> Iterator[Path]:
    """A 256 KiB tmpfs: easy to fill."""
    _need_root()
    mount = Path(tempfile.mkdtemp(prefix="e7fs", dir="/tmp"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        with suppress(OSError):
            mount.rmdir()


def _fill(root: Path) -> Path:
    """Write until the file system says it is full (again: a second call tops the filler up)."""
    filler = root / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError as error:
        assert error.errno == 28, error  # ENOSPC
    finally:
        os.close(fd)
    return filler


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_a_full_disk_is_not_corruption_and_says_so(tiny_fs: Path) -> None:
    path = tiny_fs / "state" / "state.sqlite3"
    store = Store(path)
    store.save_engine({"n": 0}, datetime.now(timezone.utc))
    _fill(tiny_fs)
    with pytest.raises(StateError) as caught:
        for n in range(10_000):
            store.save_engine({"n": n, "pad": "x" * 2000}, datetime.now(timezone.utc),
                              [(datetime.now(timezone.utc), "posture", "x" * 500)])
    assert "full" in str(caught.value) and "rollback" not in str(caught.value), caught.value
    store.close()
    again = Store(path)  # a restart while the disk is still full
    assert again.warning is None or "moved" not in again.warning
    assert again.load_engine() is not None
    again.close()
    assert not [n for n in _names(path.parent) if "corrupt" in n]


def test_read_only_history_on_a_full_disk_moves_nothing(tiny_fs: Path) -> None:
    with ErgoEnv.create() as env:
        env.env["ERGO_STATE_DIR"] = str(tiny_fs / "state")
        store = Store(tiny_fs / "state" / "state.sqlite3")
        store.record(datetime.now(timezone.utc), "posture", "delivered", "via console")
        store.close()
        _fill(tiny_fs)
        before = _names(tiny_fs / "state")
        done = env.cli("history", "--json")
        assert done.returncode == 0, done.stderr
        assert "posture" in done.stdout
        after = _names(tiny_fs / "state")
        assert before <= after and not [n for n in after if "corrupt" in n], "history moved or deleted files"


@pytest.mark.slow
def test_reminders_go_on_through_a_full_disk_and_catch_up_after(tiny_fs: Path) -> None:
    with ErgoEnv.create(POSTURE__INTERVAL="1s", HYDRATION__ENABLED="false") as env:
        env.env["ERGO_STATE_DIR"] = str(tiny_fs / "state")
        with Daemon(env) as daemon:
            wait_for(lambda: env.db_deliveries(), what="a first delivery on disk")
            filler = _fill(tiny_fs)
            shown = len(daemon.reminder_lines())
            wait_for(lambda: daemon.status().get("state_error"), timeout=15, what="state_error in status")
            status = daemon.status()
            assert "full" in status["state_error"], status["state_error"]
            wait_for(lambda: len(daemon.reminder_lines()) >= shown + 3, timeout=15, what="deliveries while full")
            last = datetime.fromisoformat(daemon.status()["reminders"]["posture"]["last_fired"])
            assert (datetime.now(timezone.utc) - last).total_seconds() < 5, "status shows a stale or invented delivery"
            text = env.cli("status")
            assert "NOT saved" in text.stdout and "full" in text.stdout, text.stdout
            pause = env.cli("pause", "1m")
            assert pause.returncode == 0, pause.stderr
            assert "full" in pause.stderr and "rollback" not in pause.stderr, pause.stderr
            assert len(pause.stderr.strip().splitlines()) == 1
            assert daemon.status()["paused"] is True  # kept in memory
            assert env.cli("resume").returncode == 0
            errors = [l for l in daemon.log_lines() if "state not saved" in l]
            assert len(errors) == 1, errors  # once per reason, not per tick
            rows_before = len(env.db_deliveries())
            filler.unlink()
            wait_for(lambda: daemon.status().get("state_error") is None, timeout=15, what="state saved again")
            wait_for(lambda: len(env.db_deliveries()) >= rows_before + 3, timeout=15,
                     what="history rows of the outage written after it")
            assert not [n for n in _names(tiny_fs / "state") if "corrupt" in n]
            assert daemon.alive()


def test_a_plan_started_on_a_full_disk_is_kept_and_written_when_space_returns(tiny_fs: Path) -> None:
    """Plan history rows and the running plan go through the same in-memory buffer as reminders."""
    import sqlite3

    def plan_rows() -> list[str]:
        db = sqlite3.connect(f"file:{tiny_fs / 'state' / 'state.sqlite3'}?mode=ro", uri=True, timeout=2)
        try:
            return [event for (event,) in db.execute("SELECT event FROM history WHERE kind = 'plan' ORDER BY id")]
        finally:
            db.close()

    with ErgoEnv.create(POSTURE__INTERVAL="1s", HYDRATION__ENABLED="false") as env:
        env.env["ERGO_STATE_DIR"] = str(tiny_fs / "state")
        with Daemon(env) as daemon:
            wait_for(lambda: env.db_deliveries(), what="a first delivery on disk")
            filler = _fill(tiny_fs)
            wait_for(lambda: daemon.status().get("state_error"), timeout=15, what="state_error in status")
            started = env.cli("plan", "start", "after-workout")
            assert started.returncode == 0, started.stderr
            assert (daemon.status().get("plan") or {}).get("name") == "after-workout"  # runs from memory
            assert "started" not in plan_rows()
            filler.unlink()
            wait_for(lambda: "started" in plan_rows(), timeout=15, what="the plan's row written after the outage")
            wait_for(lambda: daemon.status().get("state_error") is None, timeout=15, what="state saved again")
        with Daemon(env) as again:  # the plan itself was written too: it survives the restart
            assert (again.status().get("plan") or {}).get("name") == "after-workout"


@pytest.mark.parametrize("command", ["run", "start"])
def test_a_read_only_state_dir_at_start_is_one_line(tiny_fs: Path, command: str) -> None:
    state = tiny_fs / "state"
    state.mkdir(mode=0o700)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    with ErgoEnv.create() as env:
        env.env["ERGO_STATE_DIR"] = str(state)
        done = env.cli(command)
        assert done.returncode == 1, (done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert str(state) in lines[0] and "read-only" in lines[0].lower(), lines[0]


def test_a_read_only_database_at_start_is_one_line_and_kept(tiny_fs: Path) -> None:
    state = tiny_fs / "state"
    Store(state / "state.sqlite3").close()
    before = _names(state)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    with ErgoEnv.create() as env:
        env.env["ERGO_STATE_DIR"] = str(state)
        done = env.cli("run")
        assert done.returncode == 1, (done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert str(state) in lines[0], lines[0]
        assert _names(state) == before


# --- kill -9 between saving and sending -----------------------------------------------------------

@pytest.mark.slow
def test_a_kill_between_saving_and_sending_leaves_a_history_row() -> None:
    require_desktop_tools()
    with desktop_session(server="none", display=False) as desk:
        with SilentNotificationServerDouble(desk.bus_address) as server:
            with ErgoEnv.create(desk.env, NOTIFIER="freedesktop", POSTURE__INTERVAL="2s",
                                HYDRATION__ENABLED="false") as env:
                with Daemon(env, wait=False) as daemon:  # status would wait for the send: the lock is held
                    assert wait_for(lambda: server.notify_calls(), timeout=20, what="the daemon sending")
                    os.kill(daemon.pid, signal.SIGKILL)
                    daemon.proc.wait(timeout=5)  # type: ignore[union-attr]
                rows = env.history_all()
                assert [r for r in rows if r["kind"] == "posture" and r["event"] == "sending"], (rows, daemon.stderr())
                assert not [r for r in rows if r["event"] == "delivered"], rows
                env.env["ERGO_NOTIFIER"] = "console"
                with Daemon(env, name="again") as again:
                    wait_for(lambda: any("interrupted" in l for l in again.log_lines()), what="the warning")
                rows = env.history_all()
                interrupted = [r for r in rows if r["event"] == "interrupted"]
                assert interrupted and interrupted[0]["kind"] == "posture", rows
                assert "may not have been shown" in interrupted[0]["detail"]
