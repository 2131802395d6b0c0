#!/usr/bin/env python3
"""Control latency: what a status bar pays for `ergo status`, and what `ergo start` costs.

    python benchmarks/control.py [--rounds 40] [--venv PATH] [--importtime-dir benchmarks/importtime]

- `ergo status` and `ergo status --json` through the clean venv's console script, against
  `python -c pass` of the same venv, run alternately in rotating order (load hits both sides);
  target: under 2x. `python -m ergo status` is shown for information, and so is German
  `ergo status` (LANG=de_DE.UTF-8: gettext, the catalog and Babel's CLDR data for the times);
  every other row runs under LANG=C.UTF-8.
- `python -X importtime` of both through the console script, written to --importtime-dir,
  with the list of modules the status path loads beyond a bare interpreter.
- `ergo start` (returns once the daemon answers), against one config check plus interpreter
  start (`python -m ergo.config.check CONFIG {}`: the child that validates the config once);
  target: within 1.5x.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    CleanVenv, Daemon, Sandbox, add_common_arguments, default_config_text, describe_line, loadavg, median,
    percentile, say, verdict,
)

STATUS_MAX_RATIO = 2.0
START_MAX_RATIO = 1.5


LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def speaking(env: dict[str, str], lang: str) -> dict[str, str]:
    """`env` with only LANG set of the variables that choose ergo's language (ergo.i18n)."""
    return {k: v for k, v in env.items() if k not in LOCALE_VARIABLES} | {"LANG": lang}


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}")
    return elapsed


def status_latency(venv: CleanVenv, sandbox: Sandbox, rounds: int, warmup: int = 3) -> list[dict[str, Any]]:
    """Alternating runs; the rows carry median, p90 and the ratio to `python -c pass`."""
    py, ergo = str(venv.python), str(venv.ergo)
    english, german = speaking(sandbox.env, "C.UTF-8"), speaking(sandbox.env, "de_DE.UTF-8")
    cmds = [
        ("python -c pass", [py, "-c", "pass"], False, english),
        ("ergo status", [ergo, "status"], True, english),
        ("ergo status --json", [ergo, "status", "--json"], True, english),
        ("python -m ergo status --json", [py, "-m", "ergo", "status", "--json"], False, english),
        ("LANG=de_DE.UTF-8 ergo status", [ergo, "status"], False, german),
    ]
    check = subprocess.run([ergo, "status", "--json"], env=english, capture_output=True, text=True, timeout=30)
    if json.loads(check.stdout).get("running") is not True:
        raise RuntimeError(f"ergo status --json did not reach the daemon: {check.stdout[:200]} {check.stderr[:200]}")
    check = subprocess.run([ergo, "status"], env=german, capture_output=True, text=True, timeout=30)
    if not check.stdout.startswith("ergo läuft"):
        raise RuntimeError(f"German ergo status is not German: {check.stdout[:200]} {check.stderr[:200]}")
    times: dict[str, list[float]] = {label: [] for label, _, _, _ in cmds}
    for i in range(warmup + rounds):
        order = cmds[i % len(cmds):] + cmds[: i % len(cmds)]
        for label, argv, _, env in order:
            elapsed = timed(argv, env, sandbox.root)
            if i >= warmup:
                times[label].append(elapsed)
    base = median(times["python -c pass"])
    out = []
    for label, _, target, _ in cmds:
        values = times[label]
        out.append({"label": label, "median_ms": median(values) * 1000, "p90_ms": percentile(values, 90) * 1000,
                    "ratio": median(values) / base, "target": target, "n": len(values)})
    return out


def importtime_evidence(venv: CleanVenv, sandbox: Sandbox, folder: Path) -> dict[str, Any]:
    """`python -X importtime` of the console script, saved per command, and what it adds to a bare start."""
    folder.mkdir(parents=True, exist_ok=True)
    bare = subprocess.run([str(venv.python), "-X", "importtime", "-c", "pass"], env=speaking(sandbox.env, "C.UTF-8"), capture_output=True,
                          text=True).stderr
    (folder / "python-c-pass.txt").write_text(bare)
    baseline = {line.split("|")[-1].strip() for line in bare.splitlines() if line.startswith("import time:")}
    found: dict[str, Any] = {}
    english, german = speaking(sandbox.env, "C.UTF-8"), speaking(sandbox.env, "de_DE.UTF-8")
    for name, argv, env in (("ergo-status", ["status"], english), ("ergo-status-json", ["status", "--json"], english),
                            ("ergo-status-german", ["status"], german)):
        done = subprocess.run([str(venv.python), "-X", "importtime", str(venv.ergo), *argv], env=env,
                              capture_output=True, text=True)
        (folder / f"{name}.txt").write_text(done.stderr)
        rows = [line.split(":", 1)[1].split("|") for line in done.stderr.splitlines()
                if line.startswith("import time:") and "self [us]" not in line]
        added = [(name.strip(), int(self_us)) for self_us, _, name in rows if name.strip() not in baseline]
        found[name] = {"modules": [n for n, _ in added], "self_ms": sum(us for _, us in added) / 1000}
    return found


