"""A throwaway headless sway (a real wlroots compositor) for idle tests.

sway refuses to run as root, so it runs as a throwaway test user (tests/second_user.py: a name of its own,
removed on every exit path)
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
from tests.second_user import temporary_user


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

    def type_key(self) -> None:
        """One real key press through the virtual-keyboard protocol: the seat sees activity."""
        subprocess.run(["wtype", "-k", "Shift_L"], env=self.env(), check=True, timeout=10, capture_output=True)


def require_sway() -> None:
    require_tools("sway", "swayidle", "wtype", "useradd", "userdel")
    if os.geteuid() != 0:
        cannot_run("headless sway runs as a separate test user, which needs root to create (useradd)")


@contextmanager
def headless_sway(timeout: float = 10.0) -> Iterator[Sway]:
    """Start sway with the headless backend as a throwaway user; always stop it and remove the user."""
    require_sway()
    with temporary_user() as user:
        yield from _sway_as(user.pw_name, timeout)


def _sway_as(user: str, timeout: float) -> Iterator[Sway]:
    runtime = Path(tempfile.mkdtemp(prefix="ergo-sway-"))
    os.chmod(runtime, 0o700)
    shutil.chown(runtime, user)
    config = runtime.with_name(runtime.name + ".conf")
    config.write_text("")
    os.chmod(config, 0o644)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(runtime), "XDG_RUNTIME_DIR": str(runtime), "WLR_BACKENDS": "headless",
           "WLR_LIBINPUT_NO_DEVICES": "1", "WLR_RENDERER": "pixman"}
    log = open(runtime.with_name(runtime.name + ".log"), "wb")
    # sway is our own child, running as the user (no runuser in between), so we reap it and userdel finds nobody
    proc = subprocess.Popen([shutil.which("sway") or "sway", "-c", str(config)], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL, cwd="/", env=env, user=user, group=user, extra_groups=[])
    try:
        deadline = time.monotonic() + timeout
        while True:
            sockets = [p for p in runtime.glob("wayland-*") if not p.name.endswith(".lock")]
            if sockets:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                text = Path(log.name).read_text(errors="replace")[-2000:]
                raise AssertionError(f"headless sway did not start:\n{text}")
            time.sleep(0.05)
        yield Sway(str(sockets[0]), runtime, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(runtime, ignore_errors=True)
        for leftover in (config, Path(log.name)):
            with suppress(FileNotFoundError):
                leftover.unlink()
