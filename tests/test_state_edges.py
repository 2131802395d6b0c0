"""State file edges (issue 16, item 8), each played with a real SQLite file and the real CLI.

- `ergo start` with a state file it cannot open: the promised one line and exit 1, every run
  (the check child used to die of BrokenPipeError when the daemon exited before reading it).
- `ergo history` and `ergo stats` read without creating anything (no -wal, no -shm) and read a
  file from before schema versioning.
- A newer file whose schema this SQLite cannot parse is never moved aside.
- A foreign WAL beside the state file never makes every start fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ergo.records.schema import SCHEMA, SCHEMA_VERSION
from ergo.records.store import Store
from tests.daemon_helpers import ErgoEnv


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line(done: object) -> str:
    stderr = done.stderr  # type: ignore[attr-defined]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_start_with_an_unopenable_state_file_prints_one_line_and_exits_1_every_run(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env()
    env.state_dir.mkdir(parents=True, exist_ok=True)
    (env.state_dir / "state.sqlite3").mkdir()  # SQLite cannot open a directory
    for _ in range(6):  # the broken pipe came in most runs, not all
        done = env.cli("start")
        line = _one_line(done)
        assert done.returncode == 1, (done.returncode, line)
        assert "BrokenPipe" not in line and str(env.state_dir / "state.sqlite3") in line, line
        assert "unable to open" in line, line


def _ergo_file(env: ErgoEnv) -> Path:
    """A state file written by ergo's own Store: two deliveries and an answer, closed cleanly."""
    env.state_dir.mkdir(parents=True, exist_ok=True)
    path = env.state_dir / "state.sqlite3"
    store = Store(path)
    now = datetime.now(UTC) - timedelta(minutes=5)
    first = store.record(now, "posture", "delivered", "sit tall")
    store.record(now + timedelta(seconds=30), "posture", "done", "", ref=first)
    store.record(now + timedelta(minutes=1), "hydration", "delivered", "drink")
    store.close()
    return path


def test_history_and_stats_create_no_files_beside_the_state_file(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env()
    path = _ergo_file(env)
    before, digest = _files(env.state_dir), _digest(path)
    assert before == ["state.sqlite3"], before
    for args in (("history",), ("history", "--json"), ("stats",), ("stats", "--json"), ("stats", "--day")):
        done = env.cli(*args)
        assert done.returncode == 0, (args, done.stderr)
        assert _files(env.state_dir) == before, f"ergo {' '.join(args)} created {set(_files(env.state_dir)) - set(before)}"
    assert _digest(path) == digest
    rows = json.loads(env.cli("history", "--json").stdout)
    assert [(r["kind"], r["outcome"]) for r in rows if r["what"] == "reminder"] == [("posture", "done"), ("hydration", "no answer")]


def test_history_and_stats_read_a_file_from_before_schema_versioning(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env()
    env.state_dir.mkdir(parents=True, exist_ok=True)
    path = env.state_dir / "state.sqlite3"
    db = sqlite3.connect(path)  # what the first ergo wrote: SCHEMA's tables, user_version 0, no ref, no spans
    db.executescript(SCHEMA)
    at = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    db.execute("INSERT INTO history(at, kind, event, detail) VALUES(?, 'posture', 'delivered', 'sit tall')", (at,))
    db.commit()
    db.close()
    digest = _digest(path)
    done = env.cli("history", "--json")
    assert done.returncode == 0, done.stderr
    assert [r["kind"] for r in json.loads(done.stdout)] == ["posture"]
    for args in (("stats", "--json"), ("stats",)):
        done = env.cli(*args)
        assert done.returncode == 0, (args, done.stderr)
    assert json.loads(env.cli("stats", "--json", "--day").stdout)["kinds"]["posture"]["reminded"] == 1
    assert _files(env.state_dir) == ["state.sqlite3"] and _digest(path) == digest


def _newer_unparseable_file(path: Path) -> None:
    """A file of a future ergo whose schema uses what this SQLite cannot parse (written in by hand:
    a newer SQLite's syntax is simulated by a CREATE statement this one rejects)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.execute("CREATE TABLE future (a INTEGER)")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}")
    db.commit()
    db.execute("PRAGMA writable_schema = ON")
    db.execute("UPDATE sqlite_master SET sql = 'CREATE TABLE future (a INTEGER) WITH FUTURE SYNTAX' WHERE name = 'future'")
    db.commit()
    db.close()


def test_a_newer_file_this_sqlite_cannot_parse_is_never_moved_aside(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env()
    path = env.state_dir / "state.sqlite3"
    _newer_unparseable_file(path)
    digest = _digest(path)
    for args in (("stats",), ("history",), ("start",), ("run",)):
        done = env.cli(*args)
        line = _one_line(done)
        assert done.returncode == 1, (args, done.returncode, line)
        assert str(path) in line, line
        assert _files(env.state_dir) in (["state.sqlite3"], ["ergo.log", "state.sqlite3"]), (args, _files(env.state_dir))
        assert _digest(path) == digest, f"ergo {args[0]} changed the newer file"
    assert "newer ergo" in _one_line(env.cli("run")), "the line says why the file is left alone"


def test_a_foreign_wal_beside_the_state_file_never_makes_every_start_fail(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env()
    path = _ergo_file(env)
    # Another ergo database's write-ahead log, left beside ours (copied with a backup, a sync tool...):
    # SQLite has no way to tell it is not ours and replays it at the next open.
    other = env.root / "other"
    other.mkdir()
    held = Store(other / "state.sqlite3")
    held.record(datetime.now(UTC), "stretch", "delivered", "from elsewhere")
    db = sqlite3.connect(other / "state.sqlite3")  # version 1 in the foreign log: the migration to 2 must not fail
    db.execute("PRAGMA user_version = 1")
    db.commit()
    shutil.copy(other / "state.sqlite3-wal", path.with_name("state.sqlite3-wal"))
    db.close()
    held.close()
    for _ in range(2):
        done = env.cli("start")
        assert done.returncode == 0, done.stderr
        assert env.cli("status").returncode == 0
        done = env.cli("stop")
        assert done.returncode == 0, done.stderr
    assert env.cli("history", "--json").returncode == 0


def test_a_file_whose_version_lags_its_schema_still_opens(tmp_path: Path) -> None:
    """What a foreign WAL can leave: the version-2 columns present but user_version 1 (the migration
    to 2 used to fail with "duplicate column name" at every start)."""
    path = tmp_path / "state.sqlite3"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    store = Store(path)
    try:
        store.record(datetime.now(UTC), "posture", "delivered", "ok")
        assert store.warning is None
    finally:
        store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()
    assert sorted(os.listdir(tmp_path)) == ["state.sqlite3"]
