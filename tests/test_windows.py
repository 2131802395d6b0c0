"""Windows paths, tested on Linux: the control pipe transport, pythonw's missing console, plyer's balloon thread.

- The control transport for Windows is multiprocessing.connection; here the very same code runs over an
  AF_UNIX listener (ERGO_CONTROL_TRANSPORT=pipe), against the real daemon and in-process. Only the
  named-pipe address (AF_PIPE, `\\\\.\\pipe\\ergo-...`) is Windows-only, checked as data here and run
  for real in the GitHub Windows job.
- pythonw gives the process no sys.stderr/sys.stdout: the real daemon is started that way here.
- plyer shows a Windows balloon from a thread of its own; FakeWindowsBalloonPlyer (a FAKE of plyer on
  Windows) does the same, asynchronously, failing the way the real balloon fails.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ergo.control.client import request
from ergo.control.pipe import KEY_FILE, PipeControlServer, endpoint
from ergo.errors import ControlError, DaemonNotRunning, NotifyError
from ergo.notify.base import Notification
from ergo.notify.console import ConsoleNotifier
from ergo.notify.plyer import PlyerNotifier
from ergo.notify.select import FallbackNotifier
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for

POSTURE = Notification("posture", "Posture check", "Sit tall")


@pytest.fixture
def pipe_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's control client uses the pipe transport, as it does on Windows."""
    monkeypatch.setenv("ERGO_CONTROL_TRANSPORT", "pipe")


# --- the control transport ------------------------------------------------------------------------


def test_on_windows_the_endpoint_is_a_named_pipe_per_runtime_dir() -> None:
    family, address = endpoint(r"C:\Users\ana\AppData\Local\Temp\ergo-ana", "win32")
    assert family == "AF_PIPE" and address.startswith("\\\\.\\pipe\\ergo-") and len(address) == len("\\\\.\\pipe\\ergo-") + 16
    assert endpoint(r"C:\Users\ana\AppData\Local\Temp\ergo-ana", "win32") == (family, address)
    assert endpoint(r"C:\Users\bo\AppData\Local\Temp\ergo-bo", "win32")[1] != address
    assert endpoint("/run/user/1000/ergo", "linux") == ("AF_UNIX", "/run/user/1000/ergo/ergo.pipe")


@pytest.fixture
def pipe_server(tmp_path: Path, pipe_transport: None) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    runtime = Path(os.path.realpath(tmp_path)) / "run"
    if len(str(runtime)) > 90:
        import tempfile

        runtime = Path(tempfile.mkdtemp(prefix="e13p", dir="/tmp")) / "run"
    seen: list[dict[str, Any]] = []

    def handler(req: dict[str, Any]) -> dict[str, Any]:
        seen.append(req)
        if req["cmd"] == "boom":
            raise RuntimeError("handler bug")
        return {"ok": True, "echo": req}

    server = PipeControlServer(runtime / "ergo.sock", handler, housekeeping=lambda: None, period=0.05)
    server.start()
    try:
        yield runtime / "ergo.sock", seen
    finally:
        server.stop()


def test_pipe_round_trip_and_bad_requests_get_answers(pipe_server: tuple[Path, list[dict[str, Any]]]) -> None:
    sock, seen = pipe_server
    assert request(sock, "status", kind="posture") == {"ok": True, "echo": {"cmd": "status", "kind": "posture"}}
    with pytest.raises(ControlError, match="^boom: RuntimeError: handler bug$"):
        request(sock, "boom")
    from ergo.control.pipe import pipe_request

    assert json.loads(pipe_request(sock, b"not json\n", 5)) == {"ok": False, "error": "request is not valid JSON"}
    assert json.loads(pipe_request(sock, b"x" * 70000, 5))["error"] == "request larger than 65536 bytes"
    # Far larger than the connection's buffers: the daemon refuses it on its header while the body is still
    # being written (a broken pipe on the client's side), and the client still reads why.
    assert json.loads(pipe_request(sock, b"x" * 8_000_000, 5))["error"] == "request larger than 65536 bytes"
    assert [r["cmd"] for r in seen] == ["status", "boom"]
    key = sock.parent / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    assert not sock.exists(), "the pipe transport makes no Unix control socket"


def test_pipe_refuses_a_client_without_the_key_and_a_silent_client_stalls_nobody(
        pipe_server: tuple[Path, list[dict[str, Any]]]) -> None:
    from multiprocessing.connection import Client

    sock, seen = pipe_server
    family, address = endpoint(sock.parent)
    silent = Client(address, family=family)  # connects, never answers the challenge
    try:
        assert request(sock, "status")["ok"] is True  # served meanwhile
        key = sock.parent / KEY_FILE
        good = key.read_bytes()
        key.write_bytes(b"\0" * 32)  # a client holding the wrong key
        with pytest.raises(ControlError, match="did not accept this user's control key"):
            request(sock, "status")
        key.write_bytes(good)
        assert [r["cmd"] for r in seen] == ["status"]
    finally:
        silent.close()


