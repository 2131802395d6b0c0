"""`ergo config import`, read in this process: each reader given another program's real file, settings of
an unexpected shape (JSON of any shape is still JSON), and the TOML edit keeping what it does not own.

These call the readers and the merge directly, so mutation testing (benchmarks/mutation.sh) sees them;
tests/test_config_import.py runs the same refusals through the CLI for the exit code.
"""

from __future__ import annotations

import json

import pytest

from ergo.config_import import safeeyes, stretchly, workrave
from ergo.config_import.base import Mapped, load_json
from ergo.config_import.merge import apply
from ergo.errors import ConfigError
from tests.helpers import REPO

DATA = REPO / "tests" / "data"
EYES = {"meta": {"config_version": "6.0.3"}, "short_break_interval": 15, "long_break_interval": 60}


def _refusal(reader, text: str, where: str = "f.json") -> str:
    with pytest.raises(ConfigError) as caught:
        reader(text, where)
    return str(caught.value)


def _workrave_file(text: str, where: str) -> object:
    return workrave.parse(workrave.from_ini_text(text, where), where)


@pytest.mark.parametrize(("reader", "data_file", "message"), [
    (safeeyes.parse, "stretchly-config.json", "no short_break_interval: not a Safe Eyes safeeyes.json"),
    (safeeyes.parse, "workrave-dconf-dump.txt", "not JSON: not a Safe Eyes safeeyes.json"),
    (stretchly.parse, "safeeyes.json", "no microbreakInterval: not a Stretchly config.json"),
    (stretchly.parse, "org.workrave.gschema.xml", "not JSON: not a Stretchly config.json"),
    (_workrave_file, "safeeyes.json", "not a dconf dump or an ini file: not Workrave's settings"),
    (_workrave_file, "stretchly-config.json", "not a dconf dump or an ini file: not Workrave's settings"),
], ids=["safeeyes<stretchly", "safeeyes<workrave", "stretchly<safeeyes", "stretchly<schema", "workrave<safeeyes",
        "workrave<stretchly"])
def test_another_programs_real_file_is_refused_in_its_one_line(reader, data_file: str, message: str) -> None:
    """A JSON object of the wrong program is named as such, not refused later for a missing number."""
    assert _refusal(reader, (DATA / data_file).read_text("utf-8"), data_file) == f"{data_file}: {message}"


def test_safe_eyes_version_and_numbers_are_named_exactly() -> None:
    def eyes(**changes: object) -> str:
        return json.dumps({**EYES, **changes})

    assert _refusal(safeeyes.parse, eyes(meta={})) == \
        "f.json: Safe Eyes config version unknown is not one ergo knows (it reads 6.x)", "a meta without config_version"
    assert _refusal(safeeyes.parse, eyes(short_break_interval="20")) == \
        "f.json: short_break_interval is '20', not a number: not a Safe Eyes configuration ergo can read"
    smart = [{"id": "smartpause", "enabled": True, "settings": {"interpret_idle_as_break": True}}]
    assert _refusal(safeeyes.parse, eyes(plugins=smart, short_break_duration=20)) == \
        "f.json: long_break_duration is None, not a number: not a Safe Eyes configuration ergo can read", \
        "idle counted as a break needs both break lengths"


@pytest.mark.parametrize("plugins", [
    5, {"smartpause": {"enabled": False}}, [{"id": ["smartpause"], "enabled": False}],
    [{"id": "smartpause", "enabled": True, "settings": [4]}], [{"id": "smartpause", "enabled": True, "settings": "x"}],
], ids=["a-number", "an-object", "an-id-that-is-a-list", "settings-a-list", "settings-a-string"])
def test_safe_eyes_plugins_of_any_shape_import_the_rest(plugins: object) -> None:
    """Valid JSON of an unexpected shape is read, never a traceback: the intervals are imported all the same."""
    result = safeeyes.parse(json.dumps({**EYES, "plugins": plugins}), "s.json")
    assert [(m.key, m.value) for m in result.mapped][:2] == [("posture.interval", "15m"), ("movement.interval", "1h")]
    assert "idle.backend" not in [m.key for m in result.mapped], "only a smartpause plugin turned off turns idle off"


@pytest.mark.parametrize("internal", [{}, {"migrations": "1.16.0"}, {"migrations": {}}, "x", None])
def test_stretchly_without_a_readable_version_is_read_as_1x(internal: object) -> None:
    """electron-store's __internal__ may lack a version (or be damaged): the settings are read all the same."""
    result = stretchly.parse(json.dumps({"microbreakInterval": 600000, "__internal__": internal}), "c.json")
    assert [(m.key, m.value) for m in result.mapped] == [("posture.interval", "10m"), ("movement.interval", "30m")]
    assert result.unmapped == []


