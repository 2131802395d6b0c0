"""ergo's state and history in SQLite: what must survive a restart, and what happened when.

Every write is one transaction, so a crash (even kill -9) leaves either the old
or the new state. A file that is not a readable ergo database is moved aside
and a fresh one started, with a warning for the log.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ergo.paths import private_state_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS history_at ON history(at);
"""


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    kind: str
    event: str
    detail: str


class Store:
    """One SQLite file; safe to call from the daemon's threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warning: str | None = None
        self._lock = threading.Lock()
        private_state_dir(path.parent)
        if not path.exists():  # created 0600 here: SQLite gives its -wal and -shm files the same mode
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as error:
            aside = path.with_name(f"{path.name}.corrupt-{datetime.now():%Y%m%d-%H%M%S}")
            path.replace(aside)
            for suffix in ("-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            self.warning = f"state file {path} was unreadable ({error}); moved it to {aside.name} and started fresh"
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("integrity check failed")
            db.executescript(SCHEMA)
            db.execute("SELECT key, value FROM kv LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _get(self, key: str) -> object | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except json.JSONDecodeError:
            return None

    def _put(self, items: dict[str, object]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO kv(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [(k, json.dumps(v)) for k, v in items.items()],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # --- engine state -------------------------------------------------------

    def load_engine(self) -> dict | None:
        value = self._get("engine")
        return value if isinstance(value, dict) else None

    def save_engine(self, snapshot: dict, now: datetime) -> None:
        self._put({"engine": snapshot, "alive": now.isoformat()})

    def heartbeat(self, now: datetime) -> None:
        """Lets the next start tell how long no daemon was running."""
        self._put({"alive": now.isoformat()})

    def last_alive(self) -> datetime | None:
        value = self._get("alive")
        return datetime.fromisoformat(value).astimezone(timezone.utc) if isinstance(value, str) else None

    # --- tip rotation -------------------------------------------------------

    def shown_tips(self) -> dict[str, set[str]]:
        value = self._get("shown_tips")
        if not isinstance(value, dict):
            return {}
        return {k: set(v) for k, v in value.items() if isinstance(v, list)}

    def save_shown_tips(self, shown: dict[str, set[str]]) -> None:
        self._put({"shown_tips": {k: sorted(v) for k, v in shown.items()}})

    # --- history ------------------------------------------------------------

    def record(self, at: datetime, kind: str, event: str, detail: str = "") -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO history(at, kind, event, detail) VALUES(?, ?, ?, ?)",
                (at.astimezone(timezone.utc).isoformat(), kind, event, detail),
            )

    def history(self, since: datetime | None = None, limit: int = 1000) -> list[HistoryRow]:
        query = "SELECT at, kind, event, detail FROM history"
        args: tuple = ()
        if since is not None:
            query += " WHERE at >= ?"
            args = (since.astimezone(timezone.utc).isoformat(),)
        query += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, args + (limit,)).fetchall()
        return [HistoryRow(datetime.fromisoformat(at), kind, event, detail) for at, kind, event, detail in reversed(rows)]

    def close(self) -> None:
        with self._lock:
            self._db.close()