def test_pipe_without_a_daemon_says_not_running(tmp_path: Path, pipe_transport: None) -> None:
    with pytest.raises(DaemonNotRunning):
        request(tmp_path / "ergo.sock", "status")


@pytest.mark.slow
def test_the_real_daemon_is_controlled_over_the_pipe_transport(make_env: Callable[..., ErgoEnv],
                                                                pipe_transport: None) -> None:
    env = make_env(POSTURE__INTERVAL="1h")
    env.env["ERGO_CONTROL_TRANSPORT"] = "pipe"
    with Daemon(env) as daemon:
        assert not env.socket.exists() and (env.runtime_dir / KEY_FILE).exists()
        status = env.cli("status")
        assert status.returncode == 0 and f"pid {daemon.pid}" in status.stdout, status.stderr
        assert env.cli("pause", "5m").returncode == 0
        assert env.status()["paused"] is True
        assert env.cli("stop").returncode == 0
        assert daemon.proc is not None and daemon.proc.wait(timeout=10) == 0
    assert "control pipe: " in daemon.stderr()
    assert not (env.runtime_dir / KEY_FILE).exists(), "the key goes with the daemon"


# --- pythonw: no console at all -----------------------------------------------------------------------

PYTHONW = "import sys; sys.stdout = sys.stderr = None; from ergo.cli import main; raise SystemExit(main(['run']))"


@pytest.mark.slow
def test_without_a_console_the_daemon_logs_and_prints_reminders_to_its_log_file(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(POSTURE__INTERVAL="1s")
    proc = subprocess.Popen([sys.executable, "-c", PYTHONW], env=env.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: env.log_file.exists() and "reminder posture delivered" in env.log_file.read_text(), 15,
                 what="the log file")
        text = env.log_file.read_text()
        assert f"started (pid {proc.pid})" in text
        assert "ergo · Posture check: " in text, "the console notifier's line goes to the log too"
        assert env.cli("stop").returncode == 0
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_without_a_console_a_bad_config_is_one_line_in_the_log_file_and_exit_2(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(POSTURE__INTERVAL="abc")
    done = subprocess.run([sys.executable, "-c", PYTHONW], env=env.env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and done.stdout == done.stderr == ""
    lines = [line for line in env.log_file.read_text().splitlines() if line.strip()]
    assert lines == ['ergo: ERGO_POSTURE__INTERVAL: "abc" is not a duration (try 45m or 1h30m)'], lines


# --- plyer's balloon thread -------------------------------------------------------------------------


class FakeWindowsBalloonPlyer(types.ModuleType):
    """FAKE plyer on Windows: like plyer.platforms.win.notification, notify() starts a thread that shows
    the balloon and then lives for its display time, or raises in that thread the way the real balloon
    does (e.g. "Shell_NotifyIconW failed."), where plyer's caller never sees it."""

    def __init__(self, error: Exception | None = None, fail_after: float = 0.02) -> None:
        super().__init__("plyer")
        self.error, self.fail_after = error, fail_after
        self.shown: list[dict[str, Any]] = []
        self.closed = threading.Event()
        self.notification = types.SimpleNamespace(notify=self._notify)

    def _notify(self, **kwargs: Any) -> None:
        threading.Thread(target=self._balloon, kwargs=kwargs, name="fake-balloon").start()

    def _balloon(self, **kwargs: Any) -> None:
        if self.error is not None:
            time.sleep(self.fail_after)
            raise self.error
        self.shown.append(kwargs)
        self.closed.wait(kwargs["timeout"])  # on screen for its display time


def test_a_balloon_that_fails_in_its_thread_is_a_notify_error_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWindowsBalloonPlyer(Exception("Shell_NotifyIconW failed."))
    monkeypatch.setitem(sys.modules, "plyer", fake)
    with pytest.raises(NotifyError, match=r"^plyer's Windows balloon failed: Exception: Shell_NotifyIconW failed\.$"):
        PlyerNotifier(platform="win32").send(POSTURE)
    import io

    out = io.StringIO()
    fallback = FallbackNotifier(PlyerNotifier(platform="win32"), ConsoleNotifier(out))
    fallback.send(POSTURE)
    assert "Posture check: Sit tall" in out.getvalue() and "Shell_NotifyIconW" in (fallback.last_error or "")


def test_a_balloon_on_screen_is_a_delivery_and_send_does_not_wait_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWindowsBalloonPlyer()
    monkeypatch.setitem(sys.modules, "plyer", fake)
    started = time.monotonic()
    hook = threading.excepthook
    try:
        PlyerNotifier(platform="win32", balloon_grace=0.3).send(POSTURE)
        assert time.monotonic() - started < 5  # the balloon stays 30 s; send returns after the grace
        assert fake.shown and fake.shown[0]["title"] == "Posture check"
        assert threading.excepthook is hook, "the exception hook is put back"
    finally:
        fake.closed.set()
