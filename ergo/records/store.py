"""ergo's state and history in SQLite: what must survive a restart, and what happened when.

Every write is one transaction, so a crash (even kill -9) leaves either the old
or the new state. A file that is not a readable ergo database is moved aside
and a fresh one started, with a warning for the log. The file itself (schema, migrations, read-only
opening, a newer ergo's file) is schema.py's.

An idle daemon writes nothing here: only changes of state and history do. Its
sign of life for the next start's downtime estimate is the modification time of
a small marker file in the runtime dir (tmpfs on Linux), see `last_alive`. The
write-ahead log is checkpointed every WAL_PAGES pages and cut back to WAL_LIMIT.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ergo.errors import StateError
from ergo.paths import private_state_dir
from ergo.records.schema import check_writable, columns, is_corruption, is_full, migrate, open_read_only, refuse_if_newer

WAL_PAGES = 64  # autocheckpoint after this many pages (256 KiB with 4 KiB pages; SQLite's default is 1000)
WAL_LIMIT = 512 * 1024  # after a checkpoint the -wal file shrinks back to at most this
RECLAIM_PAGES = 256  # free pages (1 MiB with 4 KiB pages) worth giving back to the file system after a prune


ANSWERS = ("done", "snoozed", "skipped", "dismissed")


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    kind: str
    event: str
    detail: str
    id: int = 0
    ref: int | None = None  # for an answer: the id of the delivery it answers


@dataclass(frozen=True)
class Span:
    """A stretch of time: ergo running ("running") or you at the keyboard ("present")."""

    what: str
    start: datetime
    end: datetime


SENDING = "sending"  # a delivery saved but not yet confirmed sent; left behind only by a crash in between
INTERRUPTED = "interrupted"


class Store:
    """One SQLite file; safe to call from the daemon's threads. Failures are StateError with the real reason.

    `read_only=True` (ergo history) never creates, moves or deletes anything.
    """

    def __init__(self, path: Path, alive_marker: Path | None = None, *, read_only: bool = False) -> None:
        self.path = path
        self.alive_marker = alive_marker
        self.warning: str | None = None
        self.interrupted = 0  # deliveries a crash left between saving and sending (now marked in history)
        self._lock = threading.Lock()
        self._ref = "ref"  # a file from before versioning (read only, never migrated) has no ref column, nor spans
        self._spans = True
        if read_only:
            self._db = open_read_only(path)
            try:
                if "ref" not in columns(self._db, "history"):
                    self._ref = "NULL AS ref"
                self._spans = bool(columns(self._db, "spans"))
            except sqlite3.Error as error:
                self._db.close()
                raise StateError(f"state file {path}: {error}") from None
            return
        private_state_dir(path.parent)
        check_writable(path.parent)
        try:
            if not path.exists():  # created 0600 here: SQLite gives its -wal and -shm files the same mode
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        except OSError as error:
            raise StateError(f"state file {path}: cannot create it ({error.strerror or error})") from None
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as error:
            if not is_corruption(error):
                raise StateError(f"state file {path}: {error}") from None
            refuse_if_newer(path, error)  # a newer ergo's file is never moved aside
            aside = path.with_name(f"{path.name}.corrupt-{datetime.now():%Y%m%d-%H%M%S}")
            path.replace(aside)
            for suffix in ("-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            self.warning = f"state file {path} was unreadable ({error}); moved it to {aside.name} and started fresh"
            self._db = self._open()
        try:
            self.interrupted = self._db.execute(
                "UPDATE history SET event = ?, detail = ? WHERE event = ?",
                (INTERRUPTED, "ergo stopped between saving and sending: this reminder may not have been shown", SENDING),
            ).rowcount
        except sqlite3.Error as error:
            if not is_full(error):
                raise StateError(f"state file {path}: {error}") from None
            self.warning = f"state file {path}: {error} (reminders continue; state is kept in memory)"

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")
            db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("integrity check failed")
            migrate(db)
            db.execute("SELECT key, value FROM kv LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _failed(self, error: sqlite3.Error) -> StateError:
        """The real reason ("database or disk is full"), never a follow-up error of the rollback."""
        return StateError(f"cannot save to {self.path}: {error}")

    def _get(self, key: str) -> object | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except json.JSONDecodeError:
            return None

    def _put(self, items: dict[str, object], rows: Sequence[tuple[Any, ...]] = ()) -> list[int]:
        """One transaction: the key-value items plus history rows (whose ids are returned)."""

        def work() -> list[int]:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO kv(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [(k, json.dumps(v)) for k, v in items.items()],
            )
            ids = [self._insert(*row) for row in rows]
            self._db.execute("COMMIT")
            return ids

        return self._write(work)

    def _write(self, work: Callable[[], Any]) -> Any:
        """Run one write under the lock. On a full disk the write-ahead log may hold the space (on a small disk
        it fills up before its automatic checkpoint, and stays full): checkpoint it into the database, cut it
        to nothing and try once more before the real reason is raised."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    result = work()
                    self._keep_wal_checkpointable()
                    return result
                except sqlite3.Error as error:
                    self._rollback()
                    if attempt == 1 and is_full(error) and self._shrink_wal():
                        continue
                    raise self._failed(error) from None
                except BaseException:
                    self._rollback()
                    raise

    def _keep_wal_checkpointable(self) -> None:
        """Never let the write-ahead log outgrow the free space: a checkpoint copies at most the log's pages
        into the database, so while the log is smaller than what is free, its checkpoint always fits. On a
        roomy disk this costs two stat calls; on a nearly full one the log is cut back at once."""
        try:
            wal = os.stat(f"{self.path}-wal").st_size
            if wal == 0:
                return
            info = os.statvfs(self.path.parent)
        except (OSError, AttributeError):
            return
        if wal >= info.f_bavail * info.f_frsize:
            self._shrink_wal()

    def _shrink_wal(self) -> bool:
        """PRAGMA wal_checkpoint(TRUNCATE): True when every frame went into the database and the log is empty."""
        try:
            busy, _frames, _done = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error:
            return False
        return busy == 0

    def _rollback(self) -> None:
        """SQLite may already have rolled back (a full disk does): never hide the real error behind this one."""
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def _insert(self, at: datetime, kind: str, event: str, detail: str, ref: int | None = None,
                row_id: int | None = None) -> int:
        """One history row; `row_id` given by the daemon (ergo.daemon.pending), so an answer can refer to a
        delivery that still waits in memory for space, or chosen by SQLite."""
        cursor = self._db.execute(
            "INSERT INTO history(id, at, kind, event, detail, ref) VALUES(?, ?, ?, ?, ?, ?)",
            (row_id, at.astimezone(timezone.utc).isoformat(), kind, event, detail, ref),
        )
        return int(cursor.lastrowid or 0)

    def max_id(self) -> int:
        """The highest history row id (0 for none): where the daemon's own numbering goes on."""
        with self._lock:
            return int(self._db.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()[0])

    # --- engine state -------------------------------------------------------

    def load_engine(self) -> dict | None:
        value = self._get("engine")
        return value if isinstance(value, dict) else None

    def save_engine(self, snapshot: dict, now: datetime, sending: Sequence[tuple[Any, ...]] = ()) -> list[int]:
        """Save the state; `sending` (at, kind, detail[, row id]) rows go in the same transaction, marked "sending".

        The daemon turns each into "delivered" once the notification is out; a kill -9 in between
        leaves it, and the next start marks it "interrupted".
        """
        return self._put({"engine": snapshot, "alive": now.isoformat()},
                         [(at, kind, SENDING, d, None, *row_id) for at, kind, d, *row_id in sending])

    def settle(self, row_id: int, event: str, detail: str) -> None:
        """Turn a "sending" row into what happened."""
        self._write(lambda: self._db.execute("UPDATE history SET event = ?, detail = ? WHERE id = ?", (event, detail, row_id)))

    def heartbeat(self, now: datetime) -> None:
        """A clean stop's last word: lets the next start tell how long no daemon was running."""
        self._put({"alive": now.isoformat()})

    def mark_alive(self, now: datetime) -> None:
        """A running daemon's periodic sign of life, without a database write: the marker's mtime.

        The marker holds this database's path, so a marker left by a daemon on another state file
        is never read as this one's. Failures are ignored: the estimate falls back to the last write.
        """
        if self.alive_marker is None:
            return
        try:
            if not self._marker_is_ours():
                self.alive_marker.write_text(str(self.path))
            os.utime(self.alive_marker, (now.timestamp(), now.timestamp()))
        except OSError:
            pass

    def _marker_is_ours(self) -> bool:
        try:
            return self.alive_marker is not None and self.alive_marker.read_text() == str(self.path)
        except (OSError, UnicodeDecodeError):
            return False

    def last_alive(self) -> datetime | None:
        """When a daemon last ran on this state: the latest of its last state write, its clean stop and
        its last sign of life (mark_alive). The next start counts the time since then as downtime."""
        value = self._get("alive")
        times = [datetime.fromisoformat(value).astimezone(timezone.utc)] if isinstance(value, str) else []
        if self._marker_is_ours():
            try:
                times.append(datetime.fromtimestamp(os.stat(self.alive_marker).st_mtime, timezone.utc))
            except OSError:
                pass
        return max(times) if times else None

    # --- tip rotation -------------------------------------------------------

    def shown_tips(self) -> dict[str, set[str]]:
        value = self._get("shown_tips")
        if not isinstance(value, dict):
            return {}
        return {k: set(v) for k, v in value.items() if isinstance(v, list)}

    def save_shown_tips(self, shown: dict[str, set[str]]) -> None:
        self._put({"shown_tips": {k: sorted(v) for k, v in shown.items()}})

    # --- a running plan (ergo.plans) -----------------------------------------

    def load_plan(self) -> dict | None:
        value = self._get("plan")
        return value if isinstance(value, dict) else None

    def save_plan(self, plan: dict | None) -> None:
        """The running plan (ergo.plans.timing.Running.to_json()), or None once it ended or stopped."""
        self._put({"plan": plan})

    # --- history ------------------------------------------------------------

    def record(self, at: datetime, kind: str, event: str, detail: str = "", ref: int | None = None,
               row_id: int | None = None) -> int:
        """Append one event (committed when this returns, so an answer is stored before it is acknowledged)."""
        return int(self._write(lambda: self._insert(at, kind, event, detail, ref, row_id)))

    def _rows_between(self, since: datetime | None, until: datetime | None) -> tuple[str, tuple]:
        """The SELECT of history rows in [since, until), without its ORDER BY."""
        query = f"SELECT id, at, kind, event, detail, {self._ref} FROM history WHERE 1"
        args: tuple = ()
        if since is not None:
            query += " AND at >= ?"
            args += (since.astimezone(timezone.utc).isoformat(),)
        if until is not None:
            query += " AND at < ?"
            args += (until.astimezone(timezone.utc).isoformat(),)
        return query, args

    def history(self, since: datetime | None = None, limit: int = 1000, until: datetime | None = None) -> list[HistoryRow]:
        query, args = self._rows_between(since, until)
        query += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            try:
                rows = self._db.execute(query, args + (limit,)).fetchall()
            except sqlite3.Error as error:
                raise StateError(f"state file {self.path}: {error}") from None
        return [HistoryRow(datetime.fromisoformat(at), kind, event, detail, id_, ref)
                for id_, at, kind, event, detail, ref in reversed(rows)]

    def iter_history(self, since: datetime | None = None, until: datetime | None = None,
                     batch: int = 2000) -> Iterator[HistoryRow]:
        """Every history row in [since, until), oldest first (by time, then id), read `batch` rows at a
        time: memory stays flat however many years the file holds (`ergo history --json`)."""
        query, args = self._rows_between(since, until)
        with self._lock:
            try:
                # in time order, through the index on `at`: a day of a ten-year file is read without a scan
                cursor = self._db.execute(query + " ORDER BY at, id", args)
            except sqlite3.Error as error:
                raise StateError(f"state file {self.path}: {error}") from None
        while True:
            with self._lock:
                try:
                    found = cursor.fetchmany(batch)
                except sqlite3.Error as error:
                    raise StateError(f"state file {self.path}: {error}") from None
            if not found:
                return
            for id_, at, kind, event, detail, ref in found:
                yield HistoryRow(datetime.fromisoformat(at), kind, event, detail, id_, ref)

    def rows(self, ids: list[int]) -> list[HistoryRow]:
        """History rows by id (the deliveries an answer refers to)."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with self._lock:
            found = self._db.execute(f"SELECT id, at, kind, event, detail, {self._ref} FROM history WHERE id IN ({marks}) ORDER BY id",
                                     tuple(ids)).fetchall()
        return [HistoryRow(datetime.fromisoformat(at), kind, event, detail, id_, ref) for id_, at, kind, event, detail, ref in found]

    def answered(self, delivery_id: int) -> bool:
        """Whether some answer (done, snoozed, skipped, dismissed) already refers to this delivery."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM history WHERE ref = ? LIMIT 1", (delivery_id,)).fetchone() is not None

    def open_deliveries(self, kind: str | None = None) -> list[HistoryRow]:
        """The latest notification's deliveries (of `kind`, if given) that nothing has answered or overtaken yet.

        "Overtaken": a later answer, natural break or stale skip of the same kind.
        """
        where, args = ("AND kind = ?", (kind,)) if kind else ("", ())
        with self._lock:
            last = self._db.execute(f"SELECT max(at) FROM history WHERE event = 'delivered' {where}", args).fetchone()[0]
            if last is None:
                return []
            found = self._db.execute(
                f"""SELECT id, at, kind, event, detail, ref FROM history d WHERE event = 'delivered' AND at = ? {where}
                    AND NOT EXISTS (SELECT 1 FROM history a WHERE a.kind = d.kind AND a.id > d.id
                                    AND a.event IN ('done', 'snoozed', 'skipped', 'natural_break', 'skipped_stale'))
                    ORDER BY id""", (last,) + args).fetchall()
        return [HistoryRow(datetime.fromisoformat(at), k, event, detail, id_, ref) for id_, at, k, event, detail, ref in found]

    # --- spans: when ergo ran, when you were at the keyboard -----------------------

    def open_span(self, what: str, start: datetime) -> int:
        """Start a span; it stays listed as open (ending at the daemon's last sign of life) until closed."""
        iso = start.astimezone(timezone.utc).isoformat()
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                span_id = int(self._db.execute("INSERT INTO spans(what, start, end) VALUES(?, ?, ?)",
                                               (what, iso, iso)).lastrowid or 0)
                self._set_open(self._open_ids() | {span_id})
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                self._rollback()
                raise self._failed(error) from None
        return span_id

    def close_span(self, span_id: int, end: datetime) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("UPDATE spans SET end = max(end, ?) WHERE id = ?",
                                 (end.astimezone(timezone.utc).isoformat(), span_id))
                self._set_open(self._open_ids() - {span_id})
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                self._rollback()
                raise self._failed(error) from None

    def extend_span(self, span_id: int, end: datetime) -> None:
        with self._lock:
            try:
                self._db.execute("UPDATE spans SET end = max(end, ?) WHERE id = ?",
                                 (end.astimezone(timezone.utc).isoformat(), span_id))
            except sqlite3.Error as error:
                raise self._failed(error) from None

    def close_stale_spans(self) -> None:
        """Spans a crashed daemon left open end at its last sign of life (called before a new start)."""
        open_ids = self._open_ids()
        if not open_ids:
            return
        alive = self.last_alive() or datetime.min.replace(tzinfo=timezone.utc)  # none known: the span keeps its end
        for span_id in sorted(open_ids):
            self.close_span(span_id, alive)

    def _open_ids(self) -> set[int]:
        row = self._db.execute("SELECT value FROM kv WHERE key = 'open_spans'").fetchone()
        try:
            value = json.loads(row[0]) if row else []
        except json.JSONDecodeError:
            value = []
        return {int(v) for v in value if isinstance(v, int)} if isinstance(value, list) else set()

    def _set_open(self, ids: set[int]) -> None:
        self._db.execute("INSERT INTO kv(key, value) VALUES('open_spans', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                         (json.dumps(sorted(ids)),))

    def spans(self, what: str, since: datetime, until: datetime) -> list[Span]:
        """Spans of `what` overlapping [since, until), oldest first (none in a file from before spans)."""
        if not self._spans:
            return []
        with self._lock:
            open_ids = self._open_ids()
        alive = self.last_alive() if open_ids else None
        with self._lock:  # a span still open (a running daemon's) reaches its last sign of life, not written each minute
            found = self._db.execute(
                "SELECT id, start, max(end, ?) FROM spans WHERE what = ? AND id IN (SELECT value FROM json_each(?)) "
                "UNION ALL SELECT id, start, end FROM spans WHERE what = ? AND id NOT IN (SELECT value FROM json_each(?))",
                ((alive or datetime.min.replace(tzinfo=timezone.utc)).isoformat(), what, json.dumps(sorted(open_ids)),
                 what, json.dumps(sorted(open_ids)))).fetchall()
        lo, hi = since.astimezone(timezone.utc), until.astimezone(timezone.utc)
        spans = [Span(what, datetime.fromisoformat(a), datetime.fromisoformat(b)) for _id, a, b in found]
        return sorted((span for span in spans if span.end >= lo and span.start < hi), key=lambda span: span.start)

    def prune(self, before: datetime) -> int:
        """Delete history and closed time spans older than `before` (the retention period); returns how many went.

        When that frees a good part of the file, the free pages go back to the file system at once
        (`_reclaim`): the file shrinks now, not at some later start.
        """
        iso = before.astimezone(timezone.utc).isoformat()
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                gone = self._db.execute("DELETE FROM history WHERE at < ?", (iso,)).rowcount
                gone += self._db.execute("DELETE FROM spans WHERE end < ? AND id NOT IN (SELECT value FROM json_each(?))",
                                         (iso, json.dumps(sorted(self._open_ids())))).rowcount
                self._db.execute("COMMIT")
                if gone:
                    self._reclaim()
                return gone
            except sqlite3.Error as error:
                self._rollback()
                raise self._failed(error) from None

    def _reclaim(self) -> None:
        """After a prune that freed RECLAIM_PAGES and a quarter of the file: VACUUM, then truncate the WAL
        (under the lock; a failure, e.g. no room for the copy, costs only space). Not auto_vacuum=INCREMENTAL:
        with it, writes tests/test_full_disk.py expects a full disk to refuse went through (cause not pinned down)."""
        try:
            free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            if free < RECLAIM_PAGES or free * 4 < pages:
                return
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error:
            pass

    def close(self) -> None:
        with self._lock:
            self._db.close()

