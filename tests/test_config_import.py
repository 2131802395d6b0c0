"""`ergo config import`: the real files the other break timers ship or write, with changed values.

tests/data holds:
- safeeyes.json: Debian bookworm's safeeyes 2.1.5 package, /usr/lib/python3/dist-packages/safeeyes/config/
  safeeyes.json, with short_break_interval 20, long_break_interval 60, long_break_duration 300,
  postpone_duration 10 and smartpause idle_time 4 / interpret_idle_as_break true;
- stretchly-config.json: Stretchly's app/utils/defaultSettings.js (github hovancik/stretchly at 639088e,
  evaluated with node) with microbreakInterval 15 min, breakInterval 3, naturalBreaksInactivityResetTime
  7 min, own ideas, and the __internal__ version electron-store writes;
- org.workrave.gschema.xml and org.workrave.enums.xml: Debian's workrave-data 1.10.50 schema, compiled
  here into a temp dir for the real gsettings and dconf;
- workrave-dconf-dump.txt: `dconf dump /org/workrave/` after `gsettings set` of a few keys.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from ergo.config.load import load_settings
from ergo.config_import import safeeyes, stretchly, workrave
from ergo.config_import.base import Mapped
from ergo.config_import.merge import apply
from ergo.errors import ConfigError, ErgoError
from tests.desktop import require_tools
from tests.helpers import REPO, ergo_env, run_ergo  # noqa: F401

DATA = REPO / "tests" / "data"


def imported_lines(text: str) -> dict[str, str]:
    """key -> its whole line, for lines carrying an import comment."""
    return {line.split("=")[0].strip(): line for line in text.splitlines() if "# imported from" in line}


def test_safe_eyes_dry_run_prints_a_diff_with_sources_and_lists_the_rest(ergo_env) -> None:
    result = run_ergo(["config", "import", "--from", "safeeyes", str(DATA / "safeeyes.json"), "--dry-run"], ergo_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"--- {ergo_env['ERGO_CONFIG']} (new, from `ergo config init`)")
    assert '+interval = "20m"  # imported from Safe Eyes short_break_interval = 20 (minutes)' in out
    assert '+interval = "1h"  # imported from Safe Eyes long_break_interval = 60 (minutes)' in out
    assert '+away_after = "4m"  # imported from Safe Eyes smartpause idle_time = 4 (minutes)' in out
    assert '+natural_break = "5m"  # imported from Safe Eyes long_break_duration = 300 (seconds)' in out
    assert '+duration = "5m"  # imported from Safe Eyes long_break_duration = 300 (seconds)' in out
    assert '+duration = "15s"  # imported from Safe Eyes short_break_duration = 15 (seconds)' in out
    assert "not imported from Safe Eyes:" in out
    for unmapped in ("postpone_duration", "short_breaks", "strict_break", "trayicon plugin", "do-not-disturb"):
        assert unmapped in out, unmapped
    assert not Path(ergo_env["ERGO_CONFIG"]).exists()  # dry run


def test_safe_eyes_import_writes_a_config_that_loads_with_the_mapped_values(ergo_env) -> None:
    result = run_ergo(["config", "import", "--from", "safeeyes", str(DATA / "safeeyes.json")], ergo_env)
    assert result.returncode == 0, result.stderr
    config = Path(ergo_env["ERGO_CONFIG"])
    s = load_settings(config).settings
    assert s.posture.interval == timedelta(minutes=20) and s.movement.interval == timedelta(hours=1)
    assert s.idle.away_after == timedelta(minutes=4)
    assert s.posture.natural_break == timedelta(seconds=15) and s.movement.natural_break == timedelta(minutes=5)
    assert s.hydration.interval == timedelta(minutes=45)  # untouched: the documented default file
    lines = imported_lines(config.read_text("utf-8"))
    assert s.posture.duration == timedelta(seconds=15) and s.movement.duration == timedelta(minutes=5)
    assert set(lines) == {"interval", "away_after", "natural_break", "duration"} and len(
        [l for l in config.read_text().splitlines() if "# imported from Safe Eyes" in l]) == 7
    again = run_ergo(["config", "import", "--from", "safeeyes", str(DATA / "safeeyes.json")], ergo_env)
    assert again.returncode == 0 and "already has these values" in again.stdout


def test_stretchly_long_breaks_replace_every_nth_mini_break_and_the_users_file_keeps_the_rest(ergo_env) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    original = '# my own settings\n[hydration]\ninterval = "40m"  # I like water\n\n[posture]\ninterval = "25m"\n'
    config.write_text(original, "utf-8")
    result = run_ergo(["config", "import", "--from", "stretchly", str(DATA / "stretchly-config.json")], ergo_env)
    assert result.returncode == 0, result.stderr
    text = config.read_text("utf-8")
    assert text.startswith('# my own settings\n[hydration]\ninterval = "40m"  # I like water\n')
    assert config.with_name("config.toml.bak").read_text("utf-8") == original
    s = load_settings(config).settings
    assert s.posture.interval == timedelta(minutes=15)
    assert s.movement.interval == timedelta(hours=1)  # 15 min x (3 + 1), as in breaksPlanner.js
    assert s.posture.natural_break == timedelta(minutes=7) == s.movement.natural_break
    assert s.posture.duration == timedelta(seconds=20) and s.movement.duration == timedelta(minutes=5)
    assert s.posture.messages == ["Roll your shoulders back."]  # the disabled idea is left out
    assert s.movement.messages == ["Walk: Walk to the kitchen and back."]
    assert "microbreakInterval x (breakInterval + 1) = 900000 ms x (3 + 1)" in text
    for unmapped in ("breakPostponeTime", "morningHour", "monitorDnd = true"):
        assert unmapped in result.stdout, unmapped


def test_a_symlinked_config_is_written_through_the_link(ergo_env, tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "ergo.toml"
    real.parent.mkdir()
    real.write_text('[posture]\ninterval = "25m"\n', "utf-8")
    link = Path(ergo_env["ERGO_CONFIG"])
    link.symlink_to(real)
    result = run_ergo(["config", "import", "--from", "safeeyes", str(DATA / "safeeyes.json")], ergo_env)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and 'interval = "20m"' in real.read_text("utf-8")
    assert real.with_name("ergo.toml.bak").read_text("utf-8") == '[posture]\ninterval = "25m"\n'


def test_values_outside_ergos_range_are_listed_not_clamped() -> None:
    data = json.loads((DATA / "stretchly-config.json").read_text())
    data["microbreakInterval"] = 2 * 24 * 3600 * 1000
    result = stretchly.parse(json.dumps(data), "config.json")
    assert not any(m.key.endswith(".interval") for m in result.mapped)
    assert any("outside ergo's 1s-24h range for posture.interval" in u.why for u in result.unmapped)


def test_workrave_ini_layout_of_its_windows_build_reads_like_the_dconf_keys() -> None:
    # IniConfigurator turns "timers/micro_pause/limit" into section [timers], key micro_pause.limit
    ini = "[timers]\nmicro_pause.limit=240\nmicro_pause.auto_reset=25\nrest_break.limit=3600\n[breaks]\nrest_break.enabled=false\n"
    result = workrave.parse(workrave.from_ini_text(ini, "workrave.ini"), "workrave.ini")
    got = {m.key: m.value for m in result.mapped}
    assert got == {"posture.interval": "4m", "posture.natural_break": "25s", "posture.duration": "25s",
                   "movement.interval": "1h",
                   "movement.enabled": False}


@pytest.mark.parametrize(
    ("program", "data_file", "fragment"),
    [
        ("safeeyes", "stretchly-config.json", "not a Safe Eyes safeeyes.json"),
        ("safeeyes", "workrave-dconf-dump.txt", "not a Safe Eyes safeeyes.json"),
        ("stretchly", "safeeyes.json", "not a Stretchly config.json"),
        ("stretchly", "org.workrave.gschema.xml", "not a Stretchly config.json"),
        ("workrave", "safeeyes.json", "not Workrave's settings"),
        ("workrave", "stretchly-config.json", "not Workrave's settings"),
    ],
)
def test_a_file_of_the_wrong_program_is_refused_in_one_line(ergo_env, program: str, data_file: str, fragment: str) -> None:
    result = run_ergo(["config", "import", "--from", program, str(DATA / data_file)], ergo_env)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr, result.stderr
    assert not Path(ergo_env["ERGO_CONFIG"]).exists()


def test_unknown_versions_are_refused_in_one_line(tmp_path: Path) -> None:
    eyes = json.loads((DATA / "safeeyes.json").read_text())
    eyes["meta"]["config_version"] = "7.0.0"
    with pytest.raises(ConfigError, match=r"Safe Eyes config version 7.0.0 is not one ergo knows \(it reads 6.x\)"):
        safeeyes.parse(json.dumps(eyes), "safeeyes.json")
    stretch = json.loads((DATA / "stretchly-config.json").read_text())
    stretch["__internal__"]["migrations"]["version"] = "2.0.0"
    with pytest.raises(ConfigError, match="Stretchly 2.0.0 is not a version ergo knows"):
        stretchly.parse(json.dumps(stretch), "config.json")


def test_a_missing_file_names_the_path(ergo_env, tmp_path: Path) -> None:
    result = run_ergo(["config", "import", "--from", "safeeyes", str(tmp_path / "nope.json")], ergo_env)
    assert result.returncode == 1 and result.stderr.strip() == f"ergo: {tmp_path / 'nope.json'}: no such file (where is your Safe Eyes config? pass its path)"


def test_merge_revives_a_commented_key_and_creates_a_missing_section() -> None:
    text = '[posture]\n# days = "mon-fri"\ninterval = "30m"\n'
    merged = apply(text, [Mapped("posture.days", "mon-fri", "X a"), Mapped("idle.away_after", "4m", "X b")])
    assert merged == '[posture]\ndays = "mon-fri"  # imported from X a\ninterval = "30m"\n\n[idle]\naway_after = "4m"  # imported from X b\n'
    assert tomllib.loads(merged) == {"posture": {"days": "mon-fri", "interval": "30m"}, "idle": {"away_after": "4m"}}


def _workrave_session(tmp_path: Path, script: str, env: dict[str, str],
                      schema: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `script` in a private D-Bus session with the real dconf service and Workrave's schema
    (or `schema`, a changed copy of it) compiled into tmp."""
    require_tools("dbus-run-session", "gsettings", "glib-compile-schemas", "dconf")
    if not Path("/usr/libexec/dconf-service").exists():
        require_tools("dconf-service")  # fails under ERGO_REQUIRE_DESKTOP=1, else skips
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    for name in ("org.workrave.gschema.xml", "org.workrave.enums.xml"):
        shutil.copy(DATA / name, schemas / name)
    if schema is not None:
        (schemas / "org.workrave.gschema.xml").write_text(schema, "utf-8")
    subprocess.run(["glib-compile-schemas", str(schemas)], check=True)
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    session = {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_RUNTIME_DIR": str(runtime),
               "GSETTINGS_SCHEMA_DIR": str(schemas), "GSETTINGS_BACKEND": "dconf", "PYTHON": sys.executable}
    session.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return subprocess.run(["dbus-run-session", "--", "sh", "-ec", script], env=session, cwd=REPO, capture_output=True,
                          text=True, timeout=60)


