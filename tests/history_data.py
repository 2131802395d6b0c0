"""A realistic history for the history benchmarks: N days of an office week, written straight to SQLite.

Every day (8 h at the computer): posture every 10 min, hydration and movement every 30 min, stretch
every 45 min (about 75 reminders), each answered as a person does (done with the button, snoozed,
skipped, closed, or left alone), a natural break now and then; the spans ergo ran and you were at
the keyboard. About 160 rows a day: a year is ~60 000 rows, ten years ~600 000 (issue 17).
"""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

KINDS = {"posture": 10, "hydration": 30, "stretch": 45, "movement": 30}


def make_history(path: Path, days: int, *, seed: int = 17, end: datetime | None = None) -> int:
    """Create (or extend) the state file at `path` with `days` days ending now; returns the rows written."""
    from ergo.records.store import Store

    Store(path).close()  # the real schema, migrations and all
    rng = random.Random(seed)
    end = (end or datetime.now(timezone.utc)).replace(microsecond=0)
    db = sqlite3.connect(path)
    rows = 0
    next_id = (db.execute("SELECT max(id) FROM history").fetchone()[0] or 0) + 1
    batch: list[tuple] = []
    spans: list[tuple] = []
    for back in range(days, 0, -1):
        start = (end - timedelta(days=back)).replace(hour=8, minute=0, second=0)
        stop = start + timedelta(hours=8)
        spans.append(("running", start.isoformat(), stop.isoformat()))
        spans.append(("present", start.isoformat(), (start + timedelta(hours=3)).isoformat()))
        spans.append(("present", (start + timedelta(hours=4)).isoformat(), stop.isoformat()))
        for kind, minutes in KINDS.items():
            at = start + timedelta(minutes=minutes)
            while at < stop:
                tip = f"{kind}-{rng.randint(1, 12):02d}"
                batch.append((next_id, at.isoformat(), kind, "delivered", f"via freedesktop, tip {tip}", None))
                delivery = next_id
                next_id += 1
                answer = rng.random()
                later = at + timedelta(seconds=rng.randint(5, 300))
                if answer < 0.45:
                    batch.append((next_id, later.isoformat(), kind, "done", "via button", delivery))
                elif answer < 0.6:
                    until = later + timedelta(minutes=10)
                    batch.append((next_id, later.isoformat(), kind, "snoozed", f"via button, until {until:%H:%M}", delivery))
                elif answer < 0.7:
                    batch.append((next_id, later.isoformat(), kind, "skipped", "via command", delivery))
                elif answer < 0.85:
                    batch.append((next_id, later.isoformat(), kind, "dismissed", "closed without an answer", delivery))
                else:
                    next_id -= 1  # left alone
                next_id += 1
                if rng.random() < 0.05:
                    batch.append((next_id, (later + timedelta(minutes=3)).isoformat(), kind, "natural_break", "idle, 12 min", None))
                    next_id += 1
                at += timedelta(minutes=minutes)
        if len(batch) > 20_000:
            rows += _flush(db, batch, spans)
    rows += _flush(db, batch, spans)
    db.close()
    return rows


def _flush(db: sqlite3.Connection, batch: list[tuple], spans: list[tuple]) -> int:
    with db:
        db.executemany("INSERT INTO history(id, at, kind, event, detail, ref) VALUES(?, ?, ?, ?, ?, ?)", batch)
        db.executemany("INSERT INTO spans(what, start, end) VALUES(?, ?, ?)", spans)
    written = len(batch)
    batch.clear()
    spans.clear()
    return written


if __name__ == "__main__":
    import sys

    print(make_history(Path(sys.argv[1]), int(sys.argv[2])))  # python -m tests.history_data FILE DAYS
