"""Checks on `ergo service`: the generated autostart files for Linux, macOS and Windows,
dry runs, and real installs against a stand-in systemctl (containers run no user systemd).

The macOS and Windows files are checked as text and parsed data: this machine cannot run
them. The systemd unit is also checked by `systemd-analyze verify` when that can run here.
"""

from __future__ import annotations

import configparser
import io
import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ergo.commands import service as service_command
from ergo.errors import AlreadyRunning, ConfigError, ErgoError
from ergo.service import (
    LABEL,
    current_platform,
    plan_install,
    plan_uninstall,
    render_launchd_plist,
    render_systemd_unit,
    render_windows_cmd,
    service_python,
    service_status,
)
from tests.helpers import cannot_run

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="drives the Linux (systemd) plan")


def parse_unit(text: str) -> configparser.ConfigParser:
    """Read a unit file's sections and keys (systemd units are INI-shaped enough for this)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(text)
    return parser


# --- the systemd unit ------------------------------------------------------


def test_unit_runs_the_given_python_without_config() -> None:
    unit = parse_unit(render_systemd_unit("/opt/venv/bin/python3"))
    assert unit["Service"]["ExecStart"] == "/opt/venv/bin/python3 -m ergo run"
    assert unit["Service"]["Type"] == "simple"
    assert unit["Service"]["Restart"] == "on-failure"
    assert unit["Service"]["RestartSec"] == "5"
    # what `ergo run` exits with when retrying cannot help: no relaunch every 5 s forever
    assert unit["Service"]["RestartPreventExitStatus"].split() == [str(AlreadyRunning.exit_code), str(ConfigError.exit_code)] == ["1", "2"]
    assert unit["Unit"]["After"] == "graphical-session.target"
    assert unit["Unit"]["PartOf"] == "graphical-session.target"
    assert unit["Unit"]["Description"] == "ergo ergonomics reminders"
    assert "Documentation" not in unit["Unit"]  # no URL handed in: no line at all
    assert unit["Install"]["WantedBy"] == "graphical-session.target"


def test_unit_adds_config_only_when_given_and_quotes_for_systemd() -> None:
    unit = parse_unit(render_systemd_unit("/opt/venv/bin/python3", Path("/home/u/ergo.toml")))
    assert unit["Service"]["ExecStart"] == "/opt/venv/bin/python3 -m ergo run --config /home/u/ergo.toml"

    odd = parse_unit(render_systemd_unit("/opt/my py/python", Path("/home/u/$HOME 100%/e.toml")))
    # Spaces quoted, % doubled (specifiers), $ doubled in arguments (variables).
    assert odd["Service"]["ExecStart"] == '"/opt/my py/python" -m ergo run --config "/home/u/$$HOME 100%%/e.toml"'


def test_unit_rejects_a_line_break_in_a_path() -> None:
    with pytest.raises(ErgoError, match="line break"):
        render_systemd_unit("/usr/bin/python3", Path("/tmp/a\nExecStartPre=/bin/evil"))


def _verify(unit_dir: Path, unit: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    # --user needs a runtime dir to initialise its (offline) manager, which containers lack.
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_COLOR": "0"}
    return subprocess.run(
        ["systemd-analyze", "verify", "--user", str(unit)],
        capture_output=True, text=True, env=env, cwd=unit_dir, timeout=60,
    )


@linux_only
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """The real interpreter, and the same one reached through a path with a space and "%h".

    An unescaped %h would expand to the home directory and verify would find no interpreter.
    """
    if shutil.which("systemd-analyze") is None:
        cannot_run("systemd-analyze is not installed (apt-get install systemd)")
    odd_dir = tmp_path / "my py %h"
    odd_dir.mkdir()
    (odd_dir / "python").symlink_to(sys.executable)
    config = tmp_path / "conf dir" / "ergo.toml"
    config.parent.mkdir()
    config.write_text("")

    checks = {"plain": (sys.executable, None), "quoted": (str(odd_dir / "python"), config)}
    for name, (python, config_path) in checks.items():
        unit_dir = tmp_path / name
        unit_dir.mkdir()
        unit = unit_dir / "ergo.service"
        unit.write_text(render_systemd_unit(python, config_path))
        done = _verify(unit_dir, unit, tmp_path)
        if "Failed to initialize manager" in done.stderr or "Failed to lookup" in done.stderr:
            cannot_run(f"systemd-analyze verify cannot run here: {done.stderr.strip().splitlines()[-1]}")
        complaints = [line for line in (done.stdout + done.stderr).splitlines() if "ergo" in line]
        assert done.returncode == 0 and not complaints, (name, done.stdout, done.stderr)

    # Negative control: verify does look at ExecStart, so the passes above mean something.
    broken_dir = tmp_path / "broken"
    broken_dir.mkdir()
    broken = broken_dir / "ergo.service"
    broken.write_text(render_systemd_unit(str(tmp_path / "no such python")))
    done = _verify(broken_dir, broken, tmp_path)
    assert done.returncode != 0 and "not executable" in done.stderr


# --- the macOS LaunchAgent and the Windows Startup entry (checked as data) --


def test_launchd_plist_parses_with_the_expected_keys() -> None:
    log = Path("/Users/u/Library/Logs/ergo/ergo.log")
    plist = plistlib.loads(render_launchd_plist("/usr/local/bin/python3", None, log).encode())
    assert plist["Label"] == LABEL == "io.github.ergo"
    assert plist["ProgramArguments"] == ["/usr/local/bin/python3", "-m", "ergo", "run"]
    assert plist["RunAtLoad"] is True
    # restart after a crash (a signal) only: exit 1 (already running) or 2 (bad config) must not loop
    assert plist["KeepAlive"] == {"Crashed": True}
    assert plist["StandardOutPath"] == plist["StandardErrorPath"] == str(log)


def test_launchd_plist_escapes_xml_in_paths() -> None:
    config = Path("/Users/u/a&b <c>/ergo.toml")
    plist = plistlib.loads(render_launchd_plist("/usr/bin/python3", config, Path("/tmp/l&g.log")).encode())
    assert plist["ProgramArguments"][-2:] == ["--config", str(config)]
    assert plist["StandardOutPath"] == "/tmp/l&g.log"


def test_launchd_plans_use_the_gui_domain(tmp_path: Path) -> None:
    log = tmp_path / "state" / "ergo.log"
    plan = plan_install("macos", python="/usr/bin/python3", log_file=log, env={}, home=tmp_path, uid=501)
    agent = tmp_path / "Library" / "LaunchAgents" / "io.github.ergo.plist"
    assert list(plan.write) == [agent]
    assert plan.commands == [["launchctl", "bootstrap", "gui/501", str(agent)]]
    assert plan.make_dirs == (log.parent,)  # launchd does not create the log's folder
    gone = plan_uninstall("macos", env={}, home=tmp_path, uid=501)
    assert gone.commands == [["launchctl", "bootout", "gui/501/io.github.ergo"]]


def test_windows_cmd_starts_the_daemon_minimised_with_crlf(tmp_path: Path) -> None:
    text = render_windows_cmd(r"C:\Users\Ana 100%\py\pythonw.exe")
    lines = text.split("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert lines[0] == "@echo off"
    assert r'start "" /min "C:\Users\Ana 100%%\py\pythonw.exe" -m ergo run' in lines
    with_config = render_windows_cmd(r"C:\py\pythonw.exe", Path("/cfg dir/ergo.toml"))
    assert r'start "" /min "C:\py\pythonw.exe" -m ergo run --config "/cfg dir/ergo.toml"' in with_config

    plan = plan_install("windows", python=r"C:\py\pythonw.exe", log_file=tmp_path / "l", env={"APPDATA": str(tmp_path)})
    assert list(plan.write) == [tmp_path / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup" / "ergo.cmd"]
    assert plan.commands == []


def test_windows_prefers_pythonw_beside_python(tmp_path: Path) -> None:
    python = tmp_path / "python.exe"
    python.write_text("")
    assert service_python("windows", str(python)) == str(python)
    (tmp_path / "pythonw.exe").write_text("")
    assert service_python("windows", str(python)) == str(tmp_path / "pythonw.exe")
    assert service_python("linux", str(python)) == str(python)


def test_platform_detection() -> None:
    assert current_platform("linux") == "linux"
    assert current_platform("darwin") == "macos"
    assert current_platform("win32") == "windows"
    with pytest.raises(ErgoError, match="freebsd"):
        current_platform("freebsd14")


# --- dry run and real runs against a stand-in systemctl ----------------------


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway HOME and XDG_CONFIG_HOME, so nothing touches the real user's files."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "cfg"))
    monkeypatch.setenv("ERGO_STATE_DIR", str(home / "state"))
    monkeypatch.delenv("ERGO_CONFIG", raising=False)
    return home


def fake_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, fail: bool = False) -> Path:
    """Put a stand-in for the user's systemd first on PATH; it records each call in the returned file.

    Healthy, it answers like an enabled, active service; failing, like a container with no user bus.
    """
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    calls = tmp_path / "systemctl-calls.txt"
    body = (
        'echo "Failed to connect to bus: No medium found" >&2\nexit 1\n'
        if fail
        else 'case "$2" in is-enabled) echo enabled;; is-active) echo active;; esac\nexit 0\n'
    )
    script = bin_dir / "systemctl"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{calls}"\n{body}')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return calls


def recorded(calls: Path) -> list[str]:
    return calls.read_text().splitlines() if calls.exists() else []


@linux_only
def test_dry_run_prints_the_plan_and_changes_nothing(
    user_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_systemctl(tmp_path, monkeypatch)
    out = io.StringIO()
    assert service_command.run("install", dry_run=True, config_path=None, out=out) == 0
    text = out.getvalue()
    unit = user_home / "cfg" / "systemd" / "user" / "ergo.service"
    assert f"would write {unit}:" in text
    assert f"ExecStart={sys.executable} -m ergo run" in text
    assert "would run: systemctl --user daemon-reload\nwould run: systemctl --user enable --now ergo.service" in text
    assert not (user_home / "cfg").exists()
    assert recorded(calls) == []


@linux_only
def test_install_then_uninstall_with_a_stand_in_systemctl(
    user_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_systemctl(tmp_path, monkeypatch)
    config = tmp_path / "my ergo.toml"
    config.write_text("")
    out = io.StringIO()
    assert service_command.run("install", dry_run=False, config_path=str(config), out=out) == 0
    unit = user_home / "cfg" / "systemd" / "user" / "ergo.service"
    assert parse_unit(unit.read_text())["Service"]["ExecStart"] == (
        f'{sys.executable} -m ergo run --config "{config}"'
    )
    assert recorded(calls) == ["--user daemon-reload", "--user enable --now ergo.service"]
    assert f"wrote {unit}" in out.getvalue()

    status = io.StringIO()
    assert service_command.run("status", dry_run=False, config_path=None, out=status) == 0
    assert status.getvalue() == f"systemd unit: {unit} (present)\nsystemd: enabled, active\n"

    calls.unlink()
    assert service_command.run("uninstall", dry_run=False, config_path=None, out=io.StringIO()) == 0
    assert not unit.exists()
    assert not (user_home / "cfg").exists(), "the folders the install created are gone again"
    assert recorded(calls) == ["--user disable --now ergo.service", "--user daemon-reload"]

    again = io.StringIO()
    assert service_command.run("uninstall", dry_run=False, config_path=None, out=again) == 0
    assert "nothing to remove" in again.getvalue()


@linux_only
def test_reinstall_with_a_changed_unit_restarts_the_running_service(
    user_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_systemctl(tmp_path, monkeypatch)
    assert service_command.run("install", dry_run=False, config_path=None, out=io.StringIO()) == 0
    config = tmp_path / "ergo.toml"
    config.write_text("")
    calls.unlink()
    assert service_command.run("install", dry_run=False, config_path=str(config), out=io.StringIO()) == 0
    assert recorded(calls)[-1] == "--user try-restart ergo.service"


@linux_only
def test_failing_systemctl_exits_1_with_one_line_and_keeps_the_unit(
    user_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_systemctl(tmp_path, monkeypatch, fail=True)
    out = io.StringIO()
    assert service_command.run("install", dry_run=False, config_path=None, out=out) == 1
    unit = user_home / "cfg" / "systemd" / "user" / "ergo.service"
    assert unit.is_file()
    errors = [line for line in out.getvalue().splitlines() if line.startswith("ergo:")]
    assert len(errors) == 1, out.getvalue()
    assert "`systemctl --user daemon-reload` failed (exit 1: Failed to connect to bus: No medium found)" in errors[0]
    assert f"{unit} is in place" in errors[0]
    assert "by hand" in errors[0] and "systemctl --user enable --now ergo.service" in errors[0]

    status = service_status("linux")
    assert status.splitlines()[1].startswith("systemd: no user service manager reachable")


@linux_only
def test_status_without_systemctl(
    user_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    lines = service_status("linux").splitlines()
    assert lines[0].endswith("(absent)")
    assert lines[1] == "systemd: cannot tell (systemctl not found on PATH)"


@linux_only
def test_bad_input_is_one_line_errors(user_home: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        service_command.run("install", dry_run=True, config_path=str(tmp_path / "missing.toml"), out=io.StringIO())
    with pytest.raises(ErgoError, match="unknown service action"):
        service_command.run("restart", dry_run=False, config_path=None, out=io.StringIO())


def test_ergo_config_in_the_shell_gets_a_note(tmp_path: Path) -> None:
    plan = plan_install("linux", python="/usr/bin/python3", log_file=tmp_path / "l",
                        env={"ERGO_CONFIG": "/x.toml", "XDG_CONFIG_HOME": str(tmp_path)})
    assert any("ERGO_CONFIG" in note for note in plan.notes)