SET_WORKRAVE = """
gsettings set org.workrave.timers.micro-pause limit 240
gsettings set org.workrave.timers.micro-pause auto-reset 20
gsettings set org.workrave.timers.rest-break limit 3300
gsettings set org.workrave.breaks.rest-break enabled false
"""


def test_workrave_from_a_real_dconf_dump_and_from_live_gsettings(ergo_env, tmp_path: Path) -> None:
    dump = tmp_path / "workrave.txt"
    script = SET_WORKRAVE + f"""
dconf dump /org/workrave/ > {dump}
"$PYTHON" -m ergo config import --from workrave {dump} --dry-run > {tmp_path / 'from-file.txt'}
"$PYTHON" -m ergo config import --from workrave
"""
    result = _workrave_session(tmp_path, script, ergo_env)
    assert result.returncode == 0, result.stderr
    assert "[timers/micro-pause]" in dump.read_text() and "limit=240" in dump.read_text()
    from_file = (tmp_path / "from-file.txt").read_text()
    assert '+interval = "4m"  # imported from Workrave timers/micro-pause/limit = 240 (seconds)' in from_file
    assert '+enabled = false  # imported from Workrave breaks/rest-break/enabled = false' in from_file
    assert f"--- {ergo_env['ERGO_CONFIG']} (new" in result.stdout and "imported from Workrave" in result.stdout
    s = load_settings(Path(ergo_env["ERGO_CONFIG"])).settings  # written from live gsettings
    assert s.posture.interval == timedelta(minutes=4) and s.posture.natural_break == timedelta(seconds=20)
    assert s.movement.interval == timedelta(minutes=55) and s.movement.enabled is False
    assert s.movement.natural_break == timedelta(minutes=10)  # Workrave's default auto-reset, read live
    assert s.posture.duration == timedelta(seconds=20) and s.movement.duration == timedelta(minutes=10)
    assert "timers/daily-limit, breaks/daily-limit: ergo has no daily limit" in result.stdout
    assert "distribution/port" in result.stdout  # every other live key is listed, none dropped


