"""Personal data stays personal: the state dir is 0700 and every file in it 0600 (issue 7, item 7).

Also when the files already exist from an older ergo with looser modes.
"""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from ergo.errors import UnsafeLocation
from ergo.paths import ensure_private_dir
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for


def _modes(state_dir: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.lstat().st_mode) for p in state_dir.iterdir()}


def _assert_private(state_dir: Path) -> None:
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    modes = _modes(state_dir)
    assert "state.sqlite3" in modes
    loose = {name: oct(mode) for name, mode in modes.items() if mode != 0o600}
    assert not loose, f"files readable by others: {loose}"


def test_fresh_state_dir_and_files_are_private() -> None:
    with ErgoEnv.create() as env:
        done = env.cli("start")
        assert done.returncode == 0, done.stderr
        wait_for(lambda: (env.state_dir / "state.sqlite3-wal").exists(), what="the WAL file")
        _assert_private(env.state_dir)
        assert "ergo.log" in _modes(env.state_dir)
        assert env.cli("stop").returncode == 0


def test_files_from_an_older_version_are_made_private() -> None:
    with ErgoEnv.create() as env:
        env.state_dir.mkdir(mode=0o755)
        env.state_dir.chmod(0o755)
        db = sqlite3.connect(env.state_dir / "state.sqlite3")
        db.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.commit()
        db.close()
        (env.state_dir / "ergo.log").write_text("old log\n")
        (env.state_dir / "ergo.log.1").write_text("older log\n")
        for path in env.state_dir.iterdir():
            path.chmod(0o644)
        with Daemon(env):
            _assert_private(env.state_dir)


def test_read_only_history_leaves_modes_private() -> None:
    with ErgoEnv.create() as env:
        with Daemon(env) as daemon:
            wait_for(lambda: env.db_deliveries(), what="a delivery")
            daemon.terminate()
        assert env.cli("history").returncode == 0
        _assert_private(env.state_dir)


@pytest.mark.parametrize("mode", [0o750, 0o770, 0o710, 0o740, 0o720, 0o705, 0o701])
def test_a_runtime_dir_open_to_the_group_or_others_is_refused_in_one_line(mode: int) -> None:
    """The socket's folder must be 0700: group access (0750, 0770) is refused like world access, never "fixed"."""
    with ErgoEnv.create() as env:
        env.runtime_dir.mkdir(parents=True, exist_ok=True)
        env.runtime_dir.chmod(mode)
        with pytest.raises(UnsafeLocation, match=f"mode {mode:04o} lets others in"):
            ensure_private_dir(env.runtime_dir)
        done = env.cli("start")
        assert done.returncode == 1, (done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and f"refusing runtime dir {env.runtime_dir}: mode {mode:04o}" in done.stderr
        assert stat.S_IMODE(env.runtime_dir.stat().st_mode) == mode, "ergo changed a mode it must only refuse"
        assert not env.socket.exists()
        env.runtime_dir.chmod(0o700)
        assert ensure_private_dir(env.runtime_dir) == env.runtime_dir
