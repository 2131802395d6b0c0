"""What every benchmark shares: the clean venv, the isolated ergo environment, the daemon
handle, /proc readers and the machine's description (with its load average).

The figures are only worth publishing when every interpreter timed is the clean venv's:
a Python with hundreds of packages and `.pth` hooks starts three times slower and makes
any ratio look good. So `CleanVenv` creates (or is pointed at) a venv holding ergo and
its dependencies only, and every baseline runs with that venv's interpreter.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # ergo.paths (the shared isolated-environment helper) and tests.desktop

from ergo.paths import isolated_env  # noqa: E402 - after the path is set

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
DEFAULT_VENV = Path(tempfile.gettempdir()) / "ergo-bench-venv"


def say(message: str = "") -> None:
    print(message, flush=True)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


# --- the clean venv ----------------------------------------------------------------------------------


class CleanVenv:
    """A venv with only ergo (a normal, non-editable install) and its dependencies."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = root / "bin" / "python"
        self.ergo = root / "bin" / "ergo"

    @classmethod
    def prepare(cls, root: Path | None, base_python: str, reinstall: bool = True) -> "CleanVenv":
        """Use `root` as given (--venv), or create/refresh DEFAULT_VENV with `base_python -m venv` + pip install."""
        if root is not None:
            venv = cls(root)
            if not venv.ergo.exists():
                raise SystemExit(f"{root}: no bin/ergo here; install ergo into it first (pip install {REPO})")
            return venv
        venv = cls(DEFAULT_VENV)
        if not venv.python.exists():
            say(f"creating the clean venv {venv.root} with {base_python} ...")
            subprocess.run([base_python, "-m", "venv", str(venv.root)], check=True)
        if reinstall or not venv.ergo.exists():
            say(f"installing this checkout into it (pip install {REPO}) ...")
            subprocess.run([str(venv.python), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(REPO)],
                           check=True, stdout=subprocess.DEVNULL)
            subprocess.run([str(venv.python), "-m", "pip", "install", "-q", str(REPO)], check=True, stdout=subprocess.DEVNULL)
        return venv

    def describe(self) -> dict[str, Any]:
        """The interpreter, its version and what its site-packages holds (a clean one holds ~15 distributions)."""
        code = ("import json, site, sys, os; sp = site.getsitepackages()[0]; "
                "print(json.dumps({'executable': sys.executable, 'version': sys.version.split()[0], "
                "'site_packages': sp, 'entries': len(os.listdir(sp)), "
                "'distributions': sorted(e[:-10] for e in os.listdir(sp) if e.endswith('.dist-info')), "
                "'pth': sorted(e for e in os.listdir(sp) if e.endswith('.pth'))}))")
        done = subprocess.run([str(self.python), "-c", code], capture_output=True, text=True, check=True)
        return json.loads(done.stdout)


def describe_line(info: dict[str, Any]) -> str:
    return (f"interpreter {info['executable']} (Python {info['version']}), site-packages {info['site_packages']}: "
            f"{len(info['distributions'])} distributions, .pth files: {', '.join(info['pth']) or 'none'}")


# --- the isolated ergo environment ----------------------------------------------------------------------


class Sandbox:
    """ergo.paths.isolated_env under a fresh short /tmp dir, no desktop unless one is handed in."""

    def __init__(self, label: str, config_text: str | None, desktop_env: dict[str, str] | None = None,
                 **settings: str) -> None:
        self.label = label
        self.root = Path(tempfile.mkdtemp(prefix="ergo-b-", dir="/tmp"))
        base = dict(os.environ)
        base.pop("PYTHONDONTWRITEBYTECODE", None)  # a normal install runs from compiled bytecode
        base.update(desktop_env or {})
        self.env = isolated_env(self.root, base, desktop=desktop_env is not None, **settings)
        self.config = Path(self.env["ERGO_CONFIG"])
        self.state = Path(self.env["ERGO_STATE_DIR"])
        self.runtime = Path(self.env["ERGO_RUNTIME_DIR"])
        if config_text is not None:
            self.config.write_text(config_text)

    @property
    def socket(self) -> Path:
        return self.runtime / "ergo.sock"

    @property
    def state_db(self) -> Path:
        return self.state / "state.sqlite3"

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def default_config_text() -> str:
    """What `ergo config init` writes: the documented defaults (30 min and longer intervals)."""
    return (REPO / "config" / "ergo.toml").read_text()