def test_workrave_live_without_its_schema_is_one_line(ergo_env, tmp_path: Path) -> None:
    require_tools("gsettings")
    env = {**ergo_env, "GSETTINGS_SCHEMA_DIR": str(tmp_path), "XDG_DATA_DIRS": str(tmp_path)}
    result = run_ergo(["config", "import", "--from", "workrave"], env)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "cannot read Workrave's settings with gsettings" in result.stderr and "org.workrave" in result.stderr


# --- each field maps as the README's table says -------------------------------------------------------


def _mapped(result) -> dict[str, object]:
    return {m.key: m.value for m in result.mapped}


@pytest.mark.parametrize(("micro", "long"), [(True, False), (False, True), (False, False), (True, True)])
def test_stretchly_on_off_flags_set_each_kind_on_its_own(micro: bool, long: bool) -> None:
    """`microbreak` turns the posture check on or off, `break` the movement reminder, each independently."""
    text = json.dumps({"microbreakInterval": 600000, "breakInterval": 2, "microbreak": micro, "break": long})
    got = _mapped(stretchly.parse(text, "config.json"))
    assert got == {"posture.enabled": micro, "posture.interval": "10m", "movement.enabled": long,
                   "movement.interval": "30m"}


@pytest.mark.parametrize(("micro", "rest"), [(True, False), (False, True)])
def test_workrave_on_off_flags_set_each_kind_on_its_own(micro: bool, rest: bool) -> None:
    flat = {"timers/micro-pause/limit": 180, "timers/rest-break/limit": 2700,
            "breaks/micro-pause/enabled": micro, "breaks/rest-break/enabled": rest}
    got = _mapped(workrave.parse(flat, "dump"))
    assert got == {"posture.enabled": micro, "posture.interval": "3m", "movement.enabled": rest,
                   "movement.interval": "45m"}


