"""`ergo config import` with hostile files (issue 16, item 4): every bad source is one line and exit 2,
nothing hangs or eats memory, and the user's own TOML survives byte for byte where nothing is imported.

Real files, FIFOs, /dev/zero, a real system-wide file with a lock, the real CLI in a subprocess.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

import pytest

from ergo.config_import.base import Imported, Mapped
from tests.helpers import REPO, ergo_env, run_ergo  # noqa: F401
from tests.test_full_disk import _fill, tiny_fs  # noqa: F401 - a real small tmpfs

DATA = REPO / "tests" / "data"
STRETCHLY = (DATA / "stretchly-config.json").read_text("utf-8")
SAFE_EYES = (DATA / "safeeyes.json").read_text("utf-8")


def _stretchly_with(value: str) -> str:
    """Stretchly's real file with microbreakInterval's number replaced by `value`, as raw JSON text."""
    assert '"microbreakInterval": 900000' in STRETCHLY
    return STRETCHLY.replace('"microbreakInterval": 900000', f'"microbreakInterval": {value}')


def _write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


HOSTILE = {
    "NaN": ("stretchly", lambda d: _write(d / "c.json", _stretchly_with("NaN")), "NaN is not a number JSON allows"),
    "Infinity": ("stretchly", lambda d: _write(d / "c.json", _stretchly_with("-Infinity")), "-Infinity is not a number"),
    "1e308": ("stretchly", lambda d: _write(d / "c.json", _stretchly_with("1e308")), "microbreakInterval is 1e+308"),
    "1e999": ("stretchly", lambda d: _write(d / "c.json", _stretchly_with("1e999")), "inf, not a finite number"),
    "20 digits, Stretchly": ("stretchly", lambda d: _write(d / "c.json", _stretchly_with("12345678901234567890")),
                             "microbreakInterval is a 20-digit number"),
    "20 digits, Safe Eyes": ("safeeyes", lambda d: _write(d / "s.json", SAFE_EYES.replace(
        '"short_break_interval": 20', '"short_break_interval": 12345678901234567890')), "a 20-digit number"),
    "5000 digits": ("stretchly", lambda d: _write(d / "c.json", _stretchly_with("9" * 5000)), "4300"),
    "20 digits, Workrave ini": ("workrave", lambda d: _write(d / "w.ini", "[timers]\nmicro_pause.limit=12345678901234567890\n"),
                                "timers/micro-pause/limit is a 20-digit number"),
    "int64, dconf dump": ("workrave", lambda d: _write(d / "w.txt", "[timers/rest-break]\nlimit=int64 9223372036854775807\n"),
                          "timers/rest-break/limit is a 19-digit number"),
    "uint64, dconf dump": ("workrave", lambda d: _write(d / "w.txt", "[timers/rest-break]\nlimit=uint64 18446744073709551615\n"),
                           "a 20-digit number"),
    "100 000 deep": ("stretchly", lambda d: _write(d / "c.json", "[" * 100_000 + "]" * 100_000), "JSON nested too deeply"),
    "lone surrogate in a key": ("stretchly", lambda d: _write(d / "c.json", STRETCHLY.replace(
        '"microbreakInterval"', '"x\\ud800y": 1, "microbreakInterval"')), "a lone surrogate (\\ud800)"),
    "lone surrogate in an idea": ("stretchly", lambda d: _write(d / "c.json", STRETCHLY.replace(
        "Roll your shoulders back.", "Roll \\udc00back.")), "microbreakIdeas[0].data: a lone surrogate (\\udc00) at character 6"),
    "FIFO": ("safeeyes", lambda d: (os.mkfifo(d / "fifo.json"), d / "fifo.json")[1], "it is a FIFO, not a regular file"),
    "/dev/zero": ("stretchly", lambda d: Path("/dev/zero"), "it is a device, not a regular file"),
    "a directory": ("workrave", lambda d: d, "it is a directory, not a regular file"),
    "2 MiB": ("stretchly", lambda d: _write(d / "c.json", STRETCHLY[:-2] + ', "pad": "' + "x" * (2 << 20) + '"}'),
              "too large for a settings file (at most 1 MiB)"),
    "/proc/self/pagemap": ("stretchly", lambda d: Path("/proc/self/pagemap"),  # a regular file of size 0 and no end
                           "more than 1048576 bytes is too large for a settings file (at most 1 MiB)"),
    "not UTF-8": ("safeeyes", lambda d: (d / "s.json").write_bytes(b'{"a": "\xff"}') and d / "s.json", "not UTF-8 text (byte 8)"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_every_hostile_source_is_one_line_and_exit_2(ergo_env, tmp_path: Path, case: str) -> None:
    program, make, fragment = HOSTILE[case]
    folder = tmp_path / "src"
    folder.mkdir()
    source = make(folder)
    result = run_ergo(["config", "import", "--from", program, str(source)], ergo_env, timeout=20)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and result.stdout == "", (result.returncode, result.stdout[-300:], result.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith(f"ergo: {source}") and fragment in lines[0], lines
    assert len(lines[0]) < 400 and not Path(ergo_env["ERGO_CONFIG"]).exists()


@pytest.mark.parametrize("kind", ["FIFO", "directory", "2 MiB"])
def test_an_existing_config_that_is_no_regular_file_is_refused_without_blocking(ergo_env, kind: str) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    {"FIFO": lambda: os.mkfifo(config), "directory": lambda: config.mkdir(),
     "2 MiB": lambda: config.write_text("#" * (2 << 20) + "\n")}[kind]()
    result = run_ergo(["config", "import", "--from", "safeeyes", str(DATA / "safeeyes.json")], ergo_env, timeout=20)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith(f"ergo: {config}:")


USER_TOML = '''# my settings, kept by hand
notifier = "console"   # I read the log

[posture]
title = 'Sit "tall"'  # a literal string
messages = ["""
interval = "99m"
is what my physio wrote on the card
""", 'C:\\path\\not\\escaped']
interval = "25m"  # was 30m
# duration = "1m"
urgency = "low"

[hydration]
interval = "40m"
'''


def test_the_users_toml_is_edited_as_toml_not_as_text(ergo_env) -> None:
    """A multi-line string holding `interval = ...` is a string: the text merge rewrote its line."""
    config = Path(ergo_env["ERGO_CONFIG"])
    config.write_text(USER_TOML, "utf-8")
    before = tomllib.loads(USER_TOML)
    result = run_ergo(["config", "import", "--from", "safeeyes", str(DATA / "safeeyes.json")], ergo_env)
    assert result.returncode == 0, result.stderr
    text = config.read_text("utf-8")
    after = tomllib.loads(text)
    assert after["posture"]["messages"] == before["posture"]["messages"]
    assert after["posture"]["title"] == 'Sit "tall"' and after["posture"]["urgency"] == "low"
    assert after["posture"]["interval"] == "20m" and after["posture"]["duration"] == "15s"
    assert after["hydration"] == {"interval": "40m"} and after["notifier"] == "console"
    for line in USER_TOML.splitlines():  # every line the import did not set is there, unchanged, in order
        if not line.startswith(("interval = \"25m\"", "# duration")):
            assert line in text.splitlines(), line
    assert text.index("title = ") < text.index('messages = ["""') < text.index('interval = "20m"') < text.index("urgency")
    assert 'duration = "15s"  # imported from Safe Eyes short_break_duration = 15 (seconds)' in text  # revived in place
    assert text.index('duration = "15s"') < text.index('urgency = "low"')


