"""Answers on a full disk (issue 16, item 3), on a real 256 KiB tmpfs (see tests/test_full_disk.py).

While the state cannot be saved, deliveries and answers wait in memory. `ergo done` and
`ergo skip` must still answer the delivery that is open, and when space returns every answer
must be written against that delivery, whatever order the rows are saved in. "state not saved"
and "saved again" are logged once each per episode, and a write-ahead log that fills the space
that came back must not stop the saving again for good.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.desktop import desktop_session, require_desktop_tools
from tests.test_full_disk import _fill, tiny_fs  # noqa: F401 (fixture)

ANSWERS = ("done", "skipped", "snoozed", "dismissed")


def _rows(db_path: Path) -> list[tuple[int, datetime, str, str, int | None]]:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=2)
    try:
        found = db.execute("SELECT id, at, kind, event, ref FROM history ORDER BY id").fetchall()
    finally:
        db.close()
    return [(i, datetime.fromisoformat(at), kind, event, ref) for i, at, kind, event, ref in found]


@contextmanager
def _full(tiny_fs: Path, desktop_env: dict[str, str] | None = None, **settings: str) -> Iterator[tuple[ErgoEnv, Daemon]]:
    """A daemon whose state is on the tmpfs, once it wrote a delivery there and then found the disk full."""
    with ErgoEnv.create(desktop_env, **settings) as env:
        env.env["ERGO_STATE_DIR"] = str(tiny_fs / "state")
        with Daemon(env) as daemon:
            wait_for(lambda: env.db_deliveries(), 10, what="a first delivery on disk")
            _fill(tiny_fs)
            wait_for(lambda: daemon.status().get("state_error"), timeout=15, what="state_error in status")
            yield env, daemon


def test_answers_on_a_full_disk_attach_to_the_delivery_they_answered(tiny_fs: Path) -> None:
    db_path = tiny_fs / "state" / "state.sqlite3"
    with _full(tiny_fs, POSTURE__INTERVAL="2s", HYDRATION__ENABLED="false") as (env, daemon):
        answered = 0
        for command in ("done", "skip", "done", "skip", "done"):
            shown = len(daemon.reminder_lines())
            wait_for(lambda: len(daemon.reminder_lines()) > shown, timeout=15, what="a delivery while full")
            _fill(tiny_fs)  # what ergo freed by cutting back its log is filled again: the disk stays full
            done = env.cli(command, "posture")
            assert done.returncode == 0, done.stderr
            answered += 1
        assert daemon.status().get("state_error"), "the disk is still full: nothing may be saved yet"
        (tiny_fs / "filler").unlink()
        wait_for(lambda: daemon.status().get("state_error") is None, timeout=20, what="state saved again")
        wait_for(lambda: sum(1 for r in _rows(db_path) if r[3] in ("done", "skipped")) >= answered, timeout=20,
                 what="every answer written")
        time.sleep(0.5)
        log = daemon.log_lines()
        rows = _rows(db_path)
        by_id = {r[0]: r for r in rows}
        answers = [r for r in rows if r[3] in ANSWERS]
        assert len([r for r in answers if r[3] in ("done", "skipped")]) == answered, answers
        refs = [r[4] for r in answers]
        assert len(refs) == len(set(refs)), f"two answers on one delivery: {answers}"
        for _id, at, kind, event, ref in answers:
            assert ref in by_id and by_id[ref][3] == "delivered" and by_id[ref][2] == kind, (event, ref, by_id.get(ref))
            # the delivery it answered is the one open when it was given: the latest of its kind before it
            latest = max((r for r in rows if r[3] == "delivered" and r[2] == kind and r[1] <= at), key=lambda r: (r[1], r[0]))
            assert ref == latest[0], f"{event} at {at} was written against {by_id[ref]}, not the open {latest}"
        lost = [l for l in log if "state not saved" in l]
        back = [l for l in log if "state saved again" in l]
        assert len(lost) == 1 and len(back) == 1, (lost, back)


def test_a_wal_that_fills_the_returned_space_recovers(tiny_fs: Path) -> None:
    db_path = tiny_fs / "state" / "state.sqlite3"
    with _full(tiny_fs, POSTURE__INTERVAL="1s", HYDRATION__INTERVAL="1s") as (env, daemon):
        (tiny_fs / "filler").unlink()  # space comes back; the write-ahead log then grows into all of it
        wait_for(lambda: daemon.status().get("state_error") is None, timeout=20, what="state saved again")
        written = len(env.db_deliveries())
        wait_for(lambda: len(env.db_deliveries()) >= written + 60, timeout=90, interval=0.5,
                 what="60 more deliveries written after the space came back")
        assert daemon.status().get("state_error") is None, daemon.status().get("state_error")
        wal = db_path.with_name(db_path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size < 200 * 1024, wal.stat().st_size


def test_a_button_pressed_on_a_full_disk_answers_the_delivery_on_screen(tiny_fs: Path) -> None:
    """A real dunst: the notification's default action (a click) is Done for the delivery it shows,
    which on a full disk exists only in memory."""
    require_desktop_tools()
    db_path = tiny_fs / "state" / "state.sqlite3"
    with desktop_session() as desk:
        with _full(tiny_fs, desk.env, NOTIFIER="auto", POSTURE__INTERVAL="3s", HYDRATION__ENABLED="false") as (_env, daemon):
            count = len(daemon.delivered())
            wait_for(lambda: len(daemon.delivered()) > count, 10, what="a delivery while full")
            _fill(tiny_fs)
            desk._dunstctl("action", "0")
            wait_for(lambda: any("answered posture: done via button" in l for l in daemon.log_lines()), 5,
                     what="the click answered")
            assert daemon.status().get("state_error"), "the disk is still full"
            (tiny_fs / "filler").unlink()
            wait_for(lambda: any(r[3] == "done" for r in _rows(db_path)), 20, what="the answer written")
        rows = _rows(db_path)
        [done] = [r for r in rows if r[3] == "done"]
        latest = max((r for r in rows if r[3] == "delivered" and r[1] <= done[1]), key=lambda r: (r[1], r[0]))
        assert done[4] == latest[0], (done, latest, rows)
