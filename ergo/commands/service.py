"""`ergo service install | uninstall | status [--dry-run]`: the thin adapter over ergo.service.

Takes typed parameters, never the argparse namespace; errors leave as ErgoError.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from ergo.errors import ConfigError, ErgoError
from ergo.paths import Paths
from ergo.service import apply, current_platform, plan_install, plan_uninstall, service_python, service_status

ACTIONS = ("install", "uninstall", "status")


def run(action: str, *, dry_run: bool, config_path: str | None, out: TextIO) -> int:
    """Install, remove or describe autostart for this user on this OS; returns the exit code."""
    if action not in ACTIONS:
        raise ErgoError(f"unknown service action {action!r}; use one of: {', '.join(ACTIONS)}")
    platform = current_platform()
    if action == "status":
        out.write(service_status(platform) + "\n")
        return 0
    if action == "uninstall":
        return apply(plan_uninstall(platform), dry_run=dry_run, out=out)
    paths = Paths.resolve(config_path)
    config: Path | None = None
    if config_path is not None:
        config = paths.config_file
        if not config.is_file():
            # A service pointed at a missing file would fail and restart forever.
            raise ConfigError(f"--config {config}: no such file; create it first or leave --config out")
    plan = plan_install(platform, python=service_python(platform), config_path=config, log_file=paths.log_file)
    return apply(plan, dry_run=dry_run, out=out)