@pytest.mark.parametrize("ideas", [None, 5, "Walk", {"data": "Walk"}], ids=["missing", "a-number", "a-string", "an-object"])
def test_stretchly_ideas_that_are_no_list_give_no_messages(ideas: object) -> None:
    data = {"microbreakInterval": 600000, "useIdeasFromSettings": True, "breakIdeas": ideas}
    if ideas is None:
        del data["breakIdeas"]
    result = stretchly.parse(json.dumps(data), "c.json")
    assert [m.key for m in result.mapped] == ["posture.interval", "movement.interval"]


def test_the_place_of_a_bad_value_keeps_a_keys_own_dots() -> None:
    def refusal(text: str) -> str:
        with pytest.raises(ConfigError) as caught:
            load_json(text, "f", "X file")
        return str(caught.value)

    assert refusal('{".a": 1e400}') == "f: .a is inf, not a finite number: not a X file ergo can read"
    assert refusal('{"a": {".b": [1e400]}}') == "f: a..b[0] is inf, not a finite number: not a X file ergo can read"
    assert refusal('{".\\ud800": 1}') == \
        "f: '.\\ud800': a lone surrogate (\\ud800) at character 2 is not text: not a X file ergo can read"
    assert refusal('{"a": {"b\\ud800": 1}}') == \
        "f: a.'b\\ud800': a lone surrogate (\\ud800) at character 2 is not text: not a X file ergo can read"


def test_workrave_keys_and_values_are_read_as_written() -> None:
    """Every key is listed under its own name (capitals too), and a value is unquoted only from matching quotes."""
    flat = workrave.from_ini_text("[/]\nMAX=1\n[timers/micro-pause]\nlimit=180\nXlabelX=XyX\nname='a b'\n", "w")
    assert flat == {"MAX": 1, "timers/micro-pause/limit": 180, "timers/micro-pause/XlabelX": "XyX",
                    "timers/micro-pause/name": "a b"}
    result = workrave.parse(flat, "w")
    assert [u.name for u in result.unmapped] == ["MAX", "timers/micro-pause/XlabelX", "timers/micro-pause/name"]


def test_workrave_damaged_number_is_one_exact_line() -> None:
    with pytest.raises(ConfigError) as caught:
        workrave.parse({"timers/micro-pause/limit": 180, "monitor/idle": -(2**63)}, "w.ini")
    assert str(caught.value) == ("w.ini: monitor/idle is a 19-digit number, larger than any setting (2^53): a damaged "
                                 "Workrave settings file, nothing imported")


def test_merge_keeps_every_other_comment_and_revives_only_this_tables_example() -> None:
    """An unrelated comment before the example stays; a sub-table's `# interval = ...` is the sub-table's."""
    text = '[posture]\n# my own note\n# interval = "5m"\ndays = "mon-fri"\n'
    assert apply(text, [Mapped("posture.interval", "20m", "X a")]) == \
        '[posture]\n# my own note\ninterval = "20m"  # imported from X a\ndays = "mon-fri"\n'
    text = '[posture]\ndays = "mon-fri"\n\n[posture.extra]\n# interval = "5m"\n'
    assert apply(text, [Mapped("posture.interval", "20m", "X a")]) == \
        '[posture]\ndays = "mon-fri"\ninterval = "20m"  # imported from X a\n\n[posture.extra]\n# interval = "5m"\n'


def test_merge_into_an_inline_table_adds_no_comment_inside_the_braces_and_sets_the_keys_after_it() -> None:
    mapped = [Mapped("posture.interval", "20m", "X a"), Mapped("movement.interval", "1h", "X b")]
    assert apply('posture = {days = "mon-fri"}\n', mapped) == \
        'posture = {days = "mon-fri",interval = "20m"}\n\n[movement]\ninterval = "1h"  # imported from X b\n'



@pytest.mark.parametrize("value", ['"every 20m"', "5", "[1]"])
def test_a_section_that_is_no_table_is_refused_naming_it(value: str, tmp_path) -> None:
    """`posture = 5` is TOML, but no place for posture.interval: one line naming it, the file untouched."""
    from ergo.commands.config_import import run
    from ergo.config_import.merge import NotATable

    with pytest.raises(NotATable) as caught:
        apply(f"posture = {value}\n", [Mapped("posture.interval", "20m", "X a")])
    assert str(caught.value) == "posture is not a table: ergo's posture settings go in a [posture] table"
    config = tmp_path / "ergo.toml"
    config.write_text(f"posture = {value}\n", "utf-8")
    with pytest.raises(ConfigError) as refused:
        run("safeeyes", str(DATA / "safeeyes.json"), False, str(config))
    assert str(refused.value) == \
        f"{config}: posture is not a table: ergo's posture settings go in a [posture] table, nothing written"
    assert config.read_text("utf-8") == f"posture = {value}\n" and sorted(p.name for p in tmp_path.iterdir()) == ["ergo.toml"]
