"""Settings: source precedence, origins, one-line errors for every bad input, and config/ergo.toml."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from ergo.templates_dir import default_config_text
from ergo.errors import ConfigError
from ergo.config.model import defaults, flat_values
from ergo.config.load import _all_keys, load_settings
from tests.helpers import REPO, ergo_env, run_ergo  # noqa: F401
from tests.second_user import second_user  # noqa: F401 (fixture)

REPO_CONFIG = REPO / "config" / "ergo.toml"

#: A bad config file and fragments its one-line error must contain (besides the file's path).
#: Shared with test_cli.py, which feeds the same files to `ergo config validate` and `ergo run`.
BAD_FILES: dict[str, tuple[str | bytes, tuple[str, ...]]] = {
    "broken-toml": ('[posture]\ninterval = 5m\n', ("not valid TOML", "line 2")),  # unquoted duration
    "unknown-top-key": ('notifer = "console"\n', ('unknown key "notifer"', 'did you mean "notifier"?')),
    "unknown-section": ('[postur]\ninterval = "5m"\n', ('unknown key "postur"', 'did you mean "posture"?')),
    "unknown-nested-key": ('[hydration]\nintervall = "5m"\n', ("hydration.intervall: unknown key", 'did you mean "interval"?')),
    "bare-int": ("[hydration]\ninterval = 45\n", ("hydration.interval:", "45 is not a duration", "try 45m or 1h30m")),
    "bare-number-string": ('[hydration]\ninterval = "45"\n', ("hydration.interval:", '"45" is ambiguous', "try 45m")),
    "clock-form": ('[hydration]\ninterval = "45:00"\n', ("hydration.interval:", '"45:00" is ambiguous', "try 45m")),
    "not-a-duration": ('[hydration]\ninterval = "abc"\n', ('hydration.interval: "abc" is not a duration (try 45m or 1h30m)',)),
    "zero-interval": ('[posture]\ninterval = "0s"\n', ("posture.interval:", "not a positive duration")),
    "negative-interval": ('[posture]\ninterval = "-5m"\n', ("posture.interval:", '"-5m"')),
    "interval-over-24h": ('[stretch]\ninterval = "25h"\n', ("stretch.interval:", "longer than 24h")),
    "interval-under-1s": ('[stretch]\ninterval = "0.5s"\n', ("stretch.interval:", "shorter than 1s")),
    "zero-expire": ('expire = "0s"\n', ("expire:", "not a positive duration")),
    "bad-bool": ('[hydration]\nenabled = "maybe"\n', ('hydration.enabled: "maybe" is not true or false',)),
    "bad-notifier": ('notifier = "dbus"\n', ('notifier: "dbus" is not one of', "console")),
    "bad-urgency": ('[posture]\nurgency = "high"\n', ('posture.urgency: "high" is not one of', "critical")),
    "bad-idle-backend": ('[idle]\nbackend = "gnome"\n', ('idle.backend: "gnome" is not one of', "mutter")),
    "hour-25": ('[schedule]\nhours = "09:00-25:00"\n', ('schedule.hours: "25:00" is not a time of day',)),
    "unknown-day": ('[schedule]\ndays = "mon-funday"\n', ('schedule.days: "funday" is not a day',)),
    "overlapping-windows": ('[schedule]\nhours = "09:00-12:00, 11:00-13:00"\n', ("schedule.hours:", "overlap")),
    "reminder-hours": ('[posture]\nhours = "9-5"\n', ("posture.hours:", '"9" is not a time of day')),
    "section-not-table": ("posture = 5\n", ("posture: must be a table", "int")),
    "messages-not-list": ('[posture]\nmessages = "sit up"\n', ("posture.messages:", "list")),
    "non-utf8": (b'[posture]\ntitle = "caf\xe9"\n', ("cannot read the file", "UnicodeDecodeError")),
}

#: An ERGO_* variable, its value, and fragments of the one-line error (which must start with the variable).
BAD_ENV: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "not-a-duration": ("ERGO_POSTURE__INTERVAL", "abc", ('"abc" is not a duration (try 45m or 1h30m)',)),
    "ambiguous": ("ERGO_HYDRATION__INTERVAL", "45", ('"45" is ambiguous',)),
    "over-24h": ("ERGO_HYDRATION__INTERVAL", "2d", ("longer than 24h",)),
    "bad-bool": ("ERGO_POSTURE__ENABLED", "maybe", ('"maybe" is not true or false',)),
    "bad-literal": ("ERGO_NOTIFIER", "dbus", ('"dbus" is not one of',)),
    "bad-hours": ("ERGO_SCHEDULE__HOURS", "25:00-26:00", ('"25:00" is not a time of day',)),
    "unknown-var": ("ERGO_NOTIFER", "console", ('not an ergo setting (did you mean "ERGO_NOTIFIER"?)',)),
    "unknown-nested-var": ("ERGO_POSTUR__INTERVAL", "5m", ('did you mean "ERGO_POSTURE__INTERVAL"?',)),
    "unknown-key-var": ("ERGO_HYDRATION__INTERVALL", "5m", ('did you mean "ERGO_HYDRATION__INTERVAL"?',)),
}


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    return path


def config_error(path: Path, flags: dict | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, flags)
    message = str(caught.value)
    assert "\n" not in message, message
    assert caught.value.exit_code == 2
    return message


# --- precedence and origins --------------------------------------------------


def test_all_four_sources_at_once(ergo_env, monkeypatch, tmp_path):
    config = write(tmp_path / "config.toml", """
