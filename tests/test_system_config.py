"""The system-wide config layer: $XDG_CONFIG_DIRS/ergo/config.toml under the user's file, locks, reload.

Every test uses a real temporary XDG_CONFIG_DIRS; the reload test runs the real daemon.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ergo.errors import ConfigError
from ergo.paths import Paths, system_config_file
from ergo.config.load import load_settings
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.second_user import run_as, second_user  # noqa: F401
from tests.helpers import ergo_env, run_ergo  # noqa: F401

SYSTEM = '[hydration]\ninterval = "20m"\n\n[posture]\ninterval = "25m"\n\n[stretch]\ninterval = "2h"\n\n[schedule]\ndays = "mon-fri"\n'


def system_dir(root: Path, text: str) -> Path:
    """A system config under root/xdg/ergo/config.toml, and XDG_CONFIG_DIRS pointing at it."""
    path = root / "xdg" / "ergo" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def test_system_file_is_found_through_xdg_config_dirs_first_existing_wins(tmp_path: Path, monkeypatch) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    (second / "ergo").mkdir(parents=True)
    (second / "ergo" / "config.toml").write_text("", "utf-8")
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"{first}:{second}")
    assert system_config_file() == second / "ergo" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"{first}:relative/ignored")
    assert system_config_file() == first / "ergo" / "config.toml"  # none exists: the first, for watching
    monkeypatch.delenv("XDG_CONFIG_DIRS")
    assert system_config_file() == Path("/etc/xdg/ergo/config.toml")
    assert Paths.resolve().system_config_file == Path("/etc/xdg/ergo/config.toml")


def test_a_config_dir_that_cannot_be_searched_is_passed_over_not_a_crash(tmp_path: Path, monkeypatch) -> None:
    """A folder in XDG_CONFIG_DIRS that stat refuses (EACCES for a normal user; a name too long
    here, since root may enter anything) is "no system file there", not a traceback."""
    real = tmp_path / "real"
    (real / "ergo").mkdir(parents=True)
    (real / "ergo" / "config.toml").write_text("", "utf-8")
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"/{'x' * 300}:{real}")
    assert system_config_file() == real / "ergo" / "config.toml"


def test_precedence_flags_env_user_system_defaults_with_each_layer_named(ergo_env, tmp_path: Path, monkeypatch) -> None:
    system = system_dir(tmp_path, SYSTEM)
    user = tmp_path / "config.toml"
    user.write_text('[hydration]\ninterval = "30m"\n\n[posture]\ninterval = "15m"\n', "utf-8")
    monkeypatch.setenv("ERGO_POSTURE__INTERVAL", "12m")
    loaded = load_settings(user, {"stretch": {"interval": "90m"}})
    s, origins = loaded.settings, loaded.origins
    assert s.stretch.interval == timedelta(minutes=90) and origins["stretch.interval"] == "flag"
    assert s.posture.interval == timedelta(minutes=12) and origins["posture.interval"] == "env ERGO_POSTURE__INTERVAL"
    assert s.hydration.interval == timedelta(minutes=30) and origins["hydration.interval"] == f"file {user}"
    assert s.schedule.days == "mon-fri" and origins["schedule.days"] == f"system file {system}"
    assert s.movement.interval == timedelta(minutes=50) and origins["movement.interval"] == "default"
    assert loaded.system_file == system and loaded.system_exists and loaded.notices == []


def test_locked_keys_keep_the_system_value_and_each_attempt_gets_one_line(ergo_env, tmp_path: Path, monkeypatch) -> None:
    system = system_dir(tmp_path, SYSTEM + '\n[policy]\nlocked = ["hydration.interval", "idle"]\n')
    user = tmp_path / "config.toml"
    user.write_text('[hydration]\ninterval = "5m"\n\n[idle]\naway_after = "10m"\n', "utf-8")
    monkeypatch.setenv("ERGO_IDLE__BACKEND", "none")
    loaded = load_settings(user, {"hydration": {"interval": "1m"}})
    assert loaded.settings.hydration.interval == timedelta(minutes=20)
    assert loaded.settings.idle.away_after == timedelta(minutes=3)  # locked to the built-in default
    assert loaded.settings.idle.backend == "auto"
    assert loaded.origins["hydration.interval"] == f"system file {system} (locked)"
    assert set(loaded.locked) == {"hydration.interval", "idle.backend", "idle.away_after"}
    assert all("\n" not in n and f"locked by {system}" in n for n in loaded.notices)
    assert any(n.startswith(f"{user}: hydration.interval:") for n in loaded.notices)
    assert any(n.startswith(f"{user}: idle.away_after:") for n in loaded.notices)
    assert any(n.startswith("ERGO_IDLE__BACKEND:") for n in loaded.notices)
    assert any(n.startswith("--set hydration.interval:") for n in loaded.notices)
    assert len(loaded.notices) == 4


@pytest.mark.parametrize(
    ("system_text", "user_text", "fragments"),
    [
        ('[policy]\nlocked = ["hydration.intervall"]\n', "", ("policy.locked", '"hydration.intervall" is not a setting', "did you mean")),
        ('[policy]\nlocked = "hydration.interval"\n', "", ("policy.locked: must be a list",)),
        ('[policy]\nlock = []\n', "", ("policy.lock: unknown key",)),
        ('[hydration]\ninterval = "abc"\n', "", ("hydration.interval", '"abc" is not a duration')),
        ('[hydratoin]\ninterval = "5m"\n', "", ('unknown key "hydratoin"',)),
        ("", '[policy]\nlocked = ["notifier"]\n', ("policy", "read only from the system-wide file")),
    ],
)
def test_bad_system_files_and_a_policy_in_the_user_file_are_one_line(ergo_env, tmp_path: Path, system_text, user_text, fragments) -> None:
    """A policy in the user's file is the user's to fix: refused. A broken system file is nobody's the
    user can fix: left out whole (locks included), with one notice naming it and what is wrong."""
    system = system_dir(tmp_path, system_text)
    user = tmp_path / "config.toml"
    user.write_text(user_text or '[posture]\ninterval = "17m"\n', "utf-8")
    if user_text:
        with pytest.raises(ConfigError) as caught:
            load_settings(user)
        message = str(caught.value)
        assert "\n" not in message and caught.value.exit_code == 2
    else:
        loaded = load_settings(user)
        assert loaded.settings.posture.interval == timedelta(minutes=17) and loaded.locked == ()
        assert loaded.settings.hydration.interval == timedelta(minutes=45)  # the system's value is not half-applied
        assert len(loaded.notices) == 1 and loaded.notices[0].startswith("system-wide file ignored, your own settings apply: ")
        message = loaded.notices[0]
    assert str(user if user_text else system) in message
    for fragment in fragments:
        assert fragment in message, message


def test_config_show_and_validate_name_the_layers(ergo_env, tmp_path: Path) -> None:
    system = system_dir(tmp_path, SYSTEM + '\n[policy]\nlocked = ["hydration.interval"]\n')
    user = Path(ergo_env["ERGO_CONFIG"])
    user.write_text('[hydration]\ninterval = "5m"\n[posture]\ninterval = "10m"\n', "utf-8")
    shown = run_ergo(["config", "show"], ergo_env)
    assert shown.returncode == 0, shown.stderr
    rows = {line.split()[0]: line for line in shown.stdout.splitlines() if not line.startswith("#")}
    assert rows["hydration.interval"].endswith(f"# system file {system} (locked)") and '"20m"' in rows["hydration.interval"]
    assert rows["posture.interval"].endswith(f"# file {user}") and '"10m"' in rows["posture.interval"]
    assert rows["schedule.days"].endswith(f"# system file {system}")
    assert rows["movement.interval"].endswith("# default")
    assert f"# system-wide file: {system}" in shown.stdout
    assert shown.stderr.strip() == f"ergo: {user}: hydration.interval: locked by {system}: your value is ignored (ask whoever manages this computer)"
    checked = run_ergo(["config", "validate", str(system)], ergo_env)
    assert checked.returncode == 0 and f"{system}: ok" in checked.stdout, checked.stderr
    system.write_text('[policy]\nlocked = ["nope"]\n', "utf-8")
    mine = run_ergo(["config", "validate"], ergo_env)  # the user's file is fine; the broken system file is named
    assert mine.returncode == 0 and f"{user}: ok" in mine.stdout
    assert mine.stderr.startswith(f"ergo: system-wide file ignored, your own settings apply: {system}: policy.locked")
    refused = run_ergo(["config", "validate", str(system)], ergo_env)  # the admin's check
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1 and str(system) in refused.stderr
    assert '"nope" is not a setting' in refused.stderr


@pytest.mark.slow
def test_the_running_daemon_reloads_when_an_admin_creates_and_edits_the_system_file() -> None:
    with ErgoEnv.create(POSTURE__INTERVAL=None, HYDRATION__INTERVAL=None) as env:
        xdg = Path(env.env["XDG_CONFIG_DIRS"])
        xdg.mkdir(parents=True)  # /etc/xdg exists; its ergo/ folder does not yet
        with Daemon(env) as daemon:
            assert daemon.status()["reminders"]["hydration"]["interval"] == "45m"
            system = xdg / "ergo" / "config.toml"
            assert not system.parent.exists()  # the user's daemon watches /etc/xdg, never creates its ergo/
            system.parent.mkdir()
            tmp = system.with_name("config.toml.new")
            tmp.write_text('[hydration]\ninterval = "11m"\n', "utf-8")
            os.replace(tmp, system)  # an admin's tool saves atomically
            wait_for(lambda: daemon.status()["reminders"]["hydration"]["interval"] == "11m", 5, what="reload of the new system file")
            assert daemon.status()["system_config_file"] == str(system)
            system.write_text('[hydration]\ninterval = "12m"\n\n[policy]\nlocked = ["hydration.interval"]\n', "utf-8")
            wait_for(lambda: daemon.status()["reminders"]["hydration"]["interval"] == "12m", 5, what="reload of the edit")
            env.write_config('[hydration]\ninterval = "2m"\n')  # the user's file cannot change a locked key
            wait_for(lambda: "locked by" in daemon.stderr(), 5, what="the lock notice in the log")
            assert daemon.status()["reminders"]["hydration"]["interval"] == "12m"
            assert daemon.status()["config_notices"] == [
                f"{env.config}: hydration.interval: locked by {system}: your value is ignored (ask whoever manages this computer)"]
            assert f"note: {env.config}: hydration.interval: locked by {system}" in env.cli("status").stdout
            assert daemon.alive()


def test_a_locked_schedule_locks_every_reminders_own_hours_and_days(ergo_env, tmp_path: Path) -> None:
    """A per-kind `hours` replaces the schedule's window for that kind: a lock on `schedule` that left
    them open would be no lock. Each kind follows the system file's value (unset: the schedule's)."""
    system = system_dir(tmp_path, '[schedule]\ndays = "mon-fri"\nhours = "09:00-17:00"\n[stretch]\nhours = "10:00-11:00"\n'
                                  '\n[policy]\nlocked = ["schedule"]\n')
    user = Path(ergo_env["ERGO_CONFIG"])
    user.write_text('[posture]\nhours = "00:00-24:00"\ndays = "mon-sun"\n[stretch]\nhours = "20:00-23:00"\n', "utf-8")
    loaded = load_settings(user)
    s = loaded.settings
    assert (s.posture.hours, s.posture.days) == (None, None)  # back to the schedule's 09:00-17:00 mon-fri
    assert s.stretch.hours == "10:00-11:00"  # the system file's own per-kind value
    assert {"schedule.hours", "posture.hours", "stretch.days", "movement.hours"} <= set(loaded.locked)
    assert sorted(n.split(": ")[1] for n in loaded.notices) == ["posture.days", "posture.hours", "stretch.hours"]
    shown = run_ergo(["config", "show"], ergo_env)
    rows = {line.split()[0]: line for line in shown.stdout.splitlines() if not line.startswith("#")}
    assert rows["posture.hours"].endswith(f"# system file {system} (locked)")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


@pytest.mark.parametrize("damage", ["fifo", "directory", "too big", "not toml", "bad value", "bad lock"])
def test_any_broken_system_file_is_left_out_with_one_notice(ergo_env, tmp_path: Path, damage: str) -> None:
    system = tmp_path / "xdg" / "ergo" / "config.toml"
    system.parent.mkdir(parents=True)
    {"fifo": lambda: os.mkfifo(system), "directory": lambda: system.mkdir(),
     "too big": lambda: system.write_text("# " + "x" * (1 << 20) + "\n"), "not toml": lambda: system.write_text("[[[\n"),
     "bad value": lambda: system.write_text('[hydration]\ninterval = "48h"\n[policy]\nlocked = ["hydration"]\n'),
     "bad lock": lambda: system.write_text('[policy]\nlocked = ["hydration.intervall"]\n')}[damage]()
    user = Path(ergo_env["ERGO_CONFIG"])
    user.write_text('[hydration]\ninterval = "33m"\n', "utf-8")
    loaded = load_settings(user)  # never blocks on the FIFO, never raises
    assert loaded.settings.hydration.interval == timedelta(minutes=33) and loaded.locked == ()
    assert len(loaded.notices) == 1 and str(system) in loaded.notices[0] and "\n" not in loaded.notices[0]
    assert loaded.notices[0].startswith("system-wide file ignored, your own settings apply:")


def test_a_system_file_the_user_cannot_read_is_left_out(second_user) -> None:
    """Real permissions: root's 0600 system file, read by a second uid (in a /tmp dir it may enter)."""
    tmp_path = Path(tempfile.mkdtemp(prefix="ergo-sys-"))
    try:
        _unreadable(tmp_path, second_user)
    finally:
        shutil.rmtree(tmp_path)


