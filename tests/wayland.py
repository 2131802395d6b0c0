"""A throwaway headless sway (a real wlroots compositor) for idle tests.

sway refuses to run as root, so it runs as a test user (`ergosw<pid>`: unique per run, created and removed here)
with its own XDG_RUNTIME_DIR. Root processes (the test, ergo, swayidle, wtype) reach its
Wayland socket by absolute path: WAYLAND_DISPLAY=/tmp/.../wayland-1.

    with headless_sway() as sway:
        env = {**os.environ, "WAYLAND_DISPLAY": sway.display}
        sway.type_key()   # real keyboard input through wtype (virtual keyboard): "active" again
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.desktop import require_tools
from tests.helpers import cannot_run

USER = f"ergosw{os.getpid()}"  # two suites on one machine never share (or delete) each other's user


@dataclass
class Sway:
    display: str  # absolute path of the Wayland socket
    runtime_dir: Path
    proc: subprocess.Popen[bytes]

    def env(self) -> dict[str, str]:
        """os.environ pointed at this compositor only (no X display, no session bus)."""
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
        env["WAYLAND_DISPLAY"] = self.display
        return env

    def msg(self, command: str) -> str:
        """A sway command through its IPC socket (swaymsg as root, reaching the socket by path)."""
        [ipc] = self.runtime_dir.glob("sway-ipc.*.sock")
        done = subprocess.run(["swaymsg", "-s", str(ipc), command], env=self.env(), capture_output=True, text=True,
                              timeout=10, check=False)
        assert done.returncode == 0, f"swaymsg {command!r}: {done.stdout}{done.stderr}"
        return done.stdout

    def type_key(self) -> None:
        """One real key press through the virtual-keyboard protocol: the seat sees activity."""
        subprocess.run(["wtype", "-k", "Shift_L"], env=self.env(), check=True, timeout=10, capture_output=True)


def require_sway() -> None:
    require_tools("sway", "swayidle", "wtype", "useradd", "userdel")
    if os.geteuid() != 0:
        cannot_run("headless sway runs as a separate test user, which needs root to create (useradd)")


@contextmanager
def headless_sway(timeout: float = 10.0) -> Iterator[Sway]:
    """Start sway with the headless backend as USER; always stop it and remove the user (on every exit path)."""
    require_sway()
    created = subprocess.run(["id", USER], capture_output=True).returncode != 0
    if created:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", USER], check=True, capture_output=True)
    try:
        with _sway_as_user(timeout) as sway:
            yield sway
    finally:
        if created:  # userdel refuses while any process of USER is left (even a zombie): give it a moment
            deadline = time.monotonic() + 5
            while subprocess.run(["userdel", USER], capture_output=True).returncode == 8 and time.monotonic() < deadline:
                time.sleep(0.1)


@contextmanager
def _sway_as_user(timeout: float) -> Iterator[Sway]:
    runtime = Path(tempfile.mkdtemp(prefix="ergo-sway-"))
    config = runtime.with_name(runtime.name + ".conf")
    log_path = runtime.with_name(runtime.name + ".log")
    proc = None
    try:
        os.chmod(runtime, 0o700)
        shutil.chown(runtime, USER)
        config.write_text("")
        os.chmod(config, 0o644)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(runtime), "XDG_RUNTIME_DIR": str(runtime),
               "WLR_BACKENDS": "headless", "WLR_LIBINPUT_NO_DEVICES": "1", "WLR_RENDERER": "pixman"}
        with open(log_path, "wb") as log:
            # sway is our own child, running as USER (no runuser in between), so we reap it and userdel finds nobody
            proc = subprocess.Popen([shutil.which("sway") or "sway", "-c", str(config)], stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL, cwd="/", env=env, user=USER, group=USER, extra_groups=[])
        deadline = time.monotonic() + timeout
        while True:
            sockets = [p for p in runtime.glob("wayland-*") if not p.name.endswith(".lock")]
            if sockets:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                text = log_path.read_text(errors="replace")[-2000:]
                raise AssertionError(f"headless sway did not start:\n{text}")
            time.sleep(0.05)
        yield Sway(str(sockets[0]), runtime, proc)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(runtime, ignore_errors=True)
        for leftover in (config, log_path):
            with suppress(FileNotFoundError):
                leftover.unlink()
