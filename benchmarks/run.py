#!/usr/bin/env python3
"""Every ergo benchmark in one go, and the docs' "Measured footprint" page (docs/footprint.md).

    python benchmarks/run.py [--venv PATH] [--skip footprint,control,delivery,history] [--readme PATH]

Runs footprint.py (bare, present, away), control.py (status and start latency, -X importtime
evidence), history.py (years of history: history, stats, report, vacuum) and delivery.py with one
clean venv, and prints, with the figures, the interpreter,
its site-packages and the load average before and after. Each part also runs on its own; its
docstring says what it measures. Linux only (everything is read from /proc).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import control  # noqa: E402
import delivery  # noqa: E402
import footprint  # noqa: E402
import history  # noqa: E402
from common import CleanVenv, add_common_arguments, describe_line, loadavg, machine, python_processes, say  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    footprint.add_arguments(parser)
    control.add_arguments(parser)
    history.add_arguments(parser)
    parser.add_argument("--delivery-seconds", type=float, default=60.0, help="length of the delivery run")
    parser.add_argument("--skip", default="", help="comma list of footprint, control, delivery, history")
    parser.add_argument("--json", type=Path, help="also write every figure here as JSON")
    parser.add_argument("--readme", type=Path, default=Path("/tmp/ergo_bench_readme.md"),
                        help="where the footprint page's section goes (default /tmp/ergo_bench_readme.md)")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        say("the benchmarks read /proc: Linux only")
        return 2
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    venv = CleanVenv.prepare(args.venv, args.python, not args.no_reinstall)
    info = venv.describe()
    m = machine()
    results: dict = {"machine": m, "venv": info, "load_before": loadavg(),
                     "other_python_before": len(python_processes(set()))}
    say(f"ergo benchmarks {m['date']}: {m['nproc']} CPU {m['cpu_model']}, {m['os']}, Linux {m['kernel']}")
    say(describe_line(info))
    say(f"load average {results['load_before']}; {results['other_python_before']} Python processes running")
    table: list[str] = []
    if "footprint" not in skip:
        results["footprint"] = footprint.run(venv, args)
        table += footprint.rows(results["footprint"])
    if "control" not in skip:
        results["control"] = control.run(venv, args)
        table += control.rows(results["control"]["status"], results["control"]["start"])
    if "history" not in skip:
        results["history"] = history.run(venv, args)
        table += history.rows(results["history"]["startup"], results["history"]["memory"], results["history"]["vacuum"])
    if "delivery" not in skip:
        results["delivery"] = delivery.delivery_timing(venv, args.delivery_seconds)
        table += delivery.rows(results["delivery"])
    results["load_after"] = loadavg()
    head = (f"Measured {m['date']} on {m['nproc']} CPU ({m['cpu_model']}), {m['mem_total_gb']} GB RAM, {m['os']}, "
            f"Linux {m['kernel']}; {describe_line(info)}; load average (1, 5, 15 min) {results['load_before']} before "
            f"and {results['load_after']} after.")
    section = "\n".join([head, "", "| Figure | Measured | Target | Result | Reproduce with |", "|---|---|---|---|---|", *table]) + "\n"
    say("\n== Summary ==\n")
    say(section)
    args.readme.write_text(section)
    say(f"footprint section written to {args.readme}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 1 if any("| FAIL |" in line for line in table) else 0


if __name__ == "__main__":
    sys.exit(main())
