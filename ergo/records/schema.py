"""The state file itself: its schema and versioned migrations, what counts as damage, and opening it
read-only (creating nothing) or refusing a file of a newer ergo. The Store (store.py) does the rest.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ergo.errors import StateError


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


# Versioned migrations (PRAGMA user_version): files from before versioning are version 0 and hold
# SCHEMA's tables, or nothing. Each step runs once, in one transaction with its version bump.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, SCHEMA),
    # 2: answers point at the delivery they answer (ref); spans record when ergo ran and when you were present.
    # Every step may find its work done already (a foreign WAL can leave the columns of version 2 under
    # version 1): ADD COLUMN is skipped for a column that exists, the rest says IF NOT EXISTS.
    (2, """
ALTER TABLE history ADD COLUMN ref INTEGER;
CREATE INDEX IF NOT EXISTS history_ref ON history(ref);
CREATE TABLE IF NOT EXISTS spans (id INTEGER PRIMARY KEY, what TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS spans_start ON spans(start);
"""),
)


SCHEMA_VERSION = MIGRATIONS[-1][0]
#: SQLite's words for a file that really is damaged; every other error (full, read-only, locked) is not.
CORRUPTION = ("SQLITE_CORRUPT", "SQLITE_NOTADB", "file is not a database", "malformed", "integrity check failed")


def is_corruption(error: BaseException) -> bool:
    """Only a damaged file may be moved aside; a full disk or a read-only file never is."""
    text = f"{getattr(error, 'sqlite_errorname', '')} {error}"
    return any(marker in text for marker in CORRUPTION)


def is_full(error: BaseException) -> bool:
    return "SQLITE_FULL" in str(getattr(error, "sqlite_errorname", "")) or "disk is full" in str(error)


def check_writable(folder: Path) -> None:
    """A read-only or unwritable state dir stops the start with one line naming it."""
    if os.access(folder, os.W_OK):
        return
    readonly = False
    try:
        readonly = bool(os.statvfs(folder).f_flag & getattr(os, "ST_RDONLY", 1))
    except (OSError, AttributeError):
        pass
    why = "it is on a read-only file system" if readonly else "permission denied"
    raise StateError(f"state dir {folder} is not writable ({why})")


def open_read_only(path: Path) -> sqlite3.Connection:
    """Read without writing anything (no -wal or -shm file either)."""
    from urllib.parse import quote

    error: sqlite3.Error | None = None
    # Without a -wal beside it no daemon has the file open (a clean stop removes both), and `mode=ro` on a
    # WAL-mode file would create -wal and -shm: read it as immutable, which creates nothing. With a -wal
    # (a running daemon, or a crash's log still to replay) read through it; on a full disk (no room for
    # the -shm file) read the main file as is.
    wal = path.with_name(path.name + "-wal")
    for options in (("mode=ro", "immutable=1") if wal.exists() else ("immutable=1",)):
        try:
            db = sqlite3.connect(f"file:{quote(str(path))}?{options}", uri=True, check_same_thread=False,
                                 isolation_level=None, timeout=5)
        except sqlite3.Error as failed:
            error = failed
            continue
        try:
            db.execute("SELECT key, value FROM kv LIMIT 1").fetchall()
            return db
        except sqlite3.Error as failed:
            db.close()
            error = failed
            if is_corruption(failed):
                break
    refuse_if_newer(path, error)
    raise StateError(f"state file {path}: {error}")


def refuse_if_newer(path: Path, error: BaseException | None) -> None:
    """A file of a newer ergo that this SQLite cannot read: one line saying so (it is left as it is)."""
    version = header_version(path)
    if version is not None and version > SCHEMA_VERSION:
        raise StateError(f"state file {path}: written by a newer ergo (schema version {version}) that this SQLite "
                         f"{sqlite3.sqlite_version} cannot read ({error}); left as it is: use that ergo, or move the "
                         "file away yourself")


def migrate(db: sqlite3.Connection) -> None:
    """Bring the file up to SCHEMA_VERSION, one versioned step per transaction; old files keep their rows."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:  # written by a newer ergo: its steps only add, so read it as it is, never move it aside
        return
    for target, script in MIGRATIONS:
        if target <= version:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in filter(str.strip, script.split(";")):
                if not already_done(db, statement):
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {target}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def already_done(db: sqlite3.Connection, statement: str) -> bool:
    """An `ALTER TABLE t ADD COLUMN c ...` whose column is there already."""
    words = statement.split()
    if [w.upper() for w in words[:2]] + [w.upper() for w in words[3:5]] != ["ALTER", "TABLE", "ADD", "COLUMN"]:
        return False
    return words[5] in columns(db, words[2])


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def header_version(path: Path) -> int | None:
    """The schema version (user_version) in the file's header, read without SQLite (whose schema parse may
    fail on a newer file); None when the file is no SQLite database."""
    try:
        with open(path, "rb") as file:
            header = file.read(100)
    except OSError:
        return None
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
        return None
    return int.from_bytes(header[60:64], "big", signed=True)
