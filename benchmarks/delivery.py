#!/usr/bin/env python3
"""Delivery timing: how late reminders fire in a real run with second-scale intervals.

    python benchmarks/delivery.py [--seconds 60] [--venv PATH]

The daemon (clean venv, console notifier, no idle backend) runs with intervals of 2, 3, 5 and
7 s and a 0.1 s merge window. Due times are rebuilt from the initial countdown anchors in the
state file and the delivery history; lateness is the delivery time minus the due time, both as
the engine decided it and as the console line reached this process.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CleanVenv, Daemon, Sandbox, add_common_arguments, loadavg, percentile, say, verdict  # noqa: E402

LATENESS_MAX_S = 1.0
TIMING_INTERVALS = {"posture": 2.0, "hydration": 3.0, "stretch": 5.0, "movement": 7.0}
TIMING_CONFIG = """\
# written by benchmarks/delivery.py: short intervals to measure how late reminders fire
notifier = "console"
merge_window = "0.1s"
log_level = "info"

[idle]
backend = "none"

[posture]
interval = "2s"

[hydration]
interval = "3s"

[stretch]
interval = "5s"

[movement]
interval = "7s"
"""


def delivery_timing(venv: CleanVenv, seconds: float) -> dict[str, Any]:
    """A real run with short intervals; lateness = delivery time - due time, per delivery.

    Due times are reconstructed exactly: the initial countdown anchors are read from the state
    database right after start (before anything is due), then each kind's deliveries (from
    `ergo history --json`) are replayed with the engine's own rule: due = anchor + interval;
    a delivery within [0, 1 s) of due keeps the grid (anchor = due), any other restarts the
    countdown from the delivery (anchor = delivered at). Two clocks are compared with due:
    the engine's decision time (history `at`) and the moment the console line reached us.
    """
    say(f"\n== Delivery timing: {seconds:g} s real run, intervals "
        + ", ".join(f"{k} {v:g}s" for k, v in TIMING_INTERVALS.items()) + ", merge_window 0.1s, console ==")
    sandbox = Sandbox("timing", TIMING_CONFIG)
    daemon = Daemon(venv, sandbox, capture_stdout=True)
    try:
        daemon.wait_ready()
        anchors = initial_anchors(sandbox.state_db)
        if datetime.now().astimezone().date() != (datetime.now().astimezone() + timedelta(seconds=seconds + 5)).date():
            say("  warning: the run crosses local midnight; work-hour windows restart countdowns there")
        time.sleep(seconds)
        stopped_at = daemon.stop()
        done = subprocess.run([str(venv.python), "-m", "ergo", "history", "--json", "--days", "1"], env=sandbox.env,
                              cwd=sandbox.root, capture_output=True, text=True, timeout=30, check=True)
        history = json.loads(done.stdout)
        result = analyse_timing(anchors, history, daemon.lines, stopped_at)
        result["log_errors"] = [l for l in daemon.log_lines() if "Traceback" in l or " failed" in l or "ERROR" in l]
    finally:
        if daemon.proc.poll() is None:
            daemon.stop()
        sandbox.cleanup()
    print_timing(result)
    return result


def initial_anchors(db: Path) -> dict[str, datetime]:
    """Countdown anchors as saved at start; a kind that has not fired yet still has its initial one."""
    conn = sqlite3.connect(db, timeout=5)
    try:
        (value,) = conn.execute("SELECT value FROM kv WHERE key = 'engine'").fetchone()
    finally:
        conn.close()
    snapshot = json.loads(value)
    anchors = {}
    for kind, saved in snapshot["reminders"].items():
        if saved.get("last_fired") is not None:
            raise RuntimeError(f"{kind} fired before the initial state was read; cannot reconstruct due times")
        anchors[kind] = datetime.fromisoformat(saved["anchor"]).astimezone(timezone.utc)
    return anchors


def analyse_timing(anchors: dict[str, datetime], history: list[dict[str, Any]], lines: list[tuple[float, str]],
                   stopped_at: float) -> dict[str, Any]:
    delivered = [r for r in history if r["event"] == "delivered"]
    # one notification (one console line) per distinct `at`: merged kinds share it
    groups: list[str] = []
    for r in delivered:
        if not groups or groups[-1] != r["at"]:
            groups.append(r["at"])
    console = [(t, l) for t, l in lines if " ergo · " in l]
    arrival = {at: console[i][0] for i, at in enumerate(groups)} if len(console) == len(groups) else {}
    per_kind: dict[str, list[dict[str, Any]]] = {}
    missed: dict[str, int] = {}
    for kind, interval_s in TIMING_INTERVALS.items():
        interval = timedelta(seconds=interval_s)
        anchor = anchors[kind]
        rows = []
        for r in (r for r in delivered if r["kind"] == kind):
            at = datetime.fromisoformat(r["at"]).astimezone(timezone.utc)
            due = anchor + interval
            late = (at - due).total_seconds()
            seen = arrival.get(r["at"])
            rows.append({
                "due": due.isoformat(), "at": r["at"], "lateness_s": late,
                "observed_lateness_s": None if seen is None else seen - due.timestamp(),
                "merged": "merged with" in r.get("detail", ""),
            })
            anchor = due if 0 <= late < 1.0 else at  # the engine's ON_TIME rule
        next_due = (anchor + interval).timestamp()
        missed[kind] = max(0, int((stopped_at - 1.0 - next_due) // interval_s) + 1) if next_due < stopped_at - 1.0 else 0
        per_kind[kind] = rows
    all_rows = [row for rows in per_kind.values() for row in rows]
    engine = [r["lateness_s"] for r in all_rows]
    observed = [r["observed_lateness_s"] for r in all_rows if r["observed_lateness_s"] is not None]
    summary = {
        kind: {
            "interval_s": TIMING_INTERVALS[kind],
            "delivered": len(rows),
            "missed": missed[kind],
            "merged": sum(r["merged"] for r in rows),
            "median_s": statistics.median([r["lateness_s"] for r in rows]) if rows else None,
            "max_s": max((r["lateness_s"] for r in rows), default=None),
            "min_s": min((r["lateness_s"] for r in rows), default=None),
            "observed_median_s": statistics.median(o) if (o := [r["observed_lateness_s"] for r in rows
                                                               if r["observed_lateness_s"] is not None]) else None,
            "observed_max_s": max(o) if o else None,
        }
        for kind, rows in per_kind.items()
    }
    worst = max((abs(x) for x in (observed or engine)), default=None)
    ok = bool(all_rows) and worst is not None and worst < LATENESS_MAX_S and not any(missed.values())
    return {
        "notifications": len(groups),
        "console_lines": len(console),
        "deliveries": len(all_rows),
        "engine_median_s": statistics.median(engine) if engine else None,
        "engine_max_s": max(engine) if engine else None,
        "engine_min_s": min(engine) if engine else None,
        "engine_p90_s": percentile(engine, 90) if engine else None,
        "observed_median_s": statistics.median(observed) if observed else None,
        "observed_max_s": max(observed) if observed else None,
        "observed_min_s": min(observed) if observed else None,
        "observed_p90_s": percentile(observed, 90) if observed else None,
        "matched_console": bool(arrival),
        "per_kind": summary,
        "rows": per_kind,
        "worst_abs_s": worst,
        "ok": ok,
    }


def print_timing(r: dict[str, Any]) -> None:
    say(f"  {r['deliveries']} deliveries in {r['notifications']} notifications ({r['console_lines']} console lines"
        + ("" if r["matched_console"] else ", could not match them to the history: observed lateness skipped") + ")")
    say(f"  {'kind':<10} {'every':>5} {'n':>3} {'missed':>6} {'merged':>6} {'median':>9} {'max':>9} {'min':>9} "
        f"{'seen med':>9} {'seen max':>9}")
    for kind, s in r["per_kind"].items():
        say(f"  {kind:<10} {s['interval_s']:>4g}s {s['delivered']:>3} {s['missed']:>6} {s['merged']:>6} "
            f"{_ms(s['median_s']):>9} {_ms(s['max_s']):>9} {_ms(s['min_s']):>9} "
            f"{_ms(s['observed_median_s']):>9} {_ms(s['observed_max_s']):>9}")
    say(f"  all: engine decision median {_ms(r['engine_median_s'])}, p90 {_ms(r['engine_p90_s'])}, max {_ms(r['engine_max_s'])}, "
        f"earliest {_ms(r['engine_min_s'])}")
    say(f"       console line seen   median {_ms(r['observed_median_s'])}, p90 {_ms(r['observed_p90_s'])}, "
        f"max {_ms(r['observed_max_s'])}, earliest {_ms(r['observed_min_s'])}")
    for line in r.get("log_errors", []):
        say(f"  log: {line}")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:+.0f} ms"


def rows(tm: dict[str, Any]) -> list[str]:
    seen = tm["matched_console"]
    return [f"| Delivery lateness, {tm['deliveries']} deliveries in {tm['notifications']} notifications | "
            f"median **{_ms(tm['observed_median_s'] if seen else tm['engine_median_s'])}**, "
            f"max **{_ms(tm['observed_max_s'] if seen else tm['engine_max_s'])}**"
            f"{' (console line seen)' if seen else ''}; engine decision median {_ms(tm['engine_median_s'])}, "
            f"max {_ms(tm['engine_max_s'])}; missed {sum(s['missed'] for s in tm['per_kind'].values())} | "
            f"within {LATENESS_MAX_S:g} s of due | {verdict(tm['ok'])} | `benchmarks/delivery.py` |"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the run (default 60)")
    args = parser.parse_args(argv)
    venv = CleanVenv.prepare(args.venv, args.python, not args.no_reinstall)
    say(f"load average {loadavg()}")
    result = delivery_timing(venv, args.seconds)
    say(f"load average {loadavg()}")
    say("\n".join(rows(result)))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