def test_every_import_keeps_a_new_backup_with_the_files_mode(ergo_env, tmp_path: Path) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    first = '[posture]\ninterval = "25m"\n'
    config.write_text(first, "utf-8")
    config.chmod(0o640)
    assert run_ergo(["config", "import", "--from", "safeeyes", str(DATA / "safeeyes.json")], ergo_env).returncode == 0
    second = config.read_text("utf-8")
    data = json.loads(STRETCHLY)
    source = _write(tmp_path / "stretchly.json", json.dumps(data))
    result = run_ergo(["config", "import", "--from", "stretchly", str(source)], ergo_env)
    assert result.returncode == 0, result.stderr
    assert "(the previous file is config.toml.bak.2)" in result.stdout
    assert config.with_name("config.toml.bak").read_text("utf-8") == first
    assert config.with_name("config.toml.bak.2").read_text("utf-8") == second
    for path in (config, config.with_name("config.toml.bak"), config.with_name("config.toml.bak.2")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
    assert not [p for p in config.parent.iterdir() if p.name.startswith(".config.toml.import-")]


def test_a_value_ergo_refuses_is_listed_and_left_out_not_the_whole_import(ergo_env, tmp_path: Path) -> None:
    """Safe Eyes' smartpause idle_time of 2000 minutes is over ergo's 24h for idle.away_after."""
    data = json.loads(SAFE_EYES)
    smart = next(p for p in data["plugins"] if p["id"] == "smartpause")
    smart["settings"]["idle_time"] = 2000
    source = _write(tmp_path / "safeeyes.json", json.dumps(data))
    result = run_ergo(["config", "import", "--from", "safeeyes", str(source)], ergo_env)
    assert result.returncode == 0, result.stderr
    assert "Safe Eyes smartpause idle_time = 2000 (minutes): 33h20m is longer than ergo's 24h limit for idle.away_after" in \
        result.stdout.replace("\n    ", " ")
    settings = tomllib.loads(Path(ergo_env["ERGO_CONFIG"]).read_text("utf-8"))
    assert settings["posture"]["interval"] == "20m" and settings["idle"]["away_after"] == "3m"  # the default, untouched


def test_any_key_ergos_check_refuses_is_dropped_with_the_reason(tmp_path: Path, ergo_env) -> None:
    """The safety net behind the readers' own bounds: whatever load_settings refuses of the imported keys."""
    from ergo.commands.config_import import _merge

    imported = Imported("X", "x.json", [Mapped("posture.urgency", "extreme", "X level = 9"),
                                        Mapped("posture.interval", "20m", "X every = 20")])
    text = _merge('[posture]\ninterval = "30m"\n', imported, tmp_path / "config.toml")
    assert tomllib.loads(text) == {"posture": {"interval": "20m"}}
    assert [(u.name, u.why) for u in imported.unmapped] == [
        ("X level = 9", 'ergo refuses it for posture.urgency: "extreme" is not one of \'low\', \'normal\' or \'critical\'')]


def test_a_locked_key_is_reported_as_locked_not_imported(ergo_env, tmp_path: Path) -> None:
    system = Path(ergo_env["XDG_CONFIG_DIRS"]) / "ergo" / "config.toml"
    system.parent.mkdir(parents=True)
    system.write_text('[posture]\ninterval = "45m"\n[policy]\nlocked = ["posture.interval", "idle"]\n', "utf-8")
    result = run_ergo(["config", "import", "--from", "safeeyes", str(DATA / "safeeyes.json")], ergo_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout.replace("\n    ", " ")
    assert f"Safe Eyes short_break_interval = 20 (minutes): posture.interval is locked by the system-wide file {system}" in out
    assert f"idle.away_after is locked by the system-wide file {system}" in out
    written = tomllib.loads(Path(ergo_env["ERGO_CONFIG"]).read_text("utf-8"))
    assert written["posture"]["interval"] == "30m" and written["movement"]["interval"] == "1h"  # the rest is imported
    assert "locked" not in result.stderr  # nothing the user wrote is locked: no notice


def test_text_from_the_source_never_reaches_the_terminal_with_escape_sequences(ergo_env, tmp_path: Path) -> None:
    data = json.loads(STRETCHLY)
    data["\x1b]0;owned\x07\x1b[2J"] = 1
    source = _write(tmp_path / "c.json", json.dumps(data))
    result = run_ergo(["config", "import", "--from", "stretchly", str(source), "--dry-run"], ergo_env)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "?]0;owned??[2J" in result.stdout and "\n\n" not in result.stdout


@pytest.mark.parametrize("idea", ["Sit\u0000tall", "\u001b[31mSit tall", "Sit\u0007 tall"])
def test_an_idea_a_notification_cannot_carry_is_listed_and_left_out(ergo_env, tmp_path: Path, idea: str) -> None:
    """ergo's check refuses text a notification cannot carry (ergo.safetext); the import lists the
    ideas with that reason and imports everything else."""
    data = json.loads(STRETCHLY)
    data["microbreakIdeas"][0]["data"] = idea
    source = _write(tmp_path / "c.json", json.dumps(data))
    result = run_ergo(["config", "import", "--from", "stretchly", str(source)], ergo_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout.replace("\n    ", " ")
    assert "Stretchly microbreakIdeas (the 1 enabled): ergo refuses it for posture.messages:" in out, out
    assert "\x1b" not in result.stdout and "\x00" not in result.stdout and "\x07" not in result.stdout
    written = tomllib.loads(Path(ergo_env["ERGO_CONFIG"]).read_text("utf-8"))
    assert written["posture"]["messages"] == [] and written["posture"]["interval"] == "15m"
    assert written["movement"]["messages"] == ["Walk: Walk to the kitchen and back."]


def test_a_live_gsettings_int64_at_its_limit_is_one_line(ergo_env, tmp_path: Path) -> None:
    """Real gsettings and dconf: Workrave's schema with micro-pause/limit as an int64 ('x'), set to
    9223372036854775807, read live: `gsettings` prints `int64 9223372036854775807`."""
    from tests.test_config_import import _workrave_session

    schema = (DATA / "org.workrave.gschema.xml").read_text("utf-8")
    old = '<key type="i" name="limit">\n      <default>180</default>'
    assert old in schema
    schema = schema.replace(old, '<key type="x" name="limit">\n      <default>180</default>')
    script = """
gsettings set org.workrave.timers.micro-pause limit 9223372036854775807
gsettings get org.workrave.timers.micro-pause limit
"$PYTHON" -m ergo config import --from workrave 2> "$ERR" || echo "exit $?"
"""
    err = tmp_path / "ergo.err"
    result = _workrave_session(tmp_path, script, {**ergo_env, "ERR": str(err)}, schema=schema)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "int64 9223372036854775807" and result.stdout.splitlines()[-1] == "exit 2"
    lines = err.read_text().strip().splitlines()
    assert lines == ["ergo: gsettings (live): timers/micro-pause/limit is a 19-digit number, larger than any setting "
                     "(2^53): a damaged Workrave settings file, nothing imported"], lines
    assert not Path(ergo_env["ERGO_CONFIG"]).exists()


def test_a_full_disk_changes_nothing_and_leaves_nothing(ergo_env, tiny_fs: Path) -> None:
    """A real 256 KiB tmpfs, filled: the import says so in one line; the config is as it was and no
    backup or temporary file is left half-written."""
    config = tiny_fs / "config.toml"
    config.write_text('[posture]\ninterval = "25m"\n', "utf-8")
    _fill(tiny_fs)
    result = run_ergo(["config", "import", "--from", "safeeyes", str(DATA / "safeeyes.json")],
                      {**ergo_env, "ERGO_CONFIG": str(config)})
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0] and "nothing changed" in lines[0], lines
    assert config.read_text("utf-8") == '[posture]\ninterval = "25m"\n'
    assert sorted(p.name for p in tiny_fs.iterdir()) == ["config.toml", "filler"]
