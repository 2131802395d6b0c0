#!/usr/bin/env python3
"""ergo benchmarks: idle footprint, `ergo status` round trip, delivery timing.

    python benchmarks/run.py [--idle-seconds 90] [--json out.json]

Run it from anywhere (the repo root is put on sys.path for the desktop harness).
Every daemon it starts is isolated: private ERGO_CONFIG / ERGO_STATE_DIR /
ERGO_RUNTIME_DIR under a fresh /tmp directory, no other ERGO_* variable, no
DBUS_SESSION_BUS_ADDRESS / DISPLAY / WAYLAND_DISPLAY. When dbus-daemon, Xvfb and
dunst are installed, the footprint is measured a second time inside a private
desktop session (tests/desktop.py), where the freedesktop notifier, the x11 idle
backend and the D-Bus session watchers are active.

Linux only (it reads /proc). See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.desktop

PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# --- targets (issue 3, part 6) ------------------------------------------------------------------
PSS_MAX_MB = 30.0
CPU_MAX_S_PER_HOUR = 1.0
WAKEUP_MIN_PERIOD_S = 2.0
STATUS_MAX_RATIO = 3.0
LATENESS_MAX_S = 1.0

# --- the delivery-timing run ------------------------------------------------------------------------
TIMING_INTERVALS = {"posture": 2.0, "hydration": 3.0, "stretch": 5.0, "movement": 7.0}
TIMING_CONFIG = """\
# written by benchmarks/run.py: short intervals to measure how late reminders fire
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

HEAVY_FOR_CLIENT = ("apscheduler", "pydantic", "pydantic_core", "pydantic_settings", "plyer", "jeepney", "tzlocal")


def say(message: str = "") -> None:
    print(message, flush=True)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


# =====================================================================================================
# Isolation
# =====================================================================================================


class Sandbox:
    """A private config file, state dir and runtime dir (short /tmp path: the socket path limit is 108)."""

    def __init__(self, label: str, config_text: str | None, extra_env: dict[str, str] | None = None,
                 pycache: Path | None = None) -> None:
        self.label = label
        self.root = Path(tempfile.mkdtemp(prefix="ergo-b-", dir="/tmp"))
        self.config = self.root / "cfg" / "config.toml"
        self.state = self.root / "state"
        self.runtime = self.root / "run"
        self.config.parent.mkdir()
        if config_text is not None:
            self.config.write_text(config_text)
        self.env = isolated_env()
        self.env.update(
            ERGO_CONFIG=str(self.config), ERGO_STATE_DIR=str(self.state), ERGO_RUNTIME_DIR=str(self.runtime),
        )
        if pycache is not None:  # bytecode cached as on a normal install, outside the repo
            self.env.pop("PYTHONDONTWRITEBYTECODE", None)
            self.env["PYTHONPYCACHEPREFIX"] = str(pycache)
        self.env.update(extra_env or {})

    @property
    def socket(self) -> Path:
        return self.runtime / "ergo.sock"

    @property
    def state_db(self) -> Path:
        return self.state / "state.sqlite3"

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def isolated_env() -> dict[str, str]:
    """os.environ without ERGO_* and without any desktop (bus, display)."""
    drop = {"DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"}
    return {k: v for k, v in os.environ.items() if not k.startswith("ERGO_") and k not in drop}


def default_config_text() -> str:
    """What `ergo config init` writes: the documented defaults (30 min and longer intervals)."""
    template = REPO / "config" / "ergo.toml"
    return template.read_text() if template.exists() else ""


def ask(sock: Path, command: str, timeout: float = 5.0, **arguments: Any) -> dict[str, Any]:
    """One control request, done by hand so this process never imports ergo."""
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        client.connect(str(sock))
        client.sendall(json.dumps({"cmd": command, **arguments}).encode() + b"\n")
        data = b""
        while chunk := client.recv(65536):
            data += chunk
    finally:
        client.close()
    return json.loads(data)


class Daemon:
    """`python -m ergo run` in the foreground, as a direct child: its pid is the daemon's pid."""

    def __init__(self, sandbox: Sandbox, *, capture_stdout: bool = False) -> None:
        self.sandbox = sandbox
        self.log_path = sandbox.root / "daemon.log"
        self.lines: list[tuple[float, str]] = []  # (wall time read, line) from stdout when captured
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "ergo", "run"], env=sandbox.env, cwd=sandbox.root, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture_stdout else self._log, stderr=self._log, start_new_session=True,
        )
        self.started = time.monotonic()
        self.ready_after: float | None = None
        self._reader: threading.Thread | None = None
        if capture_stdout:
            self._reader = threading.Thread(target=self._read_stdout, daemon=True)
            self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append((time.time(), raw.decode(errors="replace").rstrip("\n")))

    def wait_ready(self, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                status = ask(self.sandbox.socket, "status", timeout=2)
            except (OSError, ValueError):
                time.sleep(0.02)
                continue
            self.ready_after = time.monotonic() - self.started
            return status
        raise RuntimeError(f"daemon not answering after {timeout:g} s: {self.log_tail()}")

    def log_tail(self, lines: int = 8) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_lines(self) -> list[str]:
        try:
            return self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []

    def stop(self) -> float:
        """SIGTERM, wait (SIGKILL after 10 s); returns the wall time the stop was asked."""
        asked = time.time()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=2)
        self._log.close()
        return asked


