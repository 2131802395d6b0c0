"""The SQLite store's promises about the disk: a small write-ahead log, and a sign of life that is not a write."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from ergo.records.store import Store


def test_the_write_ahead_log_stays_under_a_megabyte(tmp_path: Path) -> None:
    """Regression: SQLite's default checkpoint let the -wal file grow to ~4 MB (about 17 KB per delivery)."""
    store = Store(tmp_path / "state.sqlite3")
    now = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    wal = tmp_path / "state.sqlite3-wal"
    biggest = 0
    for n in range(600):  # months of deliveries, each as the daemon writes it
        at = now + timedelta(minutes=30 * n)
        store.save_engine({"reminders": {"posture": {"anchor": at.isoformat(), "padding": "x" * 2000}}}, at)
        store.save_shown_tips({"posture": {f"posture-{n % 8:02d}"}})
        store.record(at, "posture", "delivered", f"via console, tip posture-{n % 8:02d}")
        biggest = max(biggest, wal.stat().st_size)
    assert len(store.history(limit=1000)) == 600
    store.close()
    assert biggest < 1024 * 1024, biggest


def test_last_alive_is_the_latest_sign_of_life_and_ignores_another_databases_marker(tmp_path: Path) -> None:
    marker = tmp_path / "ergo.alive"
    store = Store(tmp_path / "state.sqlite3", alive_marker=marker)
    start = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    store.save_engine({}, start)
    assert store.last_alive() == start
    store.mark_alive(start + timedelta(minutes=40))
    assert store.last_alive() == start + timedelta(minutes=40)
    store.close()
    other = Store(tmp_path / "other.sqlite3", alive_marker=marker)  # same runtime dir, another state file
    other.save_engine({}, start)
    assert other.last_alive() == start
    other.close()
