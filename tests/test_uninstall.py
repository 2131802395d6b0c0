"""`ergo service uninstall` removes the unit even where no user systemd answers; `service status` is stable.

Runs the real `systemctl` of this machine with no reachable user manager (as in containers and CI:
exactly the situation of the report): ergo's environment gets an empty XDG_RUNTIME_DIR and no
session bus, so even on a machine with a live user manager the test never reaches it and never
enables a service in someone's real session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="systemd units are Linux only")


def ergo(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERGO_") or k == "ERGO_REQUIRE_DESKTOP"}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # no way to a user manager, even in a live session
    runtime = home / "run"
    runtime.mkdir(parents=True, mode=0o700, exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "cfg"), ERGO_STATE_DIR=str(home / "state"),
               XDG_RUNTIME_DIR=str(runtime))
    return subprocess.run([sys.executable, "-m", "ergo", *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=60)


def _user_manager_unreachable(home: Path) -> bool:
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["XDG_RUNTIME_DIR"] = str(home / "run")
    done = subprocess.run(["systemctl", "--user", "is-active", "ergo.service"], capture_output=True, text=True,
                          timeout=20, env=env)
    return not done.stdout.strip() and ("bus" in done.stderr.lower() or "connect" in done.stderr.lower())


def test_uninstall_removes_the_unit_when_systemctl_user_is_unreachable(tmp_path: Path) -> None:
    if shutil.which("systemctl") is None:
        if os.environ.get("ERGO_REQUIRE_DESKTOP") == "1":
            pytest.fail("systemctl is missing (install the systemd package; .ci/run does)")
        pytest.skip("systemctl is not installed")
    home = tmp_path / "home"
    unit = home / "cfg" / "systemd" / "user" / "ergo.service"
    installed = ergo(["service", "install"], home)
    assert _user_manager_unreachable(home), "the test's environment reaches a user manager"
    assert installed.returncode == 1 and unit.is_file(), installed.stdout + installed.stderr
    link = unit.parent / "graphical-session.target.wants" / "ergo.service"  # as `systemctl enable` would have made it
    link.parent.mkdir()
    link.symlink_to(unit)

    first, second = ergo(["service", "status"], home), ergo(["service", "status"], home)
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout  # the same answer each time
    assert first.stdout.splitlines() == [f"systemd unit: {unit} (present)", first.stdout.splitlines()[1]]
    assert first.stdout.splitlines()[1].startswith("systemd: no user service manager reachable")

    removed = ergo(["service", "uninstall"], home)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert not unit.exists() and not link.is_symlink()
    assert f"removed {unit}" in removed.stdout and "(failed, ignored:" in removed.stdout
    after = [ergo(["service", "status"], home).stdout for _ in range(2)]
    assert after[0] == after[1] and after[0].startswith(f"systemd unit: {unit} (absent)")
    assert not (home / "cfg").exists(), "uninstall leaves no empty folder the install created"
    again = ergo(["service", "uninstall"], home)
    assert again.returncode == 0 and "nothing to remove" in again.stdout