def _eyes(smartpause: dict | None) -> str:
    data = {"meta": {"config_version": "6.0.1"}, "short_break_interval": 15, "long_break_interval": 75,
            "short_break_duration": 20, "long_break_duration": 120,
            "plugins": [] if smartpause is None else [{"id": "smartpause", **smartpause}]}
    return json.dumps(data)


BASE_EYES = {"posture.interval": "15m", "movement.interval": "1h15m", "posture.duration": "20s", "movement.duration": "2m"}


@pytest.mark.parametrize(("smartpause", "extra"), [
    (None, {}),  # no smartpause plugin listed: ergo's own idle detection stays as it is
    ({"enabled": False, "settings": {"idle_time": 5}}, {"idle.backend": "none"}),  # smart pause off: no idle backend
    ({"enabled": True, "settings": {"idle_time": 5}}, {"idle.away_after": "5m"}),
    ({"enabled": True, "settings": {"idle_time": 3, "interpret_idle_as_break": True}},
     {"idle.away_after": "3m", "posture.natural_break": "20s", "movement.natural_break": "2m"}),
])
def test_safe_eyes_smart_pause_maps_to_idle_detection(smartpause: dict | None, extra: dict) -> None:
    result = safeeyes.parse(_eyes(smartpause), "safeeyes.json")
    assert _mapped(result) == {**BASE_EYES, **extra}
    if smartpause is not None and smartpause["enabled"] and not smartpause["settings"].get("interpret_idle_as_break"):
        assert [u.name for u in result.unmapped] == ["smartpause interpret_idle_as_break = false"]
    else:
        assert result.unmapped == []


READERS = {
    "safeeyes": lambda: safeeyes.parse((DATA / "safeeyes.json").read_text(), "safeeyes.json"),
    "stretchly": lambda: stretchly.parse((DATA / "stretchly-config.json").read_text(), "config.json"),
    "workrave": lambda: workrave.parse(workrave.from_ini_text((DATA / "workrave-dconf-dump.txt").read_text(), "dump.txt"),
                                       "dump.txt"),
}


@pytest.mark.parametrize("program", list(READERS))
def test_the_whole_mapping_of_each_programs_real_file(program: str) -> None:
    """Every key set, its value and the origin its comment names, and every setting listed as not imported with
    its reason, exactly (tests/data/import_expected.json, reviewed against the table in docs/import.md)."""
    from dataclasses import asdict

    expected = json.loads((DATA / "import_expected.json").read_text("utf-8"))[program]
    got = json.loads(json.dumps(asdict(READERS[program]())))
    assert got["mapped"] == expected["mapped"]
    assert got["unmapped"] == expected["unmapped"]
    assert (got["program"], got["source"]) == (expected["program"], expected["source"])


GVARIANTS = [
    ("int32 240", 240), ("uint32 7", 7), ("int64 -3", -3), ("uint16 9", 9), ("int16 2", 2), ("uint64 5", 5),
    ("true", True), ("false", False), ("'gnome'", "gnome"), ('"x y"', "x y"), ("plain", "plain"), ("'", "'"),
    ("  42  ", 42), ("'a\"", "'a\""),
]


@pytest.mark.parametrize(("text", "value"), GVARIANTS, ids=[f"gvariant{i}" for i in range(len(GVARIANTS))])
def test_workrave_reads_gvariant_text_values(text: str, value: object) -> None:
    assert workrave._value(text) == value