# =====================================================================================================
# /proc readers
# =====================================================================================================


def read_cpu_ticks(pid: int, children: bool = False) -> int:
    """utime + stime of the whole process (all threads), in clock ticks, from /proc/PID/stat.

    children=True: cutime + cstime instead, the CPU of child processes it started and reaped
    (e.g. a helper command run periodically), which utime/stime do not include.
    """
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)
    if children:
        return int(fields[13]) + int(fields[14])  # fields 16 (cutime) and 17 (cstime)
    return int(fields[11]) + int(fields[12])  # fields 14 (utime) and 15 (stime)


def read_smaps_rollup(pid: int) -> dict[str, int]:
    """Every kB figure of /proc/PID/smaps_rollup (Rss, Pss, Pss_Anon, ...)."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
            out[parts[0][:-1]] = int(parts[1])
    return out


_SWITCHES = re.compile(rb"^(voluntary|nonvoluntary)_ctxt_switches:\s+(\d+)", re.M)


def read_threads(pid: int) -> dict[int, dict[str, Any]]:
    """tid -> comm, voluntary/nonvoluntary switches and run time (ns, schedstat) for every thread."""
    threads: dict[int, dict[str, Any]] = {}
    base = Path(f"/proc/{pid}/task")
    for entry in os.listdir(base):
        tid = int(entry)
        try:
            comm = (base / entry / "comm").read_text().strip()
            status = (base / entry / "status").read_bytes()
            schedstat = (base / entry / "schedstat").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended between listdir and read
        counts = {m.group(1).decode(): int(m.group(2)) for m in _SWITCHES.finditer(status)}
        threads[tid] = {
            "comm": comm,
            "blocked_in": blocked_in(pid, tid),
            "voluntary": counts.get("voluntary", 0),
            "nonvoluntary": counts.get("nonvoluntary", 0),
            "runtime_ns": int(schedstat[0]) if schedstat else 0,
        }
    return threads


# x86_64 numbers of the calls an idle thread sits in (/proc/PID/task/TID/syscall gives the number)
_SYSCALLS_X86_64 = {0: "read", 7: "poll", 23: "select", 35: "nanosleep", 45: "recvfrom", 47: "recvmsg", 61: "wait4",
                    202: "futex", 219: "restart_syscall", 230: "clock_nanosleep", 232: "epoll_wait", 270: "pselect6",
                    271: "ppoll", 281: "epoll_pwait", 441: "epoll_pwait2"}


def blocked_in(pid: int, tid: int) -> str:
    """What a sleeping thread waits in (futex = a Python lock/Event/Condition wait), from syscall and wchan."""
    try:
        first = Path(f"/proc/{pid}/task/{tid}/syscall").read_text().split()[0]
        wchan = Path(f"/proc/{pid}/task/{tid}/wchan").read_text().strip()
    except (OSError, IndexError):
        return "?"
    if first in ("running", "-1"):
        return first
    name = _SYSCALLS_X86_64.get(int(first), f"syscall {first}") if platform.machine() == "x86_64" else f"syscall {first}"
    return name if not wchan or wchan == "0" else f"{name} ({wchan})"


def python_thread_names(pid: int) -> dict[int, str]:
    """tid -> Python thread name, from `py-spy dump` when py-spy is installed (it pauses the process briefly)."""
    spy = shutil.which("py-spy")
    if spy is None:
        return {}
    try:
        out = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    names = {}
    for match in re.finditer(r'^Thread (0x[0-9a-fA-F]+|\d+) \([^)]*\): "([^"]*)"', out, re.M):
        ident = match.group(1)
        names[int(ident, 16) if ident.startswith("0x") else int(ident)] = match.group(2)
    return names


def read_switch_totals(pid: int, tids: list[int]) -> dict[int, int]:
    """Cheap per-poll read: voluntary + nonvoluntary switches of the given threads."""
    out: dict[int, int] = {}
    for tid in tids:
        try:
            status = Path(f"/proc/{pid}/task/{tid}/status").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        out[tid] = sum(int(m.group(2)) for m in _SWITCHES.finditer(status))
    return out


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "python_executable": PYTHON,
        "kernel": platform.release(),
        "os": _os_name(),
    }


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


# =====================================================================================================
# Figure 1: idle footprint
# =====================================================================================================


def sample_idle(pid: int, seconds: float, poll: float = 0.1) -> dict[str, Any]:
    """Watch an idle daemon for `seconds` without talking to it.

    CPU from /proc/PID/stat (ticks) and per-thread schedstat (ns); context switches per thread
    from /proc/PID/task/TID/status, polled every `poll` s so each thread's wake-up times (the
    polls at which its counter moved) give the intervals between its wake-ups. Threads that
    start during the sample are picked up at the next poll (their earlier switches count from 0).
    """
    before_threads = read_threads(pid)
    before_ticks = read_cpu_ticks(pid)
    before_child_ticks = read_cpu_ticks(pid, children=True)
    mem_before = read_smaps_rollup(pid)
    start = time.monotonic()
    last = read_switch_totals(pid, sorted(before_threads))
    wakes: dict[int, list[float]] = {tid: [] for tid in before_threads}
    next_poll = start + poll
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        time.sleep(max(0.0, next_poll - now))
        next_poll += poll
        t = time.monotonic() - start
        try:
            tids = [int(x) for x in os.listdir(f"/proc/{pid}/task")]
        except FileNotFoundError:
            raise RuntimeError("the daemon exited during the idle sample") from None
        current = read_switch_totals(pid, tids)
        for tid, total in current.items():
            if tid not in last:  # a new thread: whatever it did so far happened in the sample
                wakes[tid] = [t] if total else []
            elif total != last[tid]:
                wakes[tid].append(t)
            last[tid] = total
    elapsed = time.monotonic() - start
    after_ticks = read_cpu_ticks(pid)
    after_child_ticks = read_cpu_ticks(pid, children=True)
    after_threads = read_threads(pid)
    mem_after = read_smaps_rollup(pid)
    names = python_thread_names(pid)  # after the sample: attaching wakes every thread

    threads = []
    zero = {"voluntary": 0, "nonvoluntary": 0, "runtime_ns": 0}
    for tid in sorted(set(before_threads) | set(after_threads)):
        b, a = before_threads.get(tid), after_threads.get(tid)
        ref = a or b
        assert ref is not None
        note = "" if a and b else ("started during the sample" if a else "ended during the sample (counts lost)")
        b = b or zero
        vol = a["voluntary"] - b["voluntary"] if a else None
        nonvol = a["nonvoluntary"] - b["nonvoluntary"] if a else None
        runtime_ns = a["runtime_ns"] - b["runtime_ns"] if a else None
        times = wakes.get(tid, [])
        gaps = [y - x for x, y in zip(times, times[1:])]
        switches = None if vol is None else vol + (nonvol or 0)
        threads.append({
            "tid": tid,
            "comm": ref["comm"],
            "name": names.get(tid) or ("main thread" if tid == pid else ""),
            "blocked_in": ref.get("blocked_in", "?"),
            "note": note,
            "voluntary": vol,
            "nonvoluntary": nonvol,
            "switches": switches,
            "switches_per_min": None if switches is None else switches * 60 / elapsed,
            "wakeups": len(times),
            "median_gap_s": statistics.median(gaps) if gaps else None,
            "min_gap_s": min(gaps) if gaps else None,
            "cpu_ms": None if runtime_ns is None else runtime_ns / 1e6,
        })
    total_switches = sum(t["switches"] or 0 for t in threads)
    cpu_ticks = after_ticks - before_ticks
    child_ticks = after_child_ticks - before_child_ticks
    cpu_sched_s = sum((t["cpu_ms"] or 0) for t in threads) / 1000
    return {
        "sample_s": elapsed,
        "poll_s": poll,
        "mem_before_kb": mem_before,
        "mem_after_kb": mem_after,
        "cpu_ticks": cpu_ticks,
        "child_cpu_ticks": child_ticks,
        "cpu_s_per_hour_stat": cpu_ticks / CLK_TCK * 3600 / elapsed,
        "cpu_s_per_hour_stat_resolution": 1 / CLK_TCK * 3600 / elapsed,
        "cpu_s_per_hour_schedstat": cpu_sched_s * 3600 / elapsed,
        "child_cpu_s_per_hour": child_ticks / CLK_TCK * 3600 / elapsed,
        "switches_total": total_switches,
        "switches_per_min": total_switches * 60 / elapsed,
        "threads": threads,
        "wakeup": infer_wakeup(threads, elapsed),
    }


def infer_wakeup(threads: list[dict[str, Any]], sample_s: float) -> dict[str, Any]:
    """The shortest periodic wake-up: per thread, the median gap between wake-ups (3+ wake-ups needed).

    A thread with fewer than 3 wake-ups in the sample wakes at most every sample/2 s on
    average, which is reported as a bound. The target fails if any thread's median gap, or
    its average rate (switches per minute), says it wakes more often than every 2 s.
    """
    periodic = [(t["median_gap_s"], t) for t in threads if t["median_gap_s"] is not None and t["wakeups"] >= 3]
    fastest_rate = max(threads, key=lambda t: t["switches_per_min"] or 0) if threads else None
    result: dict[str, Any] = {"shortest_period_s": None, "thread": None, "bound": None}
    if periodic:
        gap, thread = min(periodic, key=lambda item: item[0])
        result.update(shortest_period_s=gap, thread=thread_label(thread))
    else:
        most = max((t["wakeups"] for t in threads), default=0)
        result["bound"] = f"no thread woke 3+ times: every wake-up interval > {sample_s / max(most, 1):.0f} s on average"
    too_fast_by_rate = [t for t in threads if (t["switches_per_min"] or 0) > 60 / WAKEUP_MIN_PERIOD_S]
    too_fast_by_gap = [t for _, t in periodic if _ < WAKEUP_MIN_PERIOD_S]
    offenders = {t["tid"]: t for t in too_fast_by_rate + too_fast_by_gap}
    result["offenders"] = [f"{thread_label(t)}: {t['switches_per_min']:.0f} switches/min, "
                           f"median gap {_fmt_s(t['median_gap_s'])}" for t in offenders.values()]
    result["ok"] = not offenders
    result["busiest_thread"] = None if fastest_rate is None else thread_label(fastest_rate)
    return result


def thread_label(thread: dict[str, Any]) -> str:
    return f"{thread['name'] or thread['comm']} (tid {thread['tid']})"


def footprint(label: str, sandbox: Sandbox, args: argparse.Namespace, *,
              after: Any = None) -> dict[str, Any]:
    """Start a daemon, warm up, sample idle, optionally run `after(daemon)` (status timing), stop."""
    say(f"\n== Footprint: {label} ==")
    daemon = Daemon(sandbox)
    result: dict[str, Any] = {"label": label}
    try:
        status = daemon.wait_ready()
        result["ready_after_s"] = daemon.ready_after
        result["notifier"] = status.get("notifier")
        result["notifier_reason"] = status.get("notifier_reason")
        result["idle_backend"] = status.get("idle_backend")
        result["idle_reason"] = status.get("idle_reason")
        result["pid"] = daemon.pid
        say(f"daemon pid {daemon.pid} ready after {daemon.ready_after:.2f} s; notifier {status.get('notifier')}, "
            f"idle backend {status.get('idle_backend')}")
        time.sleep(args.warmup)
        result["startup_cpu_s"] = read_cpu_ticks(daemon.pid) / CLK_TCK
        result["log_start"] = [l.split(" ergo: ", 1)[-1] for l in daemon.log_lines()]
        say(f"warm-up {args.warmup:g} s done; sampling {args.idle_seconds:g} s without touching the daemon ...")
        result["idle"] = sample_idle(daemon.pid, args.idle_seconds)
        result["interpreter_floor_kb"] = interpreter_floor(sandbox)
        if after is not None:
            result.update(after(daemon))
        ask(sandbox.socket, "now", kind="posture")  # one real delivery, then memory again
        time.sleep(1.0)
        result["mem_after_delivery_kb"] = read_smaps_rollup(daemon.pid)
        if daemon.proc.poll() is not None:
            raise RuntimeError(f"daemon died: {daemon.log_tail()}")
    finally:
        daemon.stop()
        result["exit_code"] = daemon.proc.returncode
    print_footprint(result)
    return result


def interpreter_floor(sandbox: Sandbox) -> dict[str, int]:
    """Memory of an idle `python -c "sleep"` in the same environment: what any Python process costs here."""
    proc = subprocess.Popen([PYTHON, "-c", "import time; time.sleep(60)"], env=sandbox.env, cwd=sandbox.root)
    try:
        time.sleep(1.5)
        return read_smaps_rollup(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def print_footprint(r: dict[str, Any]) -> None:
    idle = r["idle"]
    mem = idle["mem_after_kb"]
    floor = r["interpreter_floor_kb"]
    say(f"memory after the idle sample: PSS {mb(mem['Pss'])}"
        + (f" (anon {mb(mem['Pss_Anon'])}, file share {mb(mem['Pss_File'])})" if "Pss_Anon" in mem else "")
        + f", RSS {mb(mem['Rss'])}; after one delivery: PSS {mb(r['mem_after_delivery_kb']['Pss'])}")
    say(f"  for scale, an idle `python -c sleep` here: PSS {mb(floor['Pss'])}, anon {mb(floor.get('Anonymous'))}, "
        f"RSS {mb(floor['Rss'])}")
    say(f"CPU over {idle['sample_s']:.1f} s: {idle['cpu_ticks']} ticks -> {idle['cpu_s_per_hour_stat']:.2f} s per idle hour "
        f"(stat, resolution {idle['cpu_s_per_hour_stat_resolution']:.2f}); schedstat {idle['cpu_s_per_hour_schedstat']:.3f} s per hour; "
        f"child processes {idle['child_cpu_s_per_hour']:.2f} s per hour")
    say(f"context switches: {idle['switches_total']} in {idle['sample_s']:.1f} s = {idle['switches_per_min']:.1f} per minute")
    say(f"  {'tid':>7}  {'thread':<24} {'blocked in':<28} {'vol':>5} {'invol':>5} {'per min':>8} {'wakes':>6} "
        f"{'median gap':>10} {'CPU ms':>8}")
    for t in idle["threads"]:
        say(f"  {t['tid']:>7}  {(t['name'] or t['comm'])[:24]:<24} {t['blocked_in'][:28]:<28} {_n(t['voluntary']):>5} "
            f"{_n(t['nonvoluntary']):>5} {_f(t['switches_per_min']):>8} {t['wakeups']:>6} {_fmt_s(t['median_gap_s']):>10} "
            f"{_f(t['cpu_ms']):>8} {t['note']}")
    w = idle["wakeup"]
    if w["shortest_period_s"] is not None:
        say(f"shortest periodic wake-up: every {w['shortest_period_s']:.2f} s ({w['thread']})")
    else:
        say(f"shortest periodic wake-up: {w['bound']}")
    for line in w["offenders"]:
        say(f"  too frequent: {line}")


def mb(kb: int | float | None) -> str:
    return "?" if kb is None else f"{kb / 1024:.1f} MB"


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


# =====================================================================================================
# Figure 2: `ergo status` round trip
# =====================================================================================================


def status_commands(sandbox: Sandbox) -> list[dict[str, Any]]:
    """What to time: baselines and ergo status forms, each with the environment it runs in.

    All run in the sandbox's environment, whose private PYTHONPYCACHEPREFIX holds warm bytecode
    (as a normal install has it; nothing is written into the repo). When this shell sets
    PYTHONDONTWRITEBYTECODE and ergo has no __pycache__, one more row shows what that costs.
    """
    env = dict(sandbox.env)
    bin_dir = Path(PYTHON).parent
    script = bin_dir / "ergo"
    on_path = shutil.which("ergo", path=env.get("PATH"))
    python_on_path = shutil.which("python3", path=env.get("PATH")) or shutil.which("python", path=env.get("PATH"))
    shims = Path(os.environ.get("PYENV_ROOT", "~/.pyenv")).expanduser() / "shims"
    if (shims / "ergo").exists() and (shims / "python3").exists():
        # `pyenv exec` (how this script was likely started) puts the real bin dir first on PATH;
        # in the user's shell, `ergo` is the shim, so time that
        on_path, python_on_path = str(shims / "ergo"), str(shims / "python3")
    cmds: list[dict[str, Any]] = [
        {"key": "python", "label": "python -c pass", "path": PYTHON, "argv": [PYTHON, "-c", "pass"], "env": env},
        {"key": "module", "label": "python -m ergo status", "path": PYTHON, "argv": [PYTHON, "-m", "ergo", "status"], "env": env,
         "baseline": "python"},
        {"key": "module_json", "label": "python -m ergo status --json", "argv": [PYTHON, "-m", "ergo", "status", "--json"],
         "env": env, "baseline": "python"},
    ]
    if script.exists():
        cmds += [
            {"key": "script", "label": "ergo status (console script)", "path": str(script), "argv": [str(script), "status"],
             "env": env, "baseline": "python", "target": True},
            {"key": "script_json", "label": "ergo status --json (console script)", "argv": [str(script), "status", "--json"],
             "env": env, "baseline": "python", "target": True},
        ]
    if on_path and Path(on_path).resolve() != script.resolve():
        # e.g. a pyenv shim: a launcher in front of the console script; compare it with python through the same launcher
        cmds += [
            {"key": "python_path", "label": "python3 -c pass (launcher on PATH)", "path": python_on_path, "argv": [python_on_path, "-c", "pass"],
             "env": env},
            {"key": "path", "label": "ergo status (launcher on PATH)", "path": on_path, "argv": [on_path, "status"], "env": env,
             "baseline": "python_path", "target": True},
        ]
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not (REPO / "ergo" / "__pycache__").exists():
        cold = dict(sandbox.env)  # as this shell has it: ergo's modules compiled from source every time
        cold.pop("PYTHONPYCACHEPREFIX", None)
        cold["PYTHONDONTWRITEBYTECODE"] = os.environ["PYTHONDONTWRITEBYTECODE"]
        cmds.append({"key": "script_nopyc", "label": "ergo status, no bytecode cache for ergo (this shell's env)",
                     "argv": [str(script) if script.exists() else PYTHON] + ([] if script.exists() else ["-m", "ergo"]) + ["status"],
                     "env": cold, "baseline": "python"})
    return cmds


def time_status(sandbox: Sandbox, rounds: int, warmup_rounds: int = 3) -> dict[str, Any]:
    say(f"\n== ergo status round trip ({rounds} alternating rounds, {warmup_rounds} warm-up rounds discarded) ==")
    cmds = status_commands(sandbox)
    times: dict[str, list[float]] = {c["key"]: [] for c in cmds}
    # check once that each status form really answers from the daemon
    for c in cmds:
        done = subprocess.run(c["argv"], env=c["env"], cwd=sandbox.root, capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"{c['label']} failed ({done.returncode}): {done.stderr.strip()}")
        if c["key"].endswith("json"):
            if json.loads(done.stdout).get("running") is not True:
                raise RuntimeError(f"{c['label']}: unexpected answer {done.stdout[:200]}")
    for i in range(warmup_rounds + rounds):
        order = cmds[i % len(cmds):] + cmds[: i % len(cmds)]  # rotate: no command always runs first
        for c in order:
            t0 = time.perf_counter()
            done = subprocess.run(c["argv"], env=c["env"], cwd=sandbox.root, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
            elapsed = time.perf_counter() - t0
            if done.returncode != 0:
                raise RuntimeError(f"{c['label']} exited {done.returncode}")
            if i >= warmup_rounds:
                times[c["key"]].append(elapsed)
    rows = []
    medians = {k: statistics.median(v) for k, v in times.items()}
    for c in cmds:
        v = times[c["key"]]
        row = {
            "key": c["key"], "label": c["label"], "n": len(v),
            "median_ms": medians[c["key"]] * 1000, "p90_ms": percentile(v, 90) * 1000,
            "min_ms": min(v) * 1000, "max_ms": max(v) * 1000,
            "baseline": c.get("baseline"), "target": bool(c.get("target")),
        }
        if c.get("baseline"):
            row["ratio"] = medians[c["key"]] / medians[c["baseline"]]
            row["ok"] = row["ratio"] < STATUS_MAX_RATIO
        rows.append(row)
    for c in cmds:
        if c.get("path"):
            say(f"  {c['label']}: {c['path']}")
    say(f"  {'command':<62} {'median':>8} {'p90':>8} {'ratio':>6}")
    for row in rows:
        ratio = f"{row['ratio']:.2f}x" if "ratio" in row else ""
        mark = f"  {verdict(row['ok'])}" if row["target"] else ""
        say(f"  {row['label'][:62]:<62} {row['median_ms']:>6.1f}ms {row['p90_ms']:>6.1f}ms {ratio:>6}{mark}")
    imports = import_check(sandbox, cmds[0]["env"])
    say(f"  `ergo status` imports {imports['modules']} modules ({imports['ergo_modules']} of ergo), "
        f"{imports['total_ms']:.1f} ms of imports (-X importtime); heavy: {', '.join(imports['heavy']) or 'none'}")
    by_key = {r["key"]: r for r in rows}
    compare = ""
    if "module" in by_key and "script" in by_key:
        diff = by_key["script"]["median_ms"] - by_key["module"]["median_ms"]
        faster = "python -m ergo" if diff > 0 else "the console script"
        compare = f"{faster} is faster by {abs(diff):.1f} ms (median)"
        say(f"  {compare}; the launcher on PATH, if any, adds its own start-up to both ergo and python")
    for c in cmds:
        c.pop("env", None)
    return {"rows": rows, "imports": imports, "compare": compare, "commands": cmds}


def import_check(sandbox: Sandbox, env: dict[str, str]) -> dict[str, Any]:
    """What `ergo status` imports (-X importtime): count, time, and any heavy package."""
    done = subprocess.run([PYTHON, "-X", "importtime", "-m", "ergo", "status"], env=env, cwd=sandbox.root,
                          capture_output=True, text=True, timeout=30)
    rows: list[tuple[int, int, str]] = []  # (self us, cumulative us, module; leading spaces = nesting)
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.split(":", 1)[1].split("|", 2)
        rows.append((int(self_us), int(cumulative_us), name.rstrip()))
    names = [name.strip() for _, _, name in rows]
    least = min((len(n) - len(n.lstrip()) for _, _, n in rows), default=0)
    top_level = sorted(((cum, n.strip()) for _, cum, n in rows if len(n) - len(n.lstrip()) == least), reverse=True)
    return {
        "modules": len(names),
        "ergo_modules": sum(1 for n in names if n.split(".")[0] == "ergo"),
        "total_ms": sum(s for s, _, _ in rows) / 1000,
        "heavy": sorted({n.split(".")[0] for n in names if n.split(".")[0] in HEAVY_FOR_CLIENT}),
        "top_cumulative_ms": [(name, cum / 1000) for cum, name in top_level[:8]],
    }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# =====================================================================================================
# Figure 3: delivery timing
# =====================================================================================================


def delivery_timing(seconds: float, pycache: Path | None = None) -> dict[str, Any]:
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
    sandbox = Sandbox("timing", TIMING_CONFIG, pycache=pycache)
    daemon = Daemon(sandbox, capture_stdout=True)
    try:
        daemon.wait_ready()
        anchors = initial_anchors(sandbox.state_db)
        if datetime.now().astimezone().date() != (datetime.now().astimezone() + timedelta(seconds=seconds + 5)).date():
            say("  warning: the run crosses local midnight; work-hour windows restart countdowns there")
        time.sleep(seconds)
        stopped_at = daemon.stop()
        done = subprocess.run([PYTHON, "-m", "ergo", "history", "--json", "--days", "1"], env=sandbox.env,
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


# =====================================================================================================
# Desktop session
# =====================================================================================================


def desktop_available() -> tuple[bool, str]:
    missing = [t for t in ("dbus-daemon", "Xvfb", "dunst") if shutil.which(t) is None]
    if missing:
        return False, f"missing {', '.join(missing)}"
    try:
        import tests.desktop  # noqa: F401 - only checking it imports
    except Exception as error:  # pytest or jeepney missing
        return False, f"tests.desktop not importable: {error}"
    return True, "ok"


@contextmanager
def desktop_env() -> Iterator[dict[str, str]]:
    from tests.desktop import desktop_session

    with desktop_session() as desk:
        yield dict(desk.env)  # DBUS_SESSION_BUS_ADDRESS and DISPLAY of the private desktop


# =====================================================================================================
# Report
# =====================================================================================================


def report(results: dict[str, Any]) -> str:
    m = results["machine"]
    parts = []
    if results.get("footprints"):
        parts.append(f" Idle samples of {results['idle_seconds']:g} s after a {results['warmup_s']:g} s warm-up.")
    if results.get("status"):
        parts.append(f" {results['rounds']} timed rounds per status command.")
    if results.get("timing"):
        parts.append(f" A {results['timing_seconds']:g} s delivery run.")
    lines = [
        f"Measured {m['date']} on {m['nproc']} CPU ({m['cpu_model']}), {m['mem_total_gb']} GB RAM, {m['os']}, "
        f"Linux {m['kernel']}, Python {m['python']}; load average (1, 5, 15 min) {results['load_before']} before, "
        f"{results['load_after']} after." + "".join(parts),
        "",
        "| Figure | Measured | Target | Result |",
        "|---|---|---|---|",
    ]
    for fp in results.get("footprints", []):
        idle = fp["idle"]
        mem = idle["mem_after_kb"]
        floor = fp["interpreter_floor_kb"]
        where = fp["label"]
        worst = max(mem["Pss"], fp["mem_after_delivery_kb"]["Pss"])
        split = f"anon {mb(mem['Pss_Anon'])} + file share {mb(mem['Pss_File'])}; " if "Pss_Anon" in mem else ""
        lines.append(f"| Idle memory, {where} | PSS **{mb(mem['Pss'])}** ({split}RSS {mb(mem['Rss'])}); "
                     f"{mb(fp['mem_after_delivery_kb']['Pss'])} after one delivery; an idle `python -c` here: "
                     f"PSS {mb(floor['Pss'])} | PSS < {PSS_MAX_MB:g} MB | {verdict(worst / 1024 < PSS_MAX_MB)} |")
        cpu = idle["cpu_s_per_hour_schedstat"] + idle["child_cpu_s_per_hour"]
        child = f" + {idle['child_cpu_s_per_hour']:.2f} s in child processes" if idle["child_cpu_ticks"] else ""
        lines.append(f"| CPU per idle hour, {where} | **{cpu:.3f} s** (threads' schedstat{child}); /proc/PID/stat: "
                     f"{idle['cpu_ticks']} ticks in {idle['sample_s']:.0f} s = {idle['cpu_s_per_hour_stat']:.2f} s | "
                     f"well under {CPU_MAX_S_PER_HOUR:g} s | "
                     f"{verdict(cpu < CPU_MAX_S_PER_HOUR and idle['cpu_s_per_hour_stat'] < CPU_MAX_S_PER_HOUR)} |")
        w = idle["wakeup"]
        shortest = (f"shortest period {w['shortest_period_s']:.1f} s ({w['thread']})" if w["shortest_period_s"] is not None
                    else w["bound"])
        lines.append(f"| Wake-ups, {where} | **{idle['switches_per_min']:.1f} context switches/min** over "
                     f"{len(idle['threads'])} threads; {shortest} | none faster than every {WAKEUP_MIN_PERIOD_S:g} s | "
                     f"{verdict(w['ok'])} |")
    st = results.get("status")
    if st:
        base = {r["key"]: r for r in st["rows"]}
        for row in st["rows"]:
            if "ratio" not in row:
                continue
            b = base[row["baseline"]]
            target = f"< {STATUS_MAX_RATIO:g}x" if row["target"] else "(info)"
            lines.append(f"| `{row['label']}` | median {row['median_ms']:.0f} ms (p90 {row['p90_ms']:.0f}) vs "
                         f"`{b['label']}` {b['median_ms']:.0f} ms (p90 {b['p90_ms']:.0f}): **{row['ratio']:.2f}x** | "
                         f"{target} | {verdict(row['ok']) if row['target'] else '-'} |")
    tm = results.get("timing")
    if tm:
        seen = tm["matched_console"]
        lines.append(f"| Delivery lateness, {tm['deliveries']} deliveries in {tm['notifications']} notifications | "
                     f"median **{_ms(tm['observed_median_s'] if seen else tm['engine_median_s'])}**, "
                     f"max **{_ms(tm['observed_max_s'] if seen else tm['engine_max_s'])}**, "
                     f"earliest {_ms(tm['observed_min_s'] if seen else tm['engine_min_s'])}"
                     f"{' (console line seen)' if seen else ''}; engine decision median {_ms(tm['engine_median_s'])}, "
                     f"max {_ms(tm['engine_max_s'])}; missed {sum(s['missed'] for s in tm['per_kind'].values())} | "
                     f"within {LATENESS_MAX_S:g} s of due | {verdict(tm['ok'])} |")
    return "\n".join(lines)


def noise_paragraph(results: dict[str, Any]) -> str:
    m = results["machine"]
    return (
        f"Machine noise: the load average was {results['load_before']} before and {results['load_after']} after, on "
        f"{m['nproc']} CPU, so other work shared the machine and these are not quiet-box figures. CPU time and context "
        "switches are the daemon's own (per-thread counters in /proc) and hardly move with load. PSS does move with what "
        "else runs: it splits each shared file page (libpython, pydantic_core, libcrypto) among the processes mapping it, "
        "so other Python processes lower it and a machine where ergo is the only Python process raises it towards RSS; "
        "the anonymous part is ergo's alone and stable. Wall-clock figures depend on load: `ergo status` and its "
        "`python -c pass` baseline ran alternately in rotating order, so load hits both sides of the ratio alike, and "
        "medians are reported; delivery lateness includes any scheduling delay the load caused, an upper bound for a "
        "quiet machine."
    )


def warm_bytecode(pycache: Path) -> None:
    """Fill the private bytecode cache once (a daemon start and a status call), as a normal install would have it."""
    sandbox = Sandbox("warm", default_config_text(), pycache=pycache)
    try:
        daemon = Daemon(sandbox)
        try:
            daemon.wait_ready()
            for argv in (["status"], ["status", "--json"], ["history", "--json"]):
                subprocess.run([PYTHON, "-m", "ergo", *argv], env=sandbox.env, cwd=sandbox.root,
                               capture_output=True, timeout=30)
        finally:
            daemon.stop()
    finally:
        sandbox.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ergo benchmarks (see benchmarks/README.md)")
    parser.add_argument("--idle-seconds", type=float, default=90.0, help="idle sample length (at least 60 for the record)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds between the daemon answering and the sample")
    parser.add_argument("--rounds", type=int, default=30, help="timed runs of each status command (at least 30)")
    parser.add_argument("--timing-seconds", type=float, default=60.0, help="length of the delivery-timing run")
    parser.add_argument("--skip", default="", help="comma list of: bare, desktop, status, timing")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    parser.add_argument("--readme", metavar="PATH", default="/tmp/bench_readme.md",
                        help="where to write the README section (default /tmp/bench_readme.md)")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if not sys.platform.startswith("linux"):
        say("benchmarks/run.py reads /proc: Linux only")
        return 2
    if args.idle_seconds < 60:
        say(f"note: --idle-seconds {args.idle_seconds:g} is below 60 s: fine for a try, not for the record")
    if args.rounds < 30:
        say(f"note: --rounds {args.rounds} is below 30: fine for a try, not for the record")

    results: dict[str, Any] = {"machine": machine(), "load_before": loadavg(), "idle_seconds": args.idle_seconds,
                               "warmup_s": args.warmup, "rounds": args.rounds, "timing_seconds": args.timing_seconds,
                               "footprints": []}
    m = results["machine"]
    say(f"ergo benchmarks, {m['date']}: {m['nproc']} CPU {m['cpu_model']}, Python {m['python']}, "
        f"load average {results['load_before']}")
    pycache = Path(tempfile.mkdtemp(prefix="ergo-b-pyc-", dir="/tmp"))
    try:
        warm_bytecode(pycache)

        if "bare" not in skip:
            sandbox = Sandbox("bare", default_config_text(), pycache=pycache)
            try:
                def status_timing(daemon: Daemon) -> dict[str, Any]:
                    if "status" not in skip:
                        results["status"] = time_status(sandbox, args.rounds)
                    return {}

                results["footprints"].append(
                    footprint("bare server (console, no idle backend)", sandbox, args, after=status_timing))
            finally:
                sandbox.cleanup()
        elif "status" not in skip:
            sandbox = Sandbox("status", default_config_text(), pycache=pycache)
            daemon = Daemon(sandbox)
            try:
                daemon.wait_ready()
                results["status"] = time_status(sandbox, args.rounds)
            finally:
                daemon.stop()
                sandbox.cleanup()

        if "desktop" not in skip:
            available, why = desktop_available()
            if not available:
                say(f"\n== Footprint in a desktop session: skipped ({why}) ==")
                results["desktop_skipped"] = why
            else:
                with desktop_env() as extra:
                    sandbox = Sandbox("desktop", default_config_text(), extra, pycache=pycache)
                    try:
                        fp = footprint("desktop session (freedesktop, x11, session watchers)", sandbox, args)
                        results["footprints"].append(fp)
                        watchers = [l for l in fp["log_start"] if l.split(":", 1)[0] in ("logind", "lock", "dnd")]
                        fp["session_watchers"] = watchers
                        for line in watchers:
                            say(f"  watcher: {line}")
                    finally:
                        sandbox.cleanup()

        if "timing" not in skip:
            results["timing"] = delivery_timing(args.timing_seconds, pycache)
    finally:
        shutil.rmtree(pycache, ignore_errors=True)

    results["load_after"] = loadavg()
    table = report(results)
    say("\n== Summary ==\n")
    say(table)
    say("")
    say(noise_paragraph(results))
    section = "## Measured footprint\n\n" + table + "\n\n" + noise_paragraph(results) + "\n"
    Path(args.readme).write_text(section)
    say(f"\nREADME section written to {args.readme}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
        say(f"figures written to {args.json}")
    failed = [line for line in table.splitlines() if line.endswith("| FAIL |")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
