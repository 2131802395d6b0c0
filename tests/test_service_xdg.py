"""`ergo service install --xdg` and `--tray`: XDG autostart entries and the tray's systemd unit.

The entries are checked by Debian's `desktop-file-validate` and run with `gio launch`, which
executes Exec= the way GNOME's session starts autostart entries, so the quoting is tested by a
real implementation of the Desktop Entry spec and the daemon it starts answers.
"""

from __future__ import annotations

import configparser
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ergo.commands import service as service_command
from ergo.service import render_desktop_entry
from tests.daemon_helpers import ErgoEnv, wait_for
from tests.desktop import require_tools
from tests.test_service import fake_systemctl, linux_only, parse_unit, recorded, user_home  # noqa: F401


def entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser["Desktop Entry"]


def validate(path: Path) -> None:
    require_tools("desktop-file-validate")
    done = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


@linux_only
def test_install_xdg_writes_an_autostart_entry_that_starts_the_daemon(user_home: Path) -> None:  # noqa: F811
    out = io.StringIO()
    assert service_command.run("install", dry_run=False, config_path=None, out=out, xdg=True) == 0
    desktop = user_home / "cfg" / "autostart" / "ergo.desktop"
    assert f"wrote {desktop}" in out.getvalue()
    assert entry(desktop)["Exec"] == f"{sys.executable} -m ergo start"
    assert entry(desktop)["Type"] == "Application"
    validate(desktop)
    assert not (user_home / "cfg" / "systemd").exists()  # no systemd unit, no systemctl

    status = io.StringIO()
    service_command.run("status", dry_run=False, config_path=None, out=status)
    assert f"xdg autostart: {desktop} (present; runs: {sys.executable} -m ergo start)" in status.getvalue()

    # what a session manager does at login: GIO runs the entry's Exec line
    require_tools("gio")
    with ErgoEnv.create(POSTURE__INTERVAL="20m", HYDRATION__INTERVAL="30m") as env:
        subprocess.run(["gio", "launch", str(desktop)], env=env.env, check=True, timeout=20, capture_output=True)
        answer = wait_for(lambda: _status_or_none(env), timeout=20, what="the daemon started by the autostart entry")
        assert answer["running"] is True
        assert env.cli("stop").returncode == 0

    removed = io.StringIO()
    assert service_command.run("uninstall", dry_run=False, config_path=None, out=removed, xdg=True) == 0
    assert not desktop.exists() and f"removed {desktop}" in removed.getvalue()
    status = io.StringIO()
    service_command.run("status", dry_run=False, config_path=None, out=status)
    assert "xdg autostart" not in status.getvalue()


def _status_or_none(env: ErgoEnv) -> dict | None:
    try:
        return env.status()
    except Exception:
        time.sleep(0.1)
        return None


@linux_only
def test_exec_quoting_survives_spaces_dollars_and_percent_signs(tmp_path: Path) -> None:
    require_tools("gio")
    folder = tmp_path / "odd $dir"  # (GLib cannot find a program whose own path has a %; arguments may)
    folder.mkdir()
    script = folder / "py`x\"y"
    record = tmp_path / "argv"
    script.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "{record}"\n')
    script.chmod(0o755)
    desktop = tmp_path / "t.desktop"
    desktop.write_text(render_desktop_entry([str(script), "-m", "ergo", "start", "--config", f"{folder}/c 100%.toml"], "t", "a test entry"))
    validate(desktop)
    subprocess.run(["gio", "launch", str(desktop)], check=True, timeout=20, capture_output=True)
    wait_for(lambda: record.exists() and record.read_text().count("\n") == 5, timeout=10, what="the script to run")
    assert record.read_text().splitlines() == ["-m", "ergo", "start", "--config", f"{folder}/c 100%.toml"]


@linux_only
def test_uninstall_removes_systemd_units_and_xdg_entries_alike(
    user_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    calls = fake_systemctl(tmp_path, monkeypatch)
    units = user_home / "cfg" / "systemd" / "user"
    autostart = user_home / "cfg" / "autostart"
    assert service_command.run("install", dry_run=False, config_path=None, out=io.StringIO(), tray=True) == 0
    assert parse_unit((units / "ergo-tray.service").read_text())["Service"]["ExecStart"] == f"{sys.executable} -m ergo tray --wait 60"
    assert "--user enable --now ergo-tray.service" in recorded(calls)
    # entries a hand (or an older ergo) left beside the units: uninstall removes both kinds
    autostart.mkdir(parents=True)
    for name in ("ergo.desktop", "ergo-tray.desktop"):
        (autostart / name).write_text(render_desktop_entry([sys.executable, "-m", "ergo", "start"], "ergo", "left by hand"))
    validate(autostart / "ergo-tray.desktop")
    calls.unlink()
    assert service_command.run("uninstall", dry_run=False, config_path=None, out=io.StringIO()) == 0
    assert not units.exists(), "the folders the install created go once empty"
    assert sorted(os.listdir(autostart)) == []  # made by hand here: left in place, empty
    assert recorded(calls) == ["--user disable --now ergo.service", "--user disable --now ergo-tray.service",
                               "--user daemon-reload"]


@linux_only
def test_without_a_user_systemd_install_names_the_xdg_alternative(
    user_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    fake_systemctl(tmp_path, monkeypatch, fail=True)
    out = io.StringIO()
    assert service_command.run("install", dry_run=False, config_path=None, out=out) == 1
    [error] = [line for line in out.getvalue().splitlines() if line.startswith("ergo:")]
    assert "`ergo service install --xdg` starts ergo through XDG autostart instead" in error


@linux_only
def test_the_cli_takes_xdg_and_tray(user_home: Path) -> None:  # noqa: F811
    done = subprocess.run([sys.executable, "-m", "ergo", "service", "install", "--xdg", "--tray", "--dry-run"],
                          capture_output=True, text=True, check=False, env=os.environ.copy(), timeout=30)
    assert done.returncode == 0, done.stderr
    assert f"would write {user_home / 'cfg' / 'autostart' / 'ergo.desktop'}:" in done.stdout
    assert f"Exec={sys.executable} -m ergo tray --wait 60" in done.stdout
    assert not (user_home / "cfg").exists()
