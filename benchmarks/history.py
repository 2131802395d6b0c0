#!/usr/bin/env python3
"""Years of history: what `ergo history --json`, `ergo stats` and `ergo report` cost, and the vacuum.

    python benchmarks/history.py [--rounds 15] [--venv PATH]

A realistic history (tests/history_data.py: ~165 rows a day) of one day, one year and ten
years, in sandboxes of their own; every command runs with the clean venv's console script.

- `ergo stats` and `ergo report --html` on an empty history and on a year, in English and in German
  (LANG=de_DE.UTF-8: the catalog and Babel), against `python -c pass` of the same venv, alternating
  in rotating order, after one run that checks (and remembers) the settings; the first run (settings not checked yet: pydantic loads) is shown too. Wall time and
  CPU time (user + system, from wait4: less moved by other load on the machine) are both given.
  Targets: under 100 ms on an empty history, under 500 ms for a year.
- `ergo history --days 3650 --json`: wall time and peak RSS (wait4) for a year and ten years.
  Target: under 40 MB for ten years.
- The state file before and after a prune of eleven months out of twelve (the VACUUM after a large prune).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from common import CleanVenv, Sandbox, add_common_arguments, describe_line, loadavg, median, percentile, say, verdict  # noqa: E402

from tests.history_data import make_history  # noqa: E402

EMPTY_MAX_MS = 100.0
YEAR_MAX_MS = 500.0
HISTORY_MAX_MB = 40.0


def measured(argv: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """(wall seconds, peak RSS in KiB, CPU seconds: user + system) of one run; stdout goes nowhere."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.read().decode(errors='replace')[:300]}")
    proc.stderr.close()
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def sandbox_with(days: int) -> Sandbox:
    box = Sandbox(f"{days}d", None)
    box.state.mkdir(parents=True, exist_ok=True)
    os.chmod(box.state, 0o700)
    if days:
        make_history(box.state_db, days)
    return box


