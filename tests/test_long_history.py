"""Years of history stay quick (issue 17, item 7): `ergo history --json` streams, `ergo stats` and
`ergo report` start without pydantic once the settings were checked, pruning shrinks the file.

Real SQLite files with a realistic history (tests/history_data.py: ~165 rows a day), the real CLI
and daemon. How fast and how small is measured in benchmarks/history.py; these tests check the
properties: every row listed, memory that does not grow with the years, no pydantic on the way,
a file that shrinks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from ergo.records.diary import diary, diary_stream
from ergo.records.store import HistoryRow, Store
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.history_data import make_history


def run_measured(env: ErgoEnv, *args: str, out_path: os.PathLike[str]) -> tuple[int, int]:
    """`python -m ergo ARGS` with stdout to a file; (exit code, peak RSS in KiB) of that one process."""
    with open(out_path, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ergo", *args], env=env.env, stdout=out,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss


def test_history_json_lists_every_row_of_years_in_flat_memory(make_env: Callable[..., ErgoEnv]) -> None:
    small, big = make_env(), make_env()
    for env in (small, big):
        env.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(env.state_dir, 0o700)
    make_history(small.state_dir / "state.sqlite3", 3)
    written = make_history(big.state_dir / "state.sqlite3", 800)  # ~130 000 rows: more than the old 100 000 cap
    assert written > 110_000
    code_small, rss_small = run_measured(small, "history", "--days", "3650", "--json", out_path=small.root / "h.json")
    code_big, rss_big = run_measured(big, "history", "--days", "3650", "--json", out_path=big.root / "h.json")
    assert code_small == code_big == 0
    entries = json.loads((big.root / "h.json").read_text())
    store = Store(big.state_dir / "state.sqlite3", read_only=True)
    try:
        expected = [entry.as_json() for entry in diary(store.iter_history())]
    finally:
        store.close()
    assert entries == expected, "every entry, in order, exactly as the diary makes them"
    oldest = datetime.fromisoformat(entries[0]["at"])
    assert datetime.now(timezone.utc) - oldest > timedelta(days=790), f"the oldest rows are missing: {oldest}"
    # flat: 270 times the rows, (nearly) the same memory
    assert rss_big - rss_small < 8 * 1024, f"{rss_small} KiB for 3 days, {rss_big} KiB for 800 days"


def test_a_late_answer_after_the_horizon_stands_on_its_own() -> None:
    t0 = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    rows = [HistoryRow(t0, "posture", "delivered", "via freedesktop, tip posture-01", 1),
            HistoryRow(t0 + timedelta(minutes=2), "hydration", "delivered", "via freedesktop, tip h-01", 2),
            HistoryRow(t0 + timedelta(minutes=3), "hydration", "done", "via button", 3, ref=2),
            HistoryRow(t0 + timedelta(days=3), "stretch", "delivered", "via freedesktop, tip s-01", 4),
            HistoryRow(t0 + timedelta(days=3, minutes=1), "posture", "done", "via button", 5, ref=1)]
    streamed = list(diary_stream(iter(rows)))
    assert [e.what for e in streamed] == ["reminder", "reminder", "reminder", "done"]
    assert streamed[1].outcome == "done" and streamed[0].outcome == "no answer"
    assert streamed[3].detail == "a late answer to an earlier reminder"
    # within the horizon nothing differs from the whole-list diary
    assert [e.as_json() for e in diary_stream(iter(rows[:3]))] == [e.as_json() for e in diary(rows[:3])]


def _imports(env: ErgoEnv, *args: str) -> str:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "ergo", *args], env=env.env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def test_stats_and_report_start_without_pydantic_once_the_settings_were_checked(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(NOTIFIER=None, POSTURE__INTERVAL=None, HYDRATION__INTERVAL=None, STRETCH__ENABLED=None,
                   MOVEMENT__ENABLED=None, MERGE_WINDOW=None, IDLE__BACKEND=None)
    page = env.root / "week.html"
    first = _imports(env, "stats")
    assert "pydantic" in first  # nothing checked yet: the settings are loaded (and remembered)
    for args in (("stats",), ("stats", "--json", "--day"), ("report", "--html", str(page))):
        loaded = _imports(env, *args)
        assert "pydantic" not in loaded and "argparse" not in loaded, args  # parsed by hand, like status
    for args in (("stats", "--day", "--week"), ("report",), ("stats", "--bogus")):  # errors are still argparse's
        wrong = env.cli(*args)
        assert wrong.returncode == 2 and "usage: ergo" in wrong.stderr, (args, wrong.stderr)
    kinds = json.loads(env.cli("stats", "--json").stdout)["kinds"]
    assert "hydration" in kinds
    env.config.write_text("[hydration]\nenabled = false\n")  # an edit is seen at once
    assert "hydration" not in json.loads(env.cli("stats", "--json").stdout)["kinds"]
    env.env["ERGO_POSTURE__INTERVAL"] = "abc"  # so is the environment, and a bad value is the same one line
    bad, run = env.cli("stats"), env.cli("run")
    assert bad.returncode == run.returncode == 2 and bad.stderr == run.stderr, (bad.stderr, run.stderr)


def test_pruning_many_rows_shrinks_the_file_at_once(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(HISTORY_RETENTION="30d", POSTURE__INTERVAL="1h", HYDRATION__INTERVAL="1h")
    env.state_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(env.state_dir, 0o700)
    state = env.state_dir / "state.sqlite3"
    make_history(state, 365)
    before = state.stat().st_size
    with Daemon(env) as daemon:  # prunes at start: eleven of twelve months go
        wait_for(lambda: "history: deleted" in daemon.stderr(), 20, what="the prune")
        during = state.stat().st_size
        assert daemon.terminate() == 0
    assert during < before / 4, f"{before} bytes before, {during} after pruning 11 of 12 months"
    rows = env.history_all()
    assert rows and min(datetime.fromisoformat(r["at"]) for r in rows) > datetime.now(timezone.utc) - timedelta(days=31)
