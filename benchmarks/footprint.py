#!/usr/bin/env python3
"""The idle daemon's footprint: memory, CPU and wake-ups, in three situations.

    python benchmarks/footprint.py [--idle-seconds 120] [--modes bare,present,away] [--venv PATH]

- bare: no desktop at all (console notifier, no idle backend), like a server or a CI box;
- present: a private desktop (D-Bus session, Xvfb, dunst: tests/desktop.py) with the x11 idle
  backend and the session watchers, and someone at the keyboard: xdotool moves the pointer
  every 20 s during the whole sample;
- away: the same desktop with no input at all, sampled only once ergo reports the person away.
  `idle.away_after` is lowered to --away-after (30 s unless told) for this run, so the away
  state starts soon; everything else is the documented default config.

Every daemon runs from the clean venv (see common.py). Linux only: everything is read from /proc.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    CLK_TCK, CleanVenv, Daemon, Sandbox, add_common_arguments, ask, default_config_text, desktop_available,
    desktop_env, fmt_s, loadavg, mb, pss_as_only_python, python_processes, python_roots, read_cpu_ticks,
    read_smaps_rollup, read_switch_totals, read_threads, say, verdict,
)

PSS_ALONE_MAX_MB = 25.0
SWITCHES_MAX_PER_MIN = 10.0
CPU_MAX_S_PER_HOUR = 1.0
INPUT_EVERY_S = 20.0
MODES = {
    "bare": "bare server (console, no idle backend)",
    "present": "desktop, present (x11 idle, input every 20 s)",
    "away": "desktop, away (x11 idle, no input)",
}


def sample_idle(pid: int, seconds: float, poll: float = 0.1) -> dict[str, Any]:
    """Watch the daemon for `seconds` without talking to it: CPU (stat ticks and per-thread
    schedstat) and context switches per thread, polled every `poll` s to find wake-up gaps."""
    before_threads = read_threads(pid)
    before_ticks, before_child = read_cpu_ticks(pid), read_cpu_ticks(pid, children=True)
    start = time.monotonic()
    last = read_switch_totals(pid, sorted(before_threads))
    wakes: dict[int, list[float]] = {tid: [] for tid in before_threads}
    next_poll = start + poll
    while time.monotonic() - start < seconds:
        time.sleep(max(0.0, next_poll - time.monotonic()))
        next_poll += poll
        t = time.monotonic() - start
        try:
            tids = [int(x) for x in os.listdir(f"/proc/{pid}/task")]
        except FileNotFoundError:
            raise RuntimeError("the daemon exited during the idle sample") from None
        for tid, total in read_switch_totals(pid, tids).items():
            if tid not in last:
                wakes[tid] = [t] if total else []
            elif total != last[tid]:
                wakes[tid].append(t)
            last[tid] = total
    elapsed = time.monotonic() - start
    after_threads = read_threads(pid)
    ticks = read_cpu_ticks(pid) - before_ticks
    child_ticks = read_cpu_ticks(pid, children=True) - before_child
    threads = []
    zero = {"voluntary": 0, "nonvoluntary": 0, "runtime_ns": 0}
    for tid in sorted(set(before_threads) | set(after_threads)):
        b, a = before_threads.get(tid) or zero, after_threads.get(tid)
        if a is None:
            continue  # ended during the sample: its counts are lost
        switches = a["voluntary"] - b["voluntary"] + a["nonvoluntary"] - b["nonvoluntary"]
        gaps = [y - x for x, y in zip(wakes.get(tid, []), wakes.get(tid, [])[1:])]
        threads.append({"tid": tid, "comm": a["comm"], "blocked_in": a["blocked_in"], "switches": switches,
                        "switches_per_min": switches * 60 / elapsed, "wakeups": len(wakes.get(tid, [])),
                        "median_gap_s": statistics.median(gaps) if gaps else None,
                        "cpu_ms": (a["runtime_ns"] - b["runtime_ns"]) / 1e6})
    total = sum(t["switches"] for t in threads)
    return {
        "sample_s": elapsed, "cpu_ticks": ticks, "cpu_s_per_hour_stat": ticks / CLK_TCK * 3600 / elapsed,
        "cpu_s_per_hour_schedstat": sum(t["cpu_ms"] for t in threads) / 1000 * 3600 / elapsed,
        "child_cpu_s_per_hour": child_ticks / CLK_TCK * 3600 / elapsed,
        "switches_total": total, "switches_per_min": total * 60 / elapsed, "threads": threads,
    }


class Presence:
    """Someone at the keyboard: an xdotool pointer move every INPUT_EVERY_S seconds."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.stop = threading.Event()
        self.moves = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            x = 100 + (self.moves % 2) * 50
            subprocess.run(["xdotool", "mousemove", str(x), "100"], env=self.env, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.moves += 1
            self.stop.wait(INPUT_EVERY_S)

    def __enter__(self) -> "Presence":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def measure(venv: CleanVenv, mode: str, args: argparse.Namespace, desk: dict[str, str] | None,
            extra: dict[str, str] | None = None, label: str = "") -> dict[str, Any]:
    """Start a daemon in `mode`, wait for the state the mode needs, sample it idle, then one delivery.
    `extra`: more ERGO_ settings (without the prefix), e.g. the [meetings] sources for benchmarks/meetings.py."""
    say(f"\n== Footprint: {MODES[mode]}{label} ==")
    settings = {"IDLE__AWAY_AFTER": args.away_after} if mode == "away" else {}
    if mode != "bare":
        settings["IDLE__BACKEND"] = "x11"
    settings.update(extra or {})
    sandbox = Sandbox(mode, default_config_text(), desk if mode != "bare" else None, **settings)
    daemon = Daemon(venv, sandbox)
    result: dict[str, Any] = {"mode": mode, "label": MODES[mode] + label}
    presence = Presence(sandbox.env) if mode == "present" else None
    try:
        status = daemon.wait_ready()
        result.update(pid=daemon.pid, ready_after_s=daemon.ready_after, notifier=status["notifier"],
                      idle_backend=status["idle_backend"], session_watchers=status.get("session_watchers"),
                      busy_sources=status.get("busy_sources"))
        say(f"daemon pid {daemon.pid} ready after {daemon.ready_after:.2f} s; notifier {status['notifier']}, "
            f"idle {status['idle_backend']}; watchers: {'; '.join(status.get('session_watchers') or []) or '-'}")
        if presence is not None:
            presence.__enter__()
        time.sleep(args.warmup)
        if mode == "away":
            say(f"idle.away_after lowered to {args.away_after} for this run; waiting until ergo reports the person away ...")
            deadline = time.monotonic() + 300
            while ask(sandbox.socket, "status").get("away_since") is None:
                if time.monotonic() > deadline:
                    raise RuntimeError("ergo never reported the person away")
                time.sleep(5)
            time.sleep(2)
            result["away_since"] = ask(sandbox.socket, "status")["away_since"]
        say(f"sampling {args.idle_seconds:g} s without talking to the daemon ...")
        result["idle"] = sample_idle(daemon.pid, args.idle_seconds)
        if presence is not None:
            result["input_moves"] = presence.moves
            if mode == "present" and ask(sandbox.socket, "status").get("away_since") is not None:
                raise RuntimeError("the person counted as away in the present run")
        result["memory_kb"] = read_smaps_rollup(daemon.pid)
        result["alone"] = pss_as_only_python(daemon.pid, python_roots(venv))
        result["other_python_processes"] = len(python_processes({daemon.pid}))
        result["threads"] = len(os.listdir(f"/proc/{daemon.pid}/task"))
        ask(sandbox.socket, "now", kind="posture")  # one real delivery: the memory of a daemon in use
        time.sleep(1.0)
        result["memory_after_delivery_kb"] = read_smaps_rollup(daemon.pid)
        result["alone_after_delivery"] = pss_as_only_python(daemon.pid, python_roots(venv))
        if daemon.proc.poll() is not None:
            raise RuntimeError(f"daemon died: {daemon.log_tail()}")
    finally:
        if presence is not None:
            presence.__exit__()
        daemon.stop()
        sandbox.cleanup()
    print_result(result)
    return result


def print_result(r: dict[str, Any]) -> None:
    idle, mem, alone = r["idle"], r["memory_kb"], r["alone"]
    say(f"memory: PSS {mb(mem['Pss'])} (anon {mb(mem.get('Pss_Anon'))}, file share {mb(mem.get('Pss_File'))}), "
        f"RSS {mb(mem['Rss'])}; as the only Python process: PSS {mb(alone['pss_alone_kb'])} "
        f"({r['other_python_processes']} other Python processes run now); after one delivery: "
        f"{mb(r['alone_after_delivery']['pss_alone_kb'])}")
    say("  biggest anonymous mappings: " + ", ".join(f"{name} {mb(kb)}" for name, kb in alone["anon_by_mapping"]))
    say(f"CPU: {idle['cpu_s_per_hour_schedstat']:.3f} s per idle hour (schedstat), {idle['cpu_ticks']} ticks in "
        f"{idle['sample_s']:.0f} s; child processes {idle['child_cpu_s_per_hour']:.2f} s per hour")
    say(f"context switches: {idle['switches_total']} in {idle['sample_s']:.0f} s = {idle['switches_per_min']:.1f} per minute, "
        f"{r['threads']} threads")
    for t in idle["threads"]:
        say(f"  {t['tid']:>7} {t['comm'][:16]:<16} {t['blocked_in'][:26]:<26} {t['switches']:>4} switches "
            f"{t['switches_per_min']:>5.1f}/min, {t['wakeups']:>3} wake-ups, median gap {fmt_s(t['median_gap_s'])}, "
            f"CPU {t['cpu_ms']:.1f} ms")


def rows(results: list[dict[str, Any]]) -> list[str]:
    """Rows of the footprint table (docs/footprint.md), one per figure."""
    out = []
    for r in results:
        idle, mem, alone = r["idle"], r["memory_kb"], r["alone"]
        command = f"`benchmarks/footprint.py --modes {r['mode']}`"
        worst = max(alone["pss_alone_kb"], r["alone_after_delivery"]["pss_alone_kb"])
        out.append(f"| Idle memory, {r['label']} | PSS as the only Python process **{mb(alone['pss_alone_kb'])}** "
                   f"({mb(r['alone_after_delivery']['pss_alone_kb'])} after one delivery; anon {mb(mem.get('Pss_Anon'))}, "
                   f"RSS {mb(mem['Rss'])}, measured PSS {mb(mem['Pss'])} with {r['other_python_processes']} other Python "
                   f"processes running) | < {PSS_ALONE_MAX_MB:g} MB | {verdict(worst / 1024 < PSS_ALONE_MAX_MB)} | {command} |")
        cpu = idle["cpu_s_per_hour_schedstat"] + idle["child_cpu_s_per_hour"]
        out.append(f"| CPU per idle hour, {r['label']} | **{cpu:.2f} s** ({idle['cpu_ticks']} ticks in "
                   f"{idle['sample_s']:.0f} s) | < {CPU_MAX_S_PER_HOUR:g} s | {verdict(cpu < CPU_MAX_S_PER_HOUR)} | {command} |")
        out.append(f"| Context switches, {r['label']} | **{idle['switches_per_min']:.1f} per minute** over "
                   f"{r['threads']} threads | ≤ {SWITCHES_MAX_PER_MIN:g} | "
                   f"{verdict(idle['switches_per_min'] <= SWITCHES_MAX_PER_MIN)} | {command} |")
    return out


def run(venv: CleanVenv, args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if "bare" in modes:
        results.append(measure(venv, "bare", args, None))
    desktop_modes = [m for m in modes if m != "bare"]
    if desktop_modes:
        available, why = desktop_available()
        if not available:
            say(f"\n== desktop footprints skipped: {why} ==")
            return results
        for mode in desktop_modes:
            with desktop_env() as desk:  # a fresh desktop per run: the away run must not inherit input
                results.append(measure(venv, mode, args, desk))
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--idle-seconds", type=float, default=120.0, help="length of each sample (default 120)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds between the daemon answering and the sample")
    parser.add_argument("--modes", default="bare,present,away", help="comma list of bare, present, away")
    parser.add_argument("--away-after", default="30s", help="idle.away_after for the away run (default 30s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    add_arguments(parser)
    args = parser.parse_args(argv)
    venv = CleanVenv.prepare(args.venv, args.python, not args.no_reinstall)
    say(f"load average {loadavg()}")
    results = run(venv, args)
    say(f"load average {loadavg()}")
    say("\n".join(rows(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