def test_workrave_ini_and_dconf_key_spellings_meet() -> None:
    assert workrave._key("/org/workrave/timers/micro_pause/limit/") == "timers/micro-pause/limit"
    assert workrave.from_ini_text("[timers]\nmicro_pause.limit=int32 240\n", "x") == {"timers/micro-pause/limit": 240}
    with pytest.raises(ConfigError, match="x: not a dconf dump or an ini file: not Workrave's settings"):
        workrave.from_ini_text("no section\n", "x")


def _hostile_cases() -> list[tuple[str, str, str, str]]:
    """The content cases of tests/test_config_import_hostile.py, read in this process: (id, program, text, message)."""
    stretch = (DATA / "stretchly-config.json").read_text("utf-8")
    eyes = (DATA / "safeeyes.json").read_text("utf-8")

    def micro(value: str) -> str:
        return stretch.replace('"microbreakInterval": 900000', f'"microbreakInterval": {value}')

    not_stretchly = "not a Stretchly config.json ergo can read"
    return [
        ("NaN", "stretchly", micro("NaN"), f"NaN is not a number JSON allows: {not_stretchly}"),
        ("-Infinity", "stretchly", micro("-Infinity"), f"-Infinity is not a number JSON allows: {not_stretchly}"),
        ("1e308", "stretchly", micro("1e308"),
         "microbreakInterval is 1e+308, larger than any setting (2^53): a damaged Stretchly config.json, nothing imported"),
        ("1e999", "stretchly", micro("1e999"), f"microbreakInterval is inf, not a finite number: {not_stretchly}"),
        ("-1e999", "stretchly", micro("-1e999"), f"microbreakInterval is -inf, not a finite number: {not_stretchly}"),
        ("2^53", "stretchly", micro(str(2**53)), ""),  # the largest number taken: read, then listed as out of range
        ("2^53+1", "stretchly", micro(str(2**53 + 1)),
         "microbreakInterval is a 16-digit number, larger than any setting (2^53): a damaged Stretchly config.json, "
         "nothing imported"),
        ("-20 digits", "safeeyes", eyes.replace('"short_break_interval": 20', '"short_break_interval": -12345678901234567890'),
         "short_break_interval is a 20-digit number, larger than any setting (2^53): a damaged Safe Eyes safeeyes.json, "
         "nothing imported"),
        ("deep", "stretchly", "[" * 100_000 + "]" * 100_000, "JSON nested too deeply: not a Stretchly config.json"),
        ("not JSON", "stretchly", "{", "not JSON: not a Stretchly config.json"),
        ("surrogate key", "stretchly", stretch.replace('"microbreakInterval"', '"x\\ud800y": 1, "microbreakInterval"'),
         f"'x\\ud800y': a lone surrogate (\\ud800) at character 2 is not text: {not_stretchly}"),
        ("surrogate idea", "stretchly", stretch.replace("Roll your shoulders back.", "Roll \\udc00back."),
         f"microbreakIdeas[0].data: a lone surrogate (\\udc00) at character 6 is not text: {not_stretchly}"),
        ("surrogate top", "stretchly", '"\\ud800"', f"the file: a lone surrogate (\\ud800) at character 1 is not text: "
                                                     f"{not_stretchly}"),
        ("a string", "stretchly", micro('"soon"'),
         "microbreakInterval is 'soon', not a number: not a Stretchly configuration ergo can read"),
        ("a long string", "stretchly", micro('"' + "x" * 50 + '"'),
         "microbreakInterval is '" + "x" * 36 + "..., not a number: not a Stretchly configuration ergo can read"),
        ("true", "stretchly", micro("true"),
         "microbreakInterval is True, not a number: not a Stretchly configuration ergo can read"),
    ]


@pytest.mark.parametrize(("case", "program", "text", "message"), _hostile_cases(),
                         ids=[case[0].replace(" ", "-") for case in _hostile_cases()])
def test_hostile_json_is_refused_in_one_exact_line_by_the_reader_itself(case: str, program: str, text: str,
                                                                        message: str) -> None:
    reader = {"safeeyes": safeeyes.parse, "stretchly": stretchly.parse}[program]
    if not message:
        result = reader(text, "f.json")
        assert [u.name for u in result.unmapped if "outside ergo's 1s-24h range" in u.why][0].startswith(
            "Stretchly microbreakInterval = 9.0072e+15"), result.unmapped
        return
    with pytest.raises(ConfigError) as caught:
        reader(text, "f.json")
    assert str(caught.value) == f"f.json: {message}"


