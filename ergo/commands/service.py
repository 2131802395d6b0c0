"""`ergo service install | uninstall | status [--dry-run]`: the thin adapter over ergo.service.

Takes typed parameters, never the argparse namespace; errors leave as ErgoError.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from ergo.daemon.instance import running_pid
from ergo.errors import ConfigError, ErgoError
from ergo.paths import Paths
from ergo.service import (
    apply,
    current_platform,
    plan_install,
    plan_install_xdg,
    plan_uninstall,
    plan_uninstall_xdg,
    service_python,
    service_status,
)

ACTIONS = ("install", "uninstall", "status")


def run(action: str, *, dry_run: bool, config_path: str | None, out: TextIO, xdg: bool = False, tray: bool = False) -> int:
    """Install, remove or describe autostart for this user on this OS; returns the exit code.

    `xdg`: XDG autostart entries instead of systemd (Linux); `tray`: also start `ergo tray`.
    """
    if action not in ACTIONS:
        raise ErgoError(f"unknown service action {action!r}; use one of: {', '.join(ACTIONS)}")
    platform = current_platform()
    if xdg and platform != "linux":
        raise ErgoError("--xdg (XDG autostart) is for Linux desktops; leave it out here")
    if tray and platform != "linux":
        raise ErgoError("--tray is for Linux desktops for now; start `ergo tray` from your login items instead")
    if action == "status":
        out.write(service_status(platform) + "\n")
        return 0
    if action == "uninstall":
        return apply(plan_uninstall_xdg() if xdg else plan_uninstall(platform), dry_run=dry_run, out=out)
    if tray:
        _require_tray_extra()
    paths = Paths.resolve(config_path)
    running = running_pid(paths.lock_file)
    config: Path | None = None
    if config_path is not None:
        config = paths.config_file
        if not config.is_file():
            # A service pointed at a missing file would fail and restart forever.
            raise ConfigError(f"--config {config}: no such file; create it first or leave --config out")
    if xdg:
        return apply(plan_install_xdg(python=service_python(platform), config_path=config, tray=tray, running=running),
                     dry_run=dry_run, out=out)
    plan = plan_install(platform, python=service_python(platform), config_path=config, log_file=paths.log_file, tray=tray,
                        running=running)
    return apply(plan, dry_run=dry_run, out=out)


def _require_tray_extra() -> None:
    """`--tray` starts `ergo tray` with this Python: refuse when the tray extra (python-xlib) is missing from it."""
    import importlib.util
    import sys

    if importlib.util.find_spec("Xlib") is None:
        raise ErgoError(f"--tray: the tray extra is not installed for {sys.executable}: "
                        "pip install 'ergo[tray]' (or pipx install 'ergo[tray]'), then install again")
