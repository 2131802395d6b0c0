"""`ergo service install | uninstall | status [--dry-run]`: the thin adapter over ergo.service.

Takes typed parameters, never the argparse namespace; errors leave as ErgoError.
"""

from __future__ import annotations

from dataclasses import replace
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
    paths = Paths.resolve(config_path)
    running = running_pid(paths.lock_file)
    config: Path | None = None
    if config_path is not None:
        config = paths.config_file
        if not config.is_file():
            # A service pointed at a missing file would fail and restart forever.
            raise ConfigError(f"--config {config}: no such file; create it first or leave --config out")
    if xdg:
        plan = plan_install_xdg(python=service_python(platform), config_path=config, tray=tray, running=running)
    else:
        plan = plan_install(platform, python=service_python(platform), config_path=config, log_file=paths.log_file, tray=tray,
                            running=running)
    if tray and (note := tray_extra_note()):
        plan = replace(plan, notes=(*plan.notes, note))
    return apply(plan, dry_run=dry_run, out=out)


def tray_extra_note() -> str | None:
    """A note when the tray will start without python-xlib (fine for StatusNotifierItem panels, not for X11 trays)."""
    try:
        import Xlib  # noqa: F401  (what the tray's XEmbed front end imports)
    except ImportError:
        pass
    else:
        return None
    from ergo.distribution import extra_hint

    return f"python-xlib is missing: the tray shows only in StatusNotifierItem panels; for an X11 system tray add it: {extra_hint('tray')}"