def start_latency(venv: CleanVenv, rounds: int) -> dict[str, Any]:
    """`ergo start` until it returns (the daemon answers), then `ergo stop`; against one config check."""
    starts, checks = [], []
    for _ in range(rounds):
        sandbox = Sandbox("start", default_config_text())
        try:
            checks.append(timed([str(venv.python), "-m", "ergo.config.check", str(sandbox.config), "{}"],
                                sandbox.env, sandbox.root))
            starts.append(timed([str(venv.ergo), "start"], sandbox.env, sandbox.root))
            subprocess.run([str(venv.ergo), "stop"], env=sandbox.env, capture_output=True, timeout=30)
        finally:
            sandbox.cleanup()
    return {"start_ms": median(starts) * 1000, "check_ms": median(checks) * 1000,
            "ratio": median(starts) / median(checks), "rounds": rounds}


def rows(status: list[dict[str, Any]], start: dict[str, Any] | None) -> list[str]:
    out = []
    base = next(r for r in status if r["label"] == "python -c pass")
    for r in status:
        if r is base:
            continue
        target = f"< {STATUS_MAX_RATIO:g}x" if r["target"] else "(info)"
        english = next((e for e in status if e["label"] == "ergo status"), None)
        beside = (f"; {r['median_ms'] / english['median_ms']:.2f}x English `ergo status`"
                  if english is not None and r["label"].startswith("LANG=") else "")
        out.append(f"| `{r['label']}` | median {r['median_ms']:.1f} ms (p90 {r['p90_ms']:.1f}) vs `python -c pass` "
                   f"{base['median_ms']:.1f} ms: **{r['ratio']:.2f}x**{beside} | {target} | "
                   f"{verdict(r['ratio'] < STATUS_MAX_RATIO) if r['target'] else '-'} | `benchmarks/control.py` |")
    if start:
        out.append(f"| `ergo start` (until the daemon answers) | median {start['start_ms']:.0f} ms vs one config check "
                   f"{start['check_ms']:.0f} ms: **{start['ratio']:.2f}x** | < {START_MAX_RATIO:g}x | "
                   f"{verdict(start['ratio'] < START_MAX_RATIO)} | `benchmarks/control.py` |")
    return out


def run(venv: CleanVenv, args: argparse.Namespace) -> dict[str, Any]:
    say("\n== Control latency ==")
    sandbox = Sandbox("status", default_config_text())
    daemon = Daemon(venv, sandbox)
    try:
        daemon.wait_ready()
        status = status_latency(venv, sandbox, args.rounds)
        evidence = importtime_evidence(venv, sandbox, args.importtime_dir)
    finally:
        daemon.stop()
        sandbox.cleanup()
    for r in status:
        say(f"  {r['label']:<32} median {r['median_ms']:6.1f} ms  p90 {r['p90_ms']:6.1f} ms  {r['ratio']:.2f}x")
    for name, found in evidence.items():
        say(f"  {name}: {len(found['modules'])} modules beyond `python -c pass` ({found['self_ms']:.1f} ms under "
            f"-X importtime): {', '.join(found['modules'])}")
    say(f"  -X importtime output written to {args.importtime_dir}/")
    start = start_latency(venv, args.start_rounds) if args.start_rounds else None
    if start:
        say(f"  ergo start: median {start['start_ms']:.0f} ms; one config check {start['check_ms']:.0f} ms: "
            f"{start['ratio']:.2f}x ({start['rounds']} rounds)")
    return {"status": status, "importtime": evidence, "start": start}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=40, help="timed rounds of each command (default 40)")
    parser.add_argument("--start-rounds", type=int, default=5, help="timed `ergo start` runs (default 5; 0 skips)")
    parser.add_argument("--importtime-dir", type=Path, default=Path(__file__).resolve().parent / "importtime",
                        help="where the -X importtime evidence goes (default benchmarks/importtime)")


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
    say("\n".join(rows(result["status"], result["start"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
