"""The system-wide config layer: $XDG_CONFIG_DIRS/ergo/config.toml under the user's file, locks, reload.

Every test uses a real temporary XDG_CONFIG_DIRS; the reload test runs the real daemon.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from ergo.errors import ConfigError
from ergo.paths import Paths, system_config_file
from ergo.config.load import load_settings
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
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
    system = system_dir(tmp_path, system_text)
    user = tmp_path / "config.toml"
    user.write_text(user_text, "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(user)
    message = str(caught.value)
    assert "\n" not in message and caught.value.exit_code == 2
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
    refused = run_ergo(["config", "validate"], ergo_env)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1 and str(system) in refused.stderr


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