def _unreadable(tmp_path: Path, second_user: Any) -> None:
    system = tmp_path / "xdg" / "ergo" / "config.toml"
    system.parent.mkdir(parents=True)
    system.write_text('[hydration]\ninterval = "20m"\n[policy]\nlocked = ["hydration"]\n', "utf-8")
    system.chmod(0o600)
    home = tmp_path / "home"
    home.mkdir()
    user = home / "config.toml"
    user.write_text('[hydration]\ninterval = "33m"\n', "utf-8")
    os.chown(home, second_user.pw_uid, second_user.pw_gid)
    os.chown(user, second_user.pw_uid, second_user.pw_gid)
    tmp_path.chmod(0o755)

    def job() -> list[Any]:
        os.environ["XDG_CONFIG_DIRS"] = str(tmp_path / "xdg")
        loaded = load_settings(user)
        return [loaded.settings.hydration.interval.total_seconds(), loaded.notices]

    seconds, notices = run_as(second_user, job)
    assert seconds == 33 * 60
    assert notices == [f"system-wide file ignored, your own settings apply: {system}: cannot read the file (Permission denied)"]


@pytest.mark.slow
def test_the_daemon_runs_on_the_users_config_when_the_system_file_is_a_fifo() -> None:
    with ErgoEnv.create(HYDRATION__INTERVAL=None) as env:
        system = Path(env.env["XDG_CONFIG_DIRS"]) / "ergo" / "config.toml"
        system.parent.mkdir(parents=True)
        os.mkfifo(system)
        env.write_config('[hydration]\ninterval = "33m"\n')
        with Daemon(env) as daemon:
            status = daemon.status()
            assert status["reminders"]["hydration"]["interval"] == "33m"
            notice = f"system-wide file ignored, your own settings apply: {system}: cannot read the file: it is a FIFO, not a regular file"
            assert status["config_notices"] == [notice]
            assert f"note: {notice}" in env.cli("status").stdout
            wait_for(lambda: notice in daemon.stderr(), 5, what="the notice in the log")
            assert daemon.alive()


@pytest.mark.slow
def test_a_system_file_broken_while_ergo_runs_leaves_the_users_config_in_force() -> None:
    with ErgoEnv.create(HYDRATION__INTERVAL=None) as env:
        system = Path(env.env["XDG_CONFIG_DIRS"]) / "ergo" / "config.toml"
        system.parent.mkdir(parents=True)
        system.write_text('[hydration]\ninterval = "20m"\n[policy]\nlocked = ["hydration"]\n', "utf-8")
        env.write_config('[hydration]\ninterval = "33m"\n')
        with Daemon(env) as daemon:
            assert daemon.status()["reminders"]["hydration"]["interval"] == "20m"  # locked
            tmp = system.with_name("config.toml.new")
            tmp.write_text('[hydration]\ninterval = "20m"\n[policy\n', "utf-8")  # an admin's typo
            os.replace(tmp, system)
            wait_for(lambda: daemon.status()["reminders"]["hydration"]["interval"] == "33m", 5, what="the user's value")
            status = daemon.status()
            assert status["config_error"] is None and len(status["config_notices"]) == 1
            assert status["config_notices"][0].startswith(f"system-wide file ignored, your own settings apply: {system}: not valid TOML")
            assert daemon.alive()