def ask(sock: Path, command: str, timeout: float = 5.0, **arguments: Any) -> dict[str, Any]:
    """One control request, done by hand so this process never imports ergo's client."""
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
    """`VENV/bin/python -m ergo run` in the foreground, as a direct child: its pid is the daemon's pid."""

    def __init__(self, venv: CleanVenv, sandbox: Sandbox, *, capture_stdout: bool = False) -> None:
        self.venv = venv
        self.sandbox = sandbox
        self.log_path = sandbox.root / "daemon.log"
        self.lines: list[tuple[float, str]] = []  # (wall time read, line) from stdout when captured
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(venv.python), "-m", "ergo", "run"], env=sandbox.env, cwd=sandbox.root, stdin=subprocess.DEVNULL,
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

    def wait_ready(self, timeout: float = 30.0) -> dict[str, Any]:
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
        return " | ".join(self.log_lines()[-lines:]) or "(no log)"

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


# --- desktop ------------------------------------------------------------------------------------------------


def desktop_available() -> tuple[bool, str]:
    missing = [t for t in ("dbus-daemon", "Xvfb", "dunst", "xdotool") if shutil.which(t) is None]
    if missing:
        return False, f"missing {', '.join(missing)}"
    try:
        import tests.desktop  # noqa: F401 - only checking it imports (needs pytest and jeepney)
    except Exception as error:
        return False, f"tests.desktop not importable: {error}"
    return True, "ok"


@contextmanager
def desktop_env() -> Iterator[dict[str, str]]:
    """A private session bus, Xvfb display and dunst (tests/desktop.py); yields their variables."""
    from tests.desktop import desktop_session

    with desktop_session() as desk:
        yield dict(desk.env)


# --- /proc readers and the machine ---------------------------------------------------------------------------


def read_cpu_ticks(pid: int, children: bool = False) -> int:
    """utime + stime (or, with children, cutime + cstime) in clock ticks, from /proc/PID/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    if children:
        return int(fields[13]) + int(fields[14])
    return int(fields[11]) + int(fields[12])


def read_smaps_rollup(pid: int) -> dict[str, int]:
    """Every kB figure of /proc/PID/smaps_rollup (Rss, Pss, Pss_Anon, ...)."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
            out[parts[0][:-1]] = int(parts[1])
    return out


def pss_as_only_python(pid: int, python_roots: list[str]) -> dict[str, Any]:
    """PSS as it would be with ergo the only Python process: file pages of the interpreter's own
    files (libpython, lib-dynload, site-packages extensions) counted whole (their RSS), since no
    other Python process would share them; every other page as the kernel counts it (PSS).
    Also the biggest anonymous mappings, for the question "what is the memory"."""
    total_kb = 0.0
    python_files_kb = 0
    anon_kb = 0
    by_name: dict[str, int] = {}
    current: dict[str, Any] = {}
    maps: list[dict[str, Any]] = []
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            parts = line.split(None, 5)
            current = {"name": parts[5].strip() if len(parts) > 5 else "", "range": parts[0]}
            maps.append(current)
        else:
            key, _, value = line.partition(":")
            if key in ("Rss", "Pss", "Anonymous", "Size"):
                current[key] = int(value.split()[0])
    for m in maps:
        name, rss, pss, anon = m["name"], m.get("Rss", 0), m.get("Pss", 0), m.get("Anonymous", 0)
        anon_kb += anon
        if name.startswith("/") and any(name.startswith(root) for root in python_roots):
            total_kb += anon + (rss - anon)
            python_files_kb += rss - anon
        else:
            total_kb += pss
        if anon:
            label = name or ("[anon " + ("1 MiB arena" if m.get("Size") == 1024 else f"{m.get('Size', 0)} kB") + "]")
            by_name[label] = by_name.get(label, 0) + anon
    biggest = sorted(by_name.items(), key=lambda item: -item[1])[:6]
    return {"pss_alone_kb": round(total_kb), "python_files_rss_kb": python_files_kb, "anon_kb": anon_kb,
            "anon_by_mapping": biggest}


