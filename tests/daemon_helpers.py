"""Helpers for tests that run the real daemon: an isolated environment and a `Daemon` subprocess handle.

    with ErgoEnv.create(POSTURE__INTERVAL="2s") as env:    # private config/state/runtime dirs
        with Daemon(env) as daemon:                          # `python -m ergo run`, waits until it answers
            daemon.status()["reminders"]["posture"]["next_due"]
            env.cli("pause", "2s")                           # the real CLI, as a user types it
            assert daemon.terminate() == 0

Every environment removes the caller's ERGO_* settings (ERGO_REQUIRE_DESKTOP aside) and, unless a
desktop is handed in, DBUS_SESSION_BUS_ADDRESS/DISPLAY, so nothing of the user's session leaks in.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from ergo.control.client import request
from ergo.errors import ErgoError
from ergo.daemon.instance import running_pid
from tests.helpers import isolated_env

#: second-scale defaults: two reminders, console delivery, no idle detection
FAST = {
    "POSTURE__INTERVAL": "2s",
    "HYDRATION__INTERVAL": "3s",
    "STRETCH__ENABLED": "false",
    "MOVEMENT__ENABLED": "false",
    "MERGE_WINDOW": "0.2s",
    "NOTIFIER": "console",
    "IDLE__BACKEND": "none",
}


@dataclass
class ErgoEnv:
    """A private ergo world: config file, state dir and a short runtime dir (unix socket paths stay < 100 bytes)."""

    root: Path
    env: dict[str, str]
    started: list[int] = field(default_factory=list)  # pids of detached daemons (`ergo start`) to kill at the end

    @classmethod
    def create(cls, desktop_env: Mapping[str, str] | None = None, **settings: str | None) -> ErgoEnv:
        """`settings` are ERGO_ variables without the prefix (None removes a FAST default)."""
        root = Path(tempfile.mkdtemp(prefix="e", dir="/tmp"))
        base = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY")}
        base.update(desktop_env or {})
        env = isolated_env(root, base, **{k: v for k, v in {**FAST, **settings}.items() if v is not None})
        env["PYTHONUNBUFFERED"] = "1"
        return cls(root, env)

    # --- locations --------------------------------------------------------------

    @property
    def config(self) -> Path:
        return Path(self.env["ERGO_CONFIG"])

    @property
    def state_dir(self) -> Path:
        return Path(self.env["ERGO_STATE_DIR"])

    @property
    def runtime_dir(self) -> Path:
        return Path(self.env["ERGO_RUNTIME_DIR"])

    @property
    def socket(self) -> Path:
        return self.runtime_dir / "ergo.sock"

    @property
    def lock(self) -> Path:
        return self.runtime_dir / "ergo.lock"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "ergo.log"

    # --- talking to ergo -----------------------------------------------------------

    def cli(self, *args: str, timeout: float = 90.0) -> subprocess.CompletedProcess[str]:
        """`python -m ergo ARGS` in this environment, output captured as text. The timeout only stops a hang:
        it is longer than `ergo start`'s own 60 s wait, since a loaded machine can take that long."""
        return subprocess.run([sys.executable, "-m", "ergo", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)

    def request(self, command: str, timeout: float = 5.0, **arguments: Any) -> dict[str, Any]:
        """One control request in-process (fast); raises ErgoError subclasses like the CLI sees them."""
        return request(self.socket, command, timeout=timeout, **arguments)

    def status(self) -> dict[str, Any]:
        return self.request("status")

    def raw(self, data: bytes, timeout: float = 5.0, half_close: bool = True) -> bytes:
        """Send raw bytes to the control socket and return everything the daemon answers."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(timeout)
            client.connect(str(self.socket))
            with suppress(BrokenPipeError, ConnectionResetError):
                client.sendall(data)
                if half_close:
                    client.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                try:
                    chunk = client.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)

    def history(self) -> list[dict[str, Any]]:
        done = self.cli("history", "--json")
        assert done.returncode == 0, done.stderr
        if done.stdout.strip() == "no history yet":
            return []
        return json.loads(done.stdout)

    def history_all(self) -> list[dict[str, Any]]:
        """Every raw history row, however old, read from the state file (read-only)."""
        from datetime import timezone

        from ergo.records.store import Store

        if not (self.state_dir / "state.sqlite3").exists():
            return []
        store = Store(self.state_dir / "state.sqlite3", read_only=True)
        try:
            rows = store.history(datetime(1970, 1, 2, tzinfo=timezone.utc), limit=1_000_000)
        finally:
            store.close()
        return [{"at": r.at.isoformat(), "kind": r.kind, "event": r.event, "detail": r.detail} for r in rows]

    def deliveries(self) -> list[tuple[datetime, str]]:
        """(at, kind) of every delivery in the history, oldest first."""
        return [(datetime.fromisoformat(r["at"]), r["kind"]) for r in self.history() if r["event"] == "delivered"]

    def db_deliveries(self) -> list[tuple[datetime, str]]:
        """Like `deliveries`, read straight from the state file (read-only, no subprocess: fast enough to poll)."""
        import sqlite3

        path = self.state_dir / "state.sqlite3"
        if not path.exists():
            return []
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
        try:
            rows = db.execute("SELECT at, kind FROM history WHERE event = 'delivered' ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # not created yet
            return []
        finally:
            db.close()
        return [(datetime.fromisoformat(at), kind) for at, kind in rows]

    def write_config(self, text: str) -> None:
        """Replace the config file atomically, the way editors save."""
        tmp = self.config.with_name(".config.toml.tmp")
        tmp.write_text(text)
        tmp.replace(self.config)

    def daemon_pid(self) -> int | None:
        return running_pid(self.lock)

    def cleanup(self) -> None:
        pid = self.daemon_pid()
        for candidate in {*self.started, *([pid] if pid else [])}:
            with suppress(ProcessLookupError):
                os.kill(candidate, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def pid_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (a detached daemon nobody reaps in a container) counts as gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def delivered_kinds(log_text: str) -> list[str]:
    """Kinds in the order of their `ergo: reminder KIND delivered via ...` log lines."""
    kinds = []
    marker = " ergo: reminder "
    for line in log_text.splitlines():
        if marker in line and " delivered via " in line:
            kinds.append(line.split(marker, 1)[1].split(" ", 1)[0])
    return kinds


def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value!r} has no time zone"
    return parsed


def wait_for(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; return that, or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class Daemon:
    """`python -m ergo run` as a child process; output captured to files; killed at teardown whatever happens."""

    def __init__(self, env: ErgoEnv, *args: str, wait: bool = True, name: str = "run") -> None:
        self.env = env
        self.args = args
        self.wait = wait
        self.stdout_path = env.root / f"{name}.stdout"
        self.stderr_path = env.root / f"{name}.stderr"
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()

    def start(self) -> Daemon:
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "ergo", "run", *self.args], env=self.env.env,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err, text=True)
        if self.wait:
            self.wait_ready()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait_ready(self, timeout: float = 30.0) -> dict[str, Any]:
        """Poll `status` every 50 ms until this very process answers (a start takes well under a second on a
        quiet machine, and up to 10 s at a load of 4 on 2 cores: the wait ends as soon as it answers)."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"ergo run exited with {self.proc.returncode} before answering:\n{self.stderr()}")
            try:
                answer = self.env.status()
                if answer.get("pid") == self.proc.pid:
                    return answer
            except ErgoError:
                pass
            if time.monotonic() >= deadline:
                raise AssertionError(f"ergo run did not answer within {timeout:g} s:\n{self.stderr()}")
            time.sleep(0.05)

    def status(self) -> dict[str, Any]:
        return self.env.status()

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def stdout_lines(self) -> list[str]:
        return [line for line in self.stdout().splitlines() if line.strip()]

    def log_lines(self) -> list[str]:
        return [line for line in self.stderr().splitlines() if line.strip()]

    def reminder_lines(self) -> list[str]:
        """The console reminders (stdout lines in the console notifier's format)."""
        return [line for line in self.stdout_lines() if " ergo · " in line]

    def delivered(self) -> list[str]:
        """Kinds in the order their `reminder KIND delivered via ...` log lines appear."""
        return delivered_kinds(self.stderr())

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def terminate(self, signum: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send `signum` and return the exit code (waits up to `timeout` s)."""
        assert self.proc is not None
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