def test_imported_durations_at_ergos_bounds() -> None:
    from ergo.config_import.base import Imported, Unmapped

    out = Imported("X", "f")
    for seconds in (1, 0.5, 86400, 86401, 1e308, 30.5):
        out.interval("posture.interval", seconds, f"o{seconds:g}")
    for seconds in (0, -5, 0.5, 86400, 86401, 1e20):
        out.duration("posture.natural_break", seconds, f"d{seconds:g}")
    assert [(m.key, m.value, m.origin) for m in out.mapped] == [
        ("posture.interval", "1s", "o1"), ("posture.interval", "24h", "o86400"), ("posture.interval", "30.5s", "o30.5"),
        ("posture.natural_break", "0.5s", "d0.5"), ("posture.natural_break", "24h", "d86400")]
    assert out.unmapped == [
        Unmapped("o0.5", "0.5s is outside ergo's 1s-24h range for posture.interval"),
        Unmapped("o86401", "24h1s is outside ergo's 1s-24h range for posture.interval"),
        Unmapped("o1e+308", "1e+308s is outside ergo's 1s-24h range for posture.interval"),
        Unmapped("d0", "0s: ergo needs a positive duration for posture.natural_break"),
        Unmapped("d-5", "-5s: ergo needs a positive duration for posture.natural_break"),
        Unmapped("d86401", "24h1s is longer than ergo's 24h limit for posture.natural_break"),
        Unmapped("d1e+20", "1e+20s is longer than ergo's 24h limit for posture.natural_break"),
    ]
    out.skip(["a", "b"], "why")
    assert out.unmapped[-2:] == [Unmapped("a", "why"), Unmapped("b", "why")]


def test_where_each_program_keeps_its_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.setattr(sys, "platform", "linux")
    assert safeeyes.default_path() == tmp_path / "xdg" / "safeeyes" / "safeeyes.json"
    assert stretchly.default_path() == tmp_path / "xdg" / "Stretchly" / "config.json"
    monkeypatch.setenv("XDG_CONFIG_HOME", "")  # set but empty: the XDG default
    assert safeeyes.default_path() == tmp_path / ".config" / "safeeyes" / "safeeyes.json"
    assert stretchly.default_path() == tmp_path / ".config" / "Stretchly" / "config.json"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert stretchly.default_path() == tmp_path / "Library" / "Application Support" / "Stretchly" / "config.json"
    monkeypatch.setattr(sys, "platform", "win32")
    assert stretchly.default_path() == tmp_path / "Roaming" / "Stretchly" / "config.json"
    monkeypatch.delenv("APPDATA")
    assert stretchly.default_path() == tmp_path / "Stretchly" / "config.json"


def test_workrave_live_settings_read_in_this_process_with_the_real_gsettings(monkeypatch: pytest.MonkeyPatch,
                                                                             tmp_path: Path) -> None:
    """Workrave's real schema compiled here and GSettings' memory backend: the schema's defaults, read by the real
    `gsettings list-recursively` that `ergo config import --from workrave` runs."""
    from tests.test_config_import_gsettings import workrave_schemas

    workrave_schemas(monkeypatch, tmp_path, "memory")
    flat = workrave.from_gsettings()
    assert flat["timers/micro-pause/limit"] == 180 and flat["timers/rest-break/limit"] == 2700
    assert flat["breaks/micro-pause/enabled"] is True and isinstance(flat["timers/micro-pause/auto-reset"], int)
    assert all("/" in key and not key.startswith(("org", "/")) for key in flat), sorted(flat)[:5]
    got = _mapped(workrave.parse(flat, "gsettings (live)"))
    assert got["posture.interval"] == "3m" and got["movement.interval"] == "45m" and got["posture.enabled"] is True
    monkeypatch.setenv("GSETTINGS_SCHEMA_DIR", str(tmp_path))  # no schema there
    with pytest.raises(ErgoError, match=r"^cannot read Workrave's settings with gsettings \(org\.workrave: .*\): is "
                                        r"Workrave installed\? Or pass a file \(dconf dump /org/workrave/ > workrave\.txt\)$"):
        workrave.from_gsettings()
    monkeypatch.setenv("PATH", str(tmp_path))  # no gsettings at all
    with pytest.raises(ErgoError, match=r"^gsettings is not installed: pass a file instead \(dconf dump /org/workrave/ > "
                                        r"workrave\.txt\)$"):
        workrave.from_gsettings()


