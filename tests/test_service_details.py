"""Login service details (issue 17, item 6): one way to start at login, honest notes, the tray extra,
the unit's Documentation=, and no empty folders left behind. (The tray extra's note is tested in
tests/test_packaging.py.)

Real files in a private XDG_CONFIG_HOME, real `desktop-file-validate` and `systemd-analyze verify`,
a real running daemon for the "ergo runs already" notes. systemctl talks to a user manager this
machine does not have, so its calls go to the recording stand-in of tests/test_service.py.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from ergo.commands import service as service_command
from ergo.service import render_systemd_unit
from ergo.service.files import project_url
from tests.daemon_helpers import Daemon, ErgoEnv
from tests.helpers import REPO
from tests.test_service import fake_systemctl, linux_only, parse_unit, recorded, user_home  # noqa: F401
from tests.test_service_xdg import validate


def _run(action: str, **flags: bool) -> str:
    out = io.StringIO()
    assert service_command.run(action, dry_run=False, config_path=None, out=out, **flags) == 0, out.getvalue()
    return out.getvalue()


@linux_only
def test_one_way_to_start_at_login_whichever_was_installed_first(
    user_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    calls = fake_systemctl(tmp_path, monkeypatch)
    units = user_home / "cfg" / "systemd" / "user"
    autostart = user_home / "cfg" / "autostart"
    _run("install", xdg=True)
    assert (autostart / "ergo.desktop").exists()
    validate(autostart / "ergo.desktop")
    switched = _run("install")  # systemd after --xdg: the entry goes, and the output says so
    assert (units / "ergo.service").exists() and not (autostart / "ergo.desktop").exists()
    assert "note: the XDG autostart entries from `ergo service install --xdg` go once systemd has the unit" in switched
    assert f"removed {autostart / 'ergo.desktop'}" in switched
    assert not autostart.exists(), "the autostart folder the --xdg install created goes with its entry"
    (units / "graphical-session.target.wants").mkdir()  # what `systemctl enable` made
    (units / "graphical-session.target.wants" / "ergo.service").symlink_to(units / "ergo.service")
    calls.unlink()
    back = _run("install", xdg=True)  # and --xdg after systemd: the unit is disabled and goes
    assert (autostart / "ergo.desktop").exists() and not (units / "ergo.service").exists()
    assert "note: the systemd units from `ergo service install` are disabled and removed" in back
    assert recorded(calls) == ["--user disable ergo.service", "--user daemon-reload"]
    assert not (user_home / "cfg" / "systemd").exists()
    status = io.StringIO()
    service_command.run("status", dry_run=False, config_path=None, out=status)
    assert status.getvalue().startswith(f"systemd unit: {units / 'ergo.service'} (absent)\n"), status.getvalue()
    assert "autostart file" not in status.getvalue()


@linux_only
def test_uninstall_removes_the_empty_folders_the_install_created_and_nothing_else(
    user_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    fake_systemctl(tmp_path, monkeypatch)
    cfg = user_home / "cfg"
    _run("install", xdg=True, tray=True)
    _run("install", xdg=True, tray=True)  # a reinstall keeps the record of what the first one created
    text = (cfg / "autostart" / "ergo.desktop").read_text()
    assert f"created (uninstall removes them when empty): {cfg / 'autostart'}, {cfg}" in text, text
    validate(cfg / "autostart" / "ergo.desktop")
    removed = _run("uninstall", xdg=True)
    assert f"removed the empty folder {cfg / 'autostart'}" in removed and not cfg.exists(), removed
    # a folder that was there before, or holds something of yours, stays
    (cfg / "autostart").mkdir(parents=True)
    mine = cfg / "autostart" / "mine.desktop"
    mine.write_text("[Desktop Entry]\n")
    _run("install", xdg=True)
    _run("uninstall")
    assert mine.exists() and (cfg / "autostart").is_dir()


@linux_only
def test_no_start_it_now_while_ergo_runs(make_env: Callable[..., ErgoEnv], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_systemctl(tmp_path, monkeypatch)
    env = make_env(POSTURE__INTERVAL="20m")
    env.env.update(XDG_CONFIG_HOME=str(env.root / "cfg"), HOME=str(env.root), PATH=os.environ["PATH"])
    before = env.cli("service", "install", "--xdg", "--dry-run")
    assert "to start it now, run: ergo start" in before.stdout, before.stdout
    with Daemon(env) as daemon:
        xdg = env.cli("service", "install", "--xdg", "--dry-run")
        assert xdg.returncode == 0, xdg.stderr
        assert "start it now" not in xdg.stdout
        assert f"note: ergo is running now (pid {daemon.pid}); from your next login it starts by itself" in xdg.stdout
        unit = env.cli("service", "install")
        assert unit.returncode == 0, unit.stderr
        assert f"ergo is running now (pid {daemon.pid}), started by hand: systemd starts it from your next login" in unit.stdout
    # no second ergo that would fail with "already running": enabled for the next login only
    assert recorded(calls) == ["--user daemon-reload", "--user enable ergo.service"]


def test_documentation_is_the_projects_own_url_or_none(tmp_path: Path) -> None:
    urls = tomllib.loads((REPO / "pyproject.toml").read_text())["project"].get("urls", {})
    assert project_url() == (urls.get("Documentation") or urls.get("Homepage"))
    for url in (project_url(), "https://example.org/ergo/docs/login-and-uninstall/"):
        text = render_systemd_unit("/usr/bin/python3", url=url)
        unit = parse_unit(text)
        assert unit["Unit"].get("Documentation") == url
        path = tmp_path / "ergo.service"
        path.write_text(text)
        done = subprocess.run(["systemd-analyze", "verify", "--user", str(path)], capture_output=True, text=True,
                              timeout=60)
        assert "Documentation" not in done.stderr, done.stderr


@linux_only
def test_a_failed_systemd_install_keeps_the_xdg_entry_that_works(
    user_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    fake_systemctl(tmp_path, monkeypatch, fail=True)  # no user manager here (a container, an SSH login)
    autostart = user_home / "cfg" / "autostart" / "ergo.desktop"
    _run("install", xdg=True)
    out = io.StringIO()
    assert service_command.run("install", dry_run=False, config_path=None, out=out) == 1
    assert autostart.exists(), "the way that works stays until the new one is in place: " + out.getvalue()
    assert f"removed {autostart}" not in out.getvalue()