notifier = "plyer"
[posture]
interval = "10m"
[hydration]
interval = "20m"
title = "Water!"
[stretch]
interval = "30m"
""")
    monkeypatch.setenv("ERGO_NOTIFIER", "console")
    monkeypatch.setenv("ERGO_POSTURE__INTERVAL", "11m")
    monkeypatch.setenv("ERGO_HYDRATION__INTERVAL", "21m")
    flags = {"notifier": "freedesktop", "posture": {"interval": "12m"}}
    loaded = load_settings(config, flags)
    s, origins = loaded.settings, loaded.origins
    assert loaded.file_exists and loaded.config_file == config

    assert s.notifier == "freedesktop" and origins["notifier"] == "flag"  # flag > env > file
    assert s.posture.interval == timedelta(minutes=12) and origins["posture.interval"] == "flag"
    assert s.hydration.interval == timedelta(minutes=21)  # env > file
    assert origins["hydration.interval"] == "env ERGO_HYDRATION__INTERVAL"
    assert s.stretch.interval == timedelta(minutes=30) and origins["stretch.interval"] == f"file {config}"
    assert s.movement.interval == timedelta(minutes=50) and origins["movement.interval"] == "default"
    # nested partial updates keep the neighbours from the lower sources
    assert s.hydration.title == "Water!" and origins["hydration.title"] == f"file {config}"
    assert s.posture.title == "Posture check" and origins["posture.title"] == "default"
    assert s.posture.natural_break == timedelta(minutes=5)
    assert set(origins) == {".".join(key) for key in _all_keys()}


def test_toml_partial_section_keeps_the_kinds_defaults(ergo_env, tmp_path):
    config = write(tmp_path / "config.toml", '[hydration]\ninterval = "20m"\n')
    s = load_settings(config).settings
    assert s.hydration.interval == timedelta(minutes=20)
    assert s.hydration.title == "Drink some water"  # the hydration default, not the generic Reminder one
    assert s.hydration.natural_break == timedelta(minutes=15)
    assert s.hydration.enabled is True
    assert flat_values(s) | {"hydration.interval": "45m"} == flat_values(defaults())


def test_env_sub_key_keeps_the_files_other_keys(ergo_env, monkeypatch, tmp_path):
    config = write(tmp_path / "config.toml", '[hydration]\ninterval = "20m"\ntitle = "Water!"\nurgency = "low"\n')
    monkeypatch.setenv("ERGO_HYDRATION__INTERVAL", "45m")
    s = load_settings(config).settings
    assert s.hydration.interval == timedelta(minutes=45)
    assert (s.hydration.title, s.hydration.urgency) == ("Water!", "low")


def test_env_sub_key_without_file_keeps_defaults(ergo_env, monkeypatch, tmp_path):
    monkeypatch.setenv("ERGO_POSTURE__INTERVAL", "7m")
    loaded = load_settings(tmp_path / "absent.toml")
    assert not loaded.file_exists
    assert loaded.settings.posture.interval == timedelta(minutes=7)
    assert loaded.settings.posture.title == "Posture check"
    assert loaded.settings.hydration == defaults().hydration


def test_flag_sub_key_keeps_file_and_env_neighbours(ergo_env, monkeypatch, tmp_path):
    config = write(tmp_path / "config.toml", '[posture]\ntitle = "Sit tall"\n')
    monkeypatch.setenv("ERGO_POSTURE__URGENCY", "critical")
    s = load_settings(config, {"posture": {"interval": "7m"}}).settings
    assert (s.posture.interval, s.posture.title, s.posture.urgency) == (timedelta(minutes=7), "Sit tall", "critical")


def test_env_values_are_parsed(ergo_env, monkeypatch, tmp_path):
    monkeypatch.setenv("ERGO_POSTURE__ENABLED", "false")
    monkeypatch.setenv("ERGO_POSTURE__MESSAGES", '["Sit tall", "Shoulders down"]')
    monkeypatch.setenv("ERGO_SCHEDULE__DAYS", "mon-fri")
    s = load_settings(tmp_path / "absent.toml").settings
    assert s.posture.enabled is False
    assert s.posture.messages == ["Sit tall", "Shoulders down"]
    assert s.schedule.days == "mon-fri"
    assert "posture" not in s.enabled_reminders()


def test_non_setting_ergo_variables_are_not_errors(ergo_env, monkeypatch, tmp_path):
    monkeypatch.setenv("ERGO_REQUIRE_DESKTOP", "1")
    assert load_settings(tmp_path / "absent.toml").settings.notifier == "auto"


def test_whole_section_env_variable_origin(ergo_env, monkeypatch, tmp_path):
    monkeypatch.setenv("ERGO_POSTURE", '{"interval": "7m"}')
    loaded = load_settings(tmp_path / "absent.toml")
    assert loaded.settings.posture.interval == timedelta(minutes=7)
    assert loaded.origins["posture.interval"] == "env ERGO_POSTURE"


# --- one-line errors ---------------------------------------------------------


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_gives_one_line_naming_file_and_key(case, ergo_env, tmp_path):
    content, fragments = BAD_FILES[case]
    config = write(tmp_path / "config.toml", content)
    message = config_error(config)
    assert message.startswith(f"{config}: "), message
    for fragment in fragments:
        assert fragment in message, message


def test_the_issue_example_verbatim(ergo_env, tmp_path):
    config = write(tmp_path / "config.toml", '[hydration]\ninterval = "abc"\n')
    assert config_error(config) == f'{config}: hydration.interval: "abc" is not a duration (try 45m or 1h30m)'


def test_directory_instead_of_file(ergo_env, tmp_path):
    folder = tmp_path / "config.toml"
    folder.mkdir()
    message = config_error(folder)
    assert message.startswith(f"{folder}: cannot read the file")


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="file modes are POSIX")
def test_unreadable_file(ergo_env, tmp_path, request):
    if os.geteuid() != 0:
        config = write(tmp_path / "config.toml", 'notifier = "console"\n')
        config.chmod(0)
        try:
            assert config_error(config).startswith(f"{config}: cannot read the file")
        finally:
            config.chmod(0o600)
        return
    # root reads any file: read it as the second test user instead, from a forked child
    from tests.second_user import run_as

    user = request.getfixturevalue("second_user")
    folder = Path(tempfile.mkdtemp(prefix="e13", dir="/tmp"))
    try:
        folder.chmod(0o755)
        config = write(folder / "config.toml", 'notifier = "console"\n')
        os.chown(config, user.pw_uid, user.pw_gid)
        config.chmod(0)

        def attempt() -> str:
            os.environ["XDG_CONFIG_DIRS"] = str(folder / "system")  # ergo_env's is under root's tmp_path
            try:
                load_settings(config)
            except ConfigError as error:
                return str(error)
            return "read it"

        assert run_as(user, attempt).startswith(f"{config}: cannot read the file")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_missing_file_means_defaults(ergo_env, tmp_path):
    loaded = load_settings(tmp_path / "nowhere" / "config.toml")
    assert not loaded.file_exists
    assert flat_values(loaded.settings) == flat_values(defaults())
    assert set(loaded.origins.values()) == {"default"}


@pytest.mark.parametrize("case", list(BAD_ENV))
def test_bad_env_gives_one_line_naming_the_variable(case, ergo_env, monkeypatch, tmp_path):
    variable, value, fragments = BAD_ENV[case]
    monkeypatch.setenv(variable, value)
    message = config_error(tmp_path / "absent.toml")
    assert message.startswith(f"{variable}: "), message
    for fragment in fragments:
        assert fragment in message, message


def test_non_json_list_variable_is_named(ergo_env, monkeypatch, tmp_path):
    monkeypatch.setenv("ERGO_POSTURE__MESSAGES", "hi")
    message = config_error(tmp_path / "absent.toml")
    assert message.startswith("ERGO_POSTURE__MESSAGES: "), message


def test_bad_notifier_flag_is_named(ergo_env, tmp_path):
    message = config_error(tmp_path / "absent.toml", {"notifier": "dbus"})
    assert message.startswith('--notifier: "dbus" is not one of')


def test_bad_set_flag_names_the_real_flag(ergo_env, tmp_path):
    message = config_error(tmp_path / "absent.toml", {"posture": {"interval": "abc"}})
    assert message.startswith('--set posture.interval: "abc" is not a duration'), message


def test_unknown_set_key_names_the_flag(ergo_env, tmp_path):
    message = config_error(tmp_path / "absent.toml", {"postur": {"interval": "5m"}})
    assert message.startswith("--set postur"), message
    assert 'did you mean "posture"?' in message


def test_first_problem_wins_and_stays_one_line(ergo_env, monkeypatch, tmp_path):
    config = write(tmp_path / "config.toml", '[posture]\ninterval = "abc"\nurgency = "high"\n[hydration]\ninterval = "45"\n')
    monkeypatch.setenv("ERGO_STRETCH__INTERVAL", "nope")
    message = config_error(config)
    # three bad values (two in the file, one in the environment): the first one in the file is named, alone
    assert message == f'{config}: posture.interval: "abc" is not a duration (try 45m or 1h30m)', message


# --- config/ergo.toml --------------------------------------------------------


def test_repo_file_is_what_config_init_writes(ergo_env, tmp_path):
    assert REPO_CONFIG.read_bytes() == default_config_text().encode("utf-8")
    target = tmp_path / "written.toml"
    result = run_ergo(["config", "init", "--config", str(target)], ergo_env)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == REPO_CONFIG.read_bytes()


def test_repo_file_loads_to_exactly_the_defaults(ergo_env):
    loaded = load_settings(REPO_CONFIG)
    assert loaded.file_exists
    assert flat_values(loaded.settings) == flat_values(defaults())
    assert loaded.settings.model_dump() == defaults().model_dump()


def test_repo_file_mentions_every_key(ergo_env):
    seen: set[tuple[str, ...]] = set()
    section: str | None = None
    for line in REPO_CONFIG.read_text("utf-8").splitlines():
        if header := re.fullmatch(r"\[(\w+)\]", line.strip()):
            section = header.group(1)
            continue
        if match := re.match(r"^(?:# )?(\w+) = ", line):
            seen.add((match.group(1),) if section is None else (section, match.group(1)))
    missing = [".".join(key) for key in _all_keys() if key not in seen]
    assert not missing, f"config/ergo.toml does not mention: {missing}"


def test_defaults_are_valid_settings(ergo_env):
    values = flat_values(defaults())
    assert values["notifier"] == "auto"
    enabled = {kind for kind in ("posture", "hydration", "stretch", "movement", "breathing", "workspace", "strength")
               if values[f"{kind}.enabled"]}
    assert enabled == {"posture", "hydration", "stretch", "movement"}


def test_unquoted_duration_gets_a_hint(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[posture]\ninterval = 5m\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value).endswith('(durations are strings: interval = "5m")')
    config.write_text('[posture\ninterval = "5m"\n')  # another slip: no duration hint
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "durations are strings" not in str(caught.value)


def test_a_number_where_a_boolean_belongs_is_not_quoted(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[posture]\nenabled = 2\n")
    with pytest.raises(ConfigError, match=r"posture\.enabled: 2 is not true or false$"):
        load_settings(config)


def test_the_test_suites_own_variables_are_not_settings(ergo_env, monkeypatch, tmp_path):
    """ERGO_SEEDS_DIR steers the tests only; a shell that sets it still runs ergo."""
    monkeypatch.setenv("ERGO_SEEDS_DIR", str(tmp_path))
    assert load_settings(tmp_path / "absent.toml").settings.posture.interval == timedelta(minutes=30)