def python_roots(venv: CleanVenv) -> list[str]:
    """The directories whose mapped files belong to this interpreter (base prefix, venv, libpython's dir)."""
    code = "import sys, sysconfig; print(sys.base_prefix); print(sys.prefix); print(sysconfig.get_config_var('LIBDIR') or '')"
    out = subprocess.run([str(venv.python), "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    return [os.path.realpath(p) + "/" for p in out if p.strip()] + [str(venv.root) + "/"]


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
            continue
        counts = {m.group(1).decode(): int(m.group(2)) for m in _SWITCHES.finditer(status)}
        threads[tid] = {
            "comm": comm, "blocked_in": blocked_in(pid, tid),
            "voluntary": counts.get("voluntary", 0), "nonvoluntary": counts.get("nonvoluntary", 0),
            "runtime_ns": int(schedstat[0]) if schedstat else 0,
        }
    return threads


_SYSCALLS_X86_64 = {0: "read", 7: "poll", 23: "select", 35: "nanosleep", 45: "recvfrom", 47: "recvmsg", 61: "wait4",
                    202: "futex", 219: "restart_syscall", 230: "clock_nanosleep", 232: "epoll_wait", 270: "pselect6",
                    271: "ppoll", 281: "epoll_pwait", 441: "epoll_pwait2"}


def blocked_in(pid: int, tid: int) -> str:
    """What a sleeping thread waits in (futex = a Python lock/Event/Condition wait)."""
    try:
        first = Path(f"/proc/{pid}/task/{tid}/syscall").read_text().split()[0]
        wchan = Path(f"/proc/{pid}/task/{tid}/wchan").read_text().strip()
    except (OSError, IndexError):
        return "?"
    if first in ("running", "-1"):
        return first
    name = _SYSCALLS_X86_64.get(int(first), f"syscall {first}") if platform.machine() == "x86_64" else f"syscall {first}"
    return name if not wchan or wchan == "0" else f"{name} ({wchan})"


def read_switch_totals(pid: int, tids: list[int]) -> dict[int, int]:
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


def python_processes(exclude: set[int]) -> list[str]:
    """Other running Python processes (they share libpython's pages and so lower ergo's PSS)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        try:
            exe = os.readlink(f"/proc/{entry}/exe")
        except OSError:
            continue
        if "python" in os.path.basename(exe):
            found.append(entry)
    return found


def machine() -> dict[str, Any]:
    model = "?"
    try:
        model = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                     if l.lower().startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        mem_kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    os_name = platform.system()
    try:
        os_name = next(l.split("=", 1)[1].strip('"') for l in Path("/etc/os-release").read_text().splitlines()
                       if l.startswith("PRETTY_NAME="))
    except (OSError, StopIteration):
        pass
    return {"date": datetime.now().astimezone().isoformat(timespec="seconds"), "nproc": os.cpu_count(),
            "cpu_model": model, "mem_total_gb": round(mem_kb / 1024 / 1024, 1), "kernel": platform.release(),
            "os": os_name}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def mb(kb: int | float | None) -> str:
    return "?" if kb is None else f"{kb / 1024:.1f} MB"


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def add_common_arguments(parser: Any) -> None:
    """--venv and --python, which every benchmark script takes."""
    parser.add_argument("--venv", type=Path, help="use this venv (ergo installed in it) instead of creating "
                        f"{DEFAULT_VENV}")
    parser.add_argument("--python", default=shutil.which("python3") or sys.executable,
                        help="the interpreter that creates the clean venv (default: python3 on PATH)")
    parser.add_argument("--no-reinstall", action="store_true", help="keep the clean venv's ergo as it is")
