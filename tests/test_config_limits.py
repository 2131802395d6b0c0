"""What `ergo config validate` accepts must run (issue 7, item 4).

Every duration key has an upper bound named in its error; numbers too big for a timedelta,
deeply nested TOML, a FIFO or device as the config file and a symlink loop are all one line,
exit 2, never a traceback or a hang; a JSON-valued variable's error names the variable. A
property test throws random values of the right TOML types at every key: each either gives
exit 2 with one line, or the daemon's engine runs a simulated day on it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings as hsettings, strategies as st

from ergo.errors import ConfigError
from ergo.config.model import SECTIONS, Settings
from ergo.config.load import load_settings
from tests.helpers import ergo_env  # noqa: F401
from tests.simulation import World, simulate

DURATION_KEYS = ["expire", "merge_window", "quiet_after_resume", "history_retention", "idle.away_after",
                 "posture.interval", "posture.natural_break", "posture.duration", "hydration.interval",
                 "strength.natural_break", "meetings.after"]


def test_the_bound_tests_cover_every_duration_key_of_the_model() -> None:
    """A new duration key without an upper bound test would let a huge value through to the daemon."""
    from ergo.config.model import SECTIONS, Settings

    def durations(model: type) -> set[str]:
        return {name for name, field in model.model_fields.items() if "timedelta" in str(field.annotation)}

    covered_top = {key for key in DURATION_KEYS if "." not in key}
    covered_leaf = {key.rpartition(".")[2] for key in DURATION_KEYS if "." in key}
    assert durations(Settings) <= covered_top, durations(Settings) - covered_top
    for name, section in SECTIONS.items():
        assert durations(section) <= covered_leaf, (name, durations(section) - covered_leaf)


def _validate(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ergo", "config", "validate", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _one_line(done: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr[-2000:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    return lines[0]


def _toml(key: str, value: str) -> str:
    section, _, leaf = key.rpartition(".")
    return (f"[{section}]\n" if section else "") + f"{leaf} = {value}\n"


@pytest.mark.parametrize("key", DURATION_KEYS)
@pytest.mark.parametrize("value", ['"3000000d"', '"99999999999d"', '"P99999999999D"', '"' + "9" * 400 + 's"',
                                   '"' + "9" * 400 + '.5h"'])
def test_every_duration_key_has_an_upper_bound(ergo_env: dict[str, str], key: str, value: str) -> None:
    path = Path(ergo_env["ERGO_CONFIG"])
    path.write_text(_toml(key, value))
    with pytest.raises(ConfigError) as caught:
        load_settings(path, system_layer=False)
    line = str(caught.value)
    assert "\n" not in line and caught.value.exit_code == 2
    assert key in line and ("at most" in line or "far too long" in line), line


@pytest.mark.parametrize("value", ['"3000000d"', '"P99999999999D"', '"' + "9" * 400 + 's"'])
def test_validate_refuses_huge_durations_in_one_line(ergo_env: dict[str, str], value: str) -> None:
    Path(ergo_env["ERGO_CONFIG"]).write_text(_toml("merge_window", value))
    line = _one_line(_validate(ergo_env))
    assert "merge_window" in line and ("at most" in line or "far too long" in line), line


def test_huge_merge_window_from_the_environment_is_refused_too(ergo_env: dict[str, str]) -> None:
    env = {**ergo_env, "ERGO_MERGE_WINDOW": "3000000d"}
    line = _one_line(_validate(env, ergo_env["ERGO_CONFIG"]) if Path(ergo_env["ERGO_CONFIG"]).exists() else
                     subprocess.run([sys.executable, "-m", "ergo", "config", "show"], env=env, capture_output=True,
                                    text=True, timeout=60))
    assert "ERGO_MERGE_WINDOW" in line and "at most" in line, line


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_toml_is_one_line(ergo_env: dict[str, str], depth: int) -> None:
    Path(ergo_env["ERGO_CONFIG"]).write_text("notifier = " + "[" * depth + "]" * depth + "\n")
    line = _one_line(_validate(ergo_env))
    assert ergo_env["ERGO_CONFIG"] in line, line


def test_deeply_nested_json_variable_is_one_line(ergo_env: dict[str, str]) -> None:
    env = {**ergo_env, "ERGO_POSTURE__MESSAGES": "[" * 60_000 + "]" * 60_000}
    done = subprocess.run([sys.executable, "-m", "ergo", "config", "show"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert "ERGO_POSTURE__MESSAGES" in _one_line(done)


def test_a_fifo_as_config_is_refused_without_blocking(ergo_env: dict[str, str], tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    for args in (["config", "validate"], ["config", "show"], ["run"], ["start"]):
        done = subprocess.run([sys.executable, "-m", "ergo", *args], env=ergo_env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
        line = _one_line(done)
        assert str(fifo) in line and "not a regular file" in line, (args, line)


def test_a_device_as_config_is_refused(ergo_env: dict[str, str]) -> None:
    line = _one_line(_validate(ergo_env, "/dev/zero", timeout=60))
    assert "/dev/zero" in line and "not a regular file" in line, line
    env = {**ergo_env, "ERGO_CONFIG": "/dev/zero"}
    done = subprocess.run([sys.executable, "-m", "ergo", "config", "show"], env=env, capture_output=True, text=True, timeout=60)
    assert "not a regular file" in _one_line(done)


def test_a_symlink_loop_is_named_as_a_loop(ergo_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    (tmp_path / "config.toml").symlink_to(tmp_path / "a.toml")
    for args in (["config", "validate"], ["config", "show"], ["run"]):
        done = subprocess.run([sys.executable, "-m", "ergo", *args], env=ergo_env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
        line = _one_line(done)
        assert "loop" in line and "no such file" not in line, (args, line)


@pytest.mark.parametrize("var,value", [("ERGO_POSTURE", '{"intervall":"5m"}'), ("ERGO_IDLE", '{"away_after":"3000000d"}'),
                                       ("ERGO_SCHEDULE", '{"dayz":"mon-fri"}')])
def test_an_error_in_a_json_variable_names_the_variable(ergo_env: dict[str, str], var: str, value: str) -> None:
    Path(ergo_env["ERGO_CONFIG"]).write_text("[posture]\ninterval = \"20m\"\n")
    line = _one_line(_validate({**ergo_env, var: value}))
    assert line.startswith(f"ergo: {var}"), line
    assert ergo_env["ERGO_CONFIG"] not in line, line


# --- the property test ------------------------------------------------------------------------

_durations = st.one_of(
    st.builds(lambda n, unit: f"{n}{unit}", st.integers(min_value=0, max_value=10**15) | st.integers(0, 200),
              st.sampled_from(["d", "h", "m", "s", "min"])),
    st.builds(lambda n: f"P{n}D", st.integers(min_value=0, max_value=10**12)),
    st.from_regex(r"\AP[0-9]{1,12}D\Z"), st.from_regex(r"\APT[0-9]{1,9}[HMS]\Z"),
    st.text(max_size=12), st.integers(min_value=-10**30, max_value=10**30), st.floats(allow_nan=True),
    st.booleans(),
)
_anything = st.one_of(st.text(max_size=20), st.integers(min_value=-10**30, max_value=10**30), st.booleans(),
                      st.floats(), st.lists(st.text(max_size=8), max_size=3))


def _strategy_for(section: str | None, key: str) -> st.SearchStrategy:
    if key in ("interval", "expire", "merge_window", "quiet_after_resume", "natural_break", "away_after"):
        return _durations
    if key in ("enabled",):
        return st.one_of(st.booleans(), _anything)
    if key == "messages":
        return st.one_of(st.lists(st.text(max_size=30), max_size=4), _anything)
    if key in ("days",):
        return st.one_of(st.sampled_from(["mon-fri", "sat,sun", "mon-sun", "tue", "fri-mon"]), st.text(max_size=10))
    if key in ("hours",):
        return st.one_of(st.sampled_from(["09:00-17:00", "22:00-02:00", "00:00-24:00", "12:00-12:01"]),
                         st.text(max_size=12))
    return _anything


def _all_keys() -> list[tuple[str | None, str]]:
    keys: list[tuple[str | None, str]] = []
    for name in Settings.model_fields:
        model = SECTIONS.get(name)
        if model is None:
            keys.append((None, name))
        else:
            keys.extend((name, sub) for sub in model.model_fields)
    return keys


@st.composite
def _configs(draw: st.DrawFn) -> dict:
    chosen = draw(st.lists(st.sampled_from(_all_keys()), min_size=1, max_size=6, unique=True))
    data: dict = {}
    for section, key in chosen:
        value = draw(_strategy_for(section, key))
        (data.setdefault(section, {}) if section else data)[key] = value
    return data


def _toml_value(value: object) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value) if -2**63 <= value < 2**63 else json.dumps(str(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _render(data: dict) -> str:
    top = "".join(f"{k} = {_toml_value(v)}\n" for k, v in data.items() if not isinstance(v, dict))
    tables = "".join(f"[{k}]\n" + "".join(f"{sk} = {_toml_value(sv)}\n" for sk, sv in v.items())
                     for k, v in data.items() if isinstance(v, dict))
    return top + tables


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=_configs())
@example(data={"merge_window": "3000000d"})
@example(data={"expire": "99999999999d"})
@example(data={"idle": {"away_after": "P99999999999D"}})
@example(data={"posture": {"natural_break": "9" * 400 + "s"}})
def test_any_value_is_refused_in_one_line_or_runs_a_simulated_day(ergo_env: dict[str, str], data: dict) -> None:
    from ergo.daemon.specs import specs_from
    from ergo.config.frozen import PlainSettings
    from ergo.config.load import export_json
    from ergo.timing.worktime import local_zone

    path = Path(ergo_env["ERGO_CONFIG"])
    path.write_text(_render(data))
    try:
        loaded = load_settings(path)
    except ConfigError as error:
        assert error.exit_code == 2 and "\n" not in str(error) and str(error).strip()
        return
    plain = PlainSettings.from_json(export_json(loaded)["settings"])
    specs, timing = specs_from(plain, local_zone())
    start = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
    away = [(start + timedelta(hours=3), start + timedelta(hours=3, minutes=40))]
    run = simulate(specs, timing, World(idle=away, asleep=[(start + timedelta(hours=12), start + timedelta(hours=20))]),
                   start, start + timedelta(days=1))
    assert run.ticks >= 1