def _refusal(reader, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        reader(text, "f.json")
    return str(caught.value)


def test_each_reader_refuses_what_is_not_its_programs_in_one_exact_line() -> None:
    assert _refusal(stretchly.parse, "[]") == "f.json: no microbreakInterval: not a Stretchly config.json"
    assert _refusal(stretchly.parse, '{"microbreakInterval": 60000, "breakInterval": "x"}') == \
        "f.json: breakInterval is 'x', not a number: not a Stretchly configuration ergo can read"
    assert _refusal(stretchly.parse, '{"microbreakInterval": 60000, "breakDuration": null}') == \
        "f.json: breakDuration is None, not a number: not a Stretchly configuration ergo can read"
    assert _refusal(stretchly.parse, '{"microbreakInterval": 60000, "naturalBreaksInactivityResetTime": [1]}') == \
        "f.json: naturalBreaksInactivityResetTime is [1], not a number: not a Stretchly configuration ergo can read"
    assert _refusal(stretchly.parse, '{"microbreakInterval": 1, "__internal__": {"migrations": {"version": "2.1.0"}}}') == \
        "f.json: Stretchly 2.1.0 is not a version ergo knows (it reads 1.x)"
    assert _refusal(safeeyes.parse, "[1]") == "f.json: no short_break_interval: not a Safe Eyes safeeyes.json"
    assert _refusal(safeeyes.parse, '{"short_break_interval": 1}') == \
        "f.json: Safe Eyes config version unknown is not one ergo knows (it reads 6.x)"
    assert _refusal(safeeyes.parse, '{"short_break_interval": 1, "meta": "6.0"}') == \
        "f.json: Safe Eyes config version unknown is not one ergo knows (it reads 6.x)"
    assert _refusal(safeeyes.parse, '{"short_break_interval": 1, "meta": {"config_version": "5.9"}}') == \
        "f.json: Safe Eyes config version 5.9 is not one ergo knows (it reads 6.x)"
    eyes = '{"meta": {"config_version": "6.1"}, "short_break_interval": 15, "long_break_interval": %s}'
    assert _refusal(safeeyes.parse, eyes % '"x"') == \
        "f.json: long_break_interval is 'x', not a number: not a Safe Eyes configuration ergo can read"
    assert _refusal(safeeyes.parse, eyes % '1, "short_break_duration": false') == \
        "f.json: short_break_duration is False, not a number: not a Safe Eyes configuration ergo can read"
    with pytest.raises(ConfigError) as caught:
        workrave.parse({"monitor/idle": 1}, "w.ini")
    assert str(caught.value) == ("w.ini: no timers/micro-pause/limit or timers/rest-break/limit: not Workrave's settings "
                                 "(or a version ergo does not know)")
    with pytest.raises(ConfigError) as caught:
        workrave.parse({"timers/micro-pause/limit": 2**60}, "w.ini")
    assert str(caught.value).startswith("w.ini: timers/micro-pause/limit is a 19-digit number, larger than any setting")


def test_stretchly_variants_map_exactly() -> None:
    def run(data: dict) -> tuple[dict, list[tuple[str, str]]]:
        result = stretchly.parse(json.dumps({"microbreakInterval": 600000, **data}), "c.json")
        return _mapped(result), [(u.name, u.why) for u in result.unmapped]

    assert run({}) == ({"posture.interval": "10m", "movement.interval": "30m"}, [])  # a long break every 3rd by default
    assert run({"naturalBreaksInactivityResetTime": 300000}) == (
        {"posture.interval": "10m", "movement.interval": "30m", "posture.natural_break": "5m", "movement.natural_break": "5m"},
        [])  # natural breaks are on unless turned off
    assert run({"naturalBreaks": False, "naturalBreaksInactivityResetTime": 300000, "useIdeasFromSettings": False,
                "microbreakIdeas": [], "breakIdeas": []}) == (
        {"posture.interval": "10m", "movement.interval": "30m"},
        [("naturalBreaks = false", "ergo keeps its own natural_break for each reminder"),
         ("microbreakIdeas", "useIdeasFromSettings is false: Stretchly's built-in ideas; ergo shows its own tips"),
         ("breakIdeas", "useIdeasFromSettings is false: Stretchly's built-in ideas; ergo shows its own tips")])
    assert run({"useIdeasFromSettings": True, "microbreakIdeas": [{"data": "A", "enabled": False}, {"data": " B "}, "x",
                                                                   {"data": ""}],
                "breakIdeas": [{"data": ["Walk", "to the door"]}]})[0] == {
        "posture.interval": "10m", "movement.interval": "30m", "posture.messages": ["B"],
        "movement.messages": ["Walk: to the door"]}


def test_safe_eyes_variants_map_exactly() -> None:
    base = {"meta": {"config_version": "6.0.3"}, "short_break_interval": 15, "long_break_interval": 60}

    def run(data: dict) -> tuple[dict, list[tuple[str, str]]]:
        result = safeeyes.parse(json.dumps({**base, **data}), "s.json")
        return _mapped(result), [(u.name, u.why) for u in result.unmapped]

    assert run({}) == ({"posture.interval": "15m", "movement.interval": "1h"}, [])
    assert run({"plugins": ["smartpause", {"id": "smartpause", "enabled": True, "settings": None}]}) == (
        {"posture.interval": "15m", "movement.interval": "1h"},
        [("smartpause interpret_idle_as_break = false",
          "ergo keeps its own natural_break for each reminder (an absence that long counts as the break)")])
    assert run({"plugins": [{"id": "smartpause", "enabled": True, "settings": {"idle_time": True}}]})[0] == {
        "posture.interval": "15m", "movement.interval": "1h"}, "a yes/no is not an idle time"
    assert run({"plugins": [{"id": "smartpause", "enabled": False}]}) == (
        {"posture.interval": "15m", "movement.interval": "1h", "idle.backend": "none"}, [])
    result = safeeyes.parse(json.dumps({**base, "plugins": [{"id": "smartpause", "enabled": False}]}), "s.json")
    assert result.mapped[-1].origin == "Safe Eyes smartpause plugin disabled (no idle detection)"


def test_workrave_variants_map_exactly() -> None:
    result = workrave.parse({"timers/micro-pause/limit": 180, "breaks/micro-pause/enabled": False,
                             "breaks/rest-break/enabled": "yes", "timers/rest-break/limit": True,
                             "timers/rest-break/snooze": 60}, "w")
    assert [(m.key, m.value, m.origin) for m in result.mapped] == [
        ("posture.enabled", False, "Workrave breaks/micro-pause/enabled = false"),
        ("posture.interval", "3m", "Workrave timers/micro-pause/limit = 180 (seconds)")]
    assert [(u.name, u.why) for u in result.unmapped] == [
        ("timers/rest-break/snooze = 60", "ergo has no default snooze length: `ergo snooze KIND 10m` says how long each time"),
        ("breaks/rest-break/enabled", "no counterpart in ergo"), ("timers/rest-break/limit", "no counterpart in ergo")]


def test_the_shared_checks_name_the_place_of_a_bad_value_exactly() -> None:
    from ergo.config_import.base import _seconds, _short, load_json

    def refusal(text: str) -> str:
        with pytest.raises(ConfigError) as caught:
            load_json(text, "f", "X file")
        return str(caught.value)

    assert refusal('{"n": ' + "9" * 5000 + "}") == (
        "f: Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits; use "
        "sys.set_int_max_str_digits() to increase the limit: not a X file")
    assert refusal("1e400") == "f: a value is inf, not a finite number: not a X file ergo can read"
    assert refusal('{"\\u00e9": "\\ud800"}') == \
        "f: \\xe9: a lone surrogate (\\ud800) at character 1 is not text: not a X file ergo can read"
    assert refusal('{"a": {"b": [1, "\\udfff"]}}') == \
        "f: a.b[1]: a lone surrogate (\\udfff) at character 1 is not text: not a X file ergo can read"
    assert _short("x" * 38) == "'" + "x" * 38 + "'" and _short("x" * 39) == "'" + "x" * 36 + "..."
    assert [_seconds(s) for s in (0.5, 1, 1.234567, 864000, 864001, 1e300)] == [
        "0.5s", "1s", "1.234567s", "240h", "864001s", "1e+300s"]


def test_workrave_ini_text_is_read_literally() -> None:
    """A per-cent sign is no interpolation, a section may come twice (later keys join it), ':' is part of a key."""
    flat = workrave.from_ini_text("[timers]\nmicro_pause.limit=240\nname=50%\n[timers]\nrest_break.limit=60\n[x]\na:b=1\n", "w")
    assert flat == {"timers/micro-pause/limit": 240, "timers/name": "50%", "timers/rest-break/limit": 60, "x/a:b": 1}
    assert workrave._value("''") == "" and workrave._value('"') == '"'


def test_merge_sets_revives_and_keeps_inline_tables_and_ends_with_a_newline() -> None:
    assert apply("x = 1", []) == "x = 1\n"
    assert apply("x = 1", [Mapped("posture.interval", "20m", "X a")]) == 'x = 1\n[posture]\ninterval = "20m"  # imported from X a\n'
    assert apply('[posture]\n# interval = "5m"\ndays = "mon-fri"\n', [Mapped("posture.interval", "20m", "X a")]) == \
        '[posture]\ninterval = "20m"  # imported from X a\ndays = "mon-fri"\n'
    assert apply('posture = {interval = "5m"}\n', [Mapped("posture.interval", "20m", "X a")]) == \
        'posture = {interval = "20m"}\n', "no comment fits inside { ... }"
    assert apply("", [Mapped("idle.backend", "none", "X b")]) == '[idle]\nbackend = "none"  # imported from X b\n'