def speaking(env: dict[str, str], lang: str) -> dict[str, str]:
    """`env` for a reader of `lang`: "en" (LANG=C.UTF-8: neither gettext nor Babel is loaded) or "de"
    (LANG=de_DE.UTF-8: the catalog and Babel's formats); LANGUAGE, LC_ALL and LC_MESSAGES unset."""
    out = {k: v for k, v in env.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    out["LANG"] = "C.UTF-8" if lang == "en" else f"{lang}_{lang.upper()}.UTF-8"
    return out


def startup(venv: CleanVenv, rounds: int) -> list[dict[str, Any]]:
    """stats and report on an empty history and a year, alternating with `python -c pass`."""
    empty, year = sandbox_with(0), sandbox_with(365)
    page = empty.root / "week.html"
    try:
        py, ergo = str(venv.python), str(venv.ergo)
        first = {}
        for box in (empty, year):  # the first run checks and remembers the settings
            first[box.label] = measured([ergo, "stats"], box.env)
        cmds = [
            ("python -c pass", [py, "-c", "pass"], empty.env),
            ("ergo stats, empty history", [ergo, "stats"], speaking(empty.env, "en")),
            ("ergo report, empty history", [ergo, "report", "--html", str(page)], speaking(empty.env, "en")),
            ("ergo stats, a year of history", [ergo, "stats"], speaking(year.env, "en")),
            ("ergo report, a year of history", [ergo, "report", "--html", str(page)], speaking(year.env, "en")),
            ("ergo stats, empty history, in German", [ergo, "stats"], speaking(empty.env, "de")),
            ("ergo report, empty history, in German", [ergo, "report", "--html", str(page)], speaking(empty.env, "de")),
            ("ergo stats, a year of history, in German", [ergo, "stats"], speaking(year.env, "de")),
            ("ergo report, a year of history, in German", [ergo, "report", "--html", str(page)], speaking(year.env, "de")),
        ]
        times: dict[str, list[float]] = {label: [] for label, _, _ in cmds}
        cpu: dict[str, list[float]] = {label: [] for label, _, _ in cmds}
        for i in range(rounds + 2):
            order = cmds[i % len(cmds):] + cmds[: i % len(cmds)]
            for label, argv, env in order:
                elapsed, _rss, used = measured(argv, env)
                if i >= 2:
                    times[label].append(elapsed)
                    cpu[label].append(used)
        base, base_cpu = median(times["python -c pass"]), median(cpu["python -c pass"])
        rows = []
        for label, _, _ in cmds:
            values = times[label]
            rows.append({"label": label, "median_ms": median(values) * 1000, "p90_ms": percentile(values, 90) * 1000,
                         "ratio": median(values) / base, "cpu_ms": median(cpu[label]) * 1000,
                         "cpu_ratio": median(cpu[label]) / base_cpu})
        rows.append({"label": "ergo stats, first run (settings checked and remembered)",
                     "median_ms": first["0d"][0] * 1000, "p90_ms": first["0d"][0] * 1000, "ratio": first["0d"][0] / base,
                     "cpu_ms": first["0d"][2] * 1000, "cpu_ratio": first["0d"][2] / base_cpu})
        return rows
    finally:
        empty.cleanup()
        year.cleanup()


def history_memory(venv: CleanVenv) -> list[dict[str, Any]]:
    rows = []
    for days in (1, 365, 3650):
        box = sandbox_with(days)
        try:
            count = _count(box)
            seconds, rss, _cpu = measured([str(venv.ergo), "history", "--days", "3650", "--json"], box.env)
            rows.append({"days": days, "rows": count, "seconds": seconds, "rss_mb": rss / 1024})
        finally:
            box.cleanup()
    return rows


def _count(box: Sandbox) -> int:
    import sqlite3

    db = sqlite3.connect(box.state_db)
    try:
        return int(db.execute("SELECT count(*) FROM history").fetchone()[0])
    finally:
        db.close()


def vacuum(venv: CleanVenv) -> dict[str, Any]:
    """A year of history, then a daemon with history_retention = 30d: the file before and after its prune."""
    box = sandbox_with(365)
    try:
        before = box.state_db.stat().st_size
        box.env["ERGO_HISTORY_RETENTION"] = "30d"
        code = ("import sys; from pathlib import Path; from datetime import datetime, timedelta, timezone; "
                "from ergo.records.store import Store; s = Store(Path(sys.argv[1])); "
                "print(s.prune(datetime.now(timezone.utc) - timedelta(days=30))); s.close()")
        done = subprocess.run([str(venv.python), "-c", code, str(box.state_db)], env=box.env, capture_output=True,
                              text=True, check=True)
        return {"before_mb": before / 2**20, "after_mb": box.state_db.stat().st_size / 2**20,
                "pruned": int(done.stdout.strip())}
    finally:
        box.cleanup()


def rows(start: list[dict[str, Any]], memory: list[dict[str, Any]], shrink: dict[str, Any]) -> list[str]:
    out = []
    for r in start:
        if r["label"] == "python -c pass":
            continue
        limit = EMPTY_MAX_MS if "empty" in r["label"] else YEAR_MAX_MS if "year" in r["label"] else None
        ok = None if limit is None else r["median_ms"] < limit
        out.append(f"| `{r['label']}` | median {r['median_ms']:.0f} ms, p90 {r['p90_ms']:.0f} ms, "
                   f"**{r['ratio']:.2f}x** `python -c pass`; CPU {r['cpu_ms']:.0f} ms, {r['cpu_ratio']:.2f}x | "
                   f"{'-' if limit is None else f'< {limit:.0f} ms'} | "
                   f"{verdict(ok)} | `benchmarks/history.py` |")
    for m in memory:
        ok = m["rss_mb"] < HISTORY_MAX_MB if m["days"] == 3650 else None
        out.append(f"| `ergo history --json`, {m['days']} days ({m['rows']} rows) | peak RSS {m['rss_mb']:.1f} MB, "
                   f"{m['seconds']:.2f} s | {'< 40 MB' if m['days'] == 3650 else '-'} | {verdict(ok)} | "
                   "`benchmarks/history.py` |")
    out.append(f"| state file after pruning {shrink['pruned']} rows (11 of 12 months) | {shrink['before_mb']:.1f} MB "
               f"-> {shrink['after_mb']:.1f} MB | shrinks | {verdict(shrink['after_mb'] < shrink['before_mb'] / 4)} | "
               "`benchmarks/history.py` |")
    return out


def run(venv: CleanVenv, args: argparse.Namespace) -> dict[str, Any]:
    say("\n== History, stats and report ==")
    start = startup(venv, args.history_rounds)
    for r in start:
        say(f"  {r['label']:<56} median {r['median_ms']:7.1f} ms  p90 {r['p90_ms']:7.1f} ms  {r['ratio']:.2f}x  "
            f"CPU {r['cpu_ms']:6.1f} ms  {r['cpu_ratio']:.2f}x")
    memory = history_memory(venv)
    for m in memory:
        say(f"  ergo history --json, {m['days']:>4} days, {m['rows']:>6} rows: {m['seconds']:.2f} s, "
            f"peak RSS {m['rss_mb']:.1f} MB")
    shrink = vacuum(venv)
    say(f"  prune of {shrink['pruned']} rows: {shrink['before_mb']:.1f} MB -> {shrink['after_mb']:.1f} MB")
    return {"startup": start, "memory": memory, "vacuum": shrink}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--history-rounds", type=int, default=15, help="timed rounds of stats and report (default 15)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    add_arguments(parser)
    args = parser.parse_args(argv)
    venv = CleanVenv.prepare(args.venv, args.python, not args.no_reinstall)
    say(describe_line(venv.describe()))
    say(f"load average {loadavg()}")
    result = run(venv, args)
    say(f"load average {loadavg()}")
    say("\n".join(rows(result["startup"], result["memory"], result["vacuum"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
