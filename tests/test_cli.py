"""The real `python -m ergo` command line: one-line errors, config commands, tips, schedule, no-daemon control.

Subprocesses cost ~0.3-0.8 s each, so independent calls run side by side (`run_all`), and the long
list of bad inputs goes through `ergo.cli.main` in ONE helper subprocess (`cli_batch`); a few of
those cases also run as separate `python -m ergo` processes to check the interpreter-level exit.
"""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from subprocess import CompletedProcess, TimeoutExpired, run

import pytest

from ergo import __version__
from tests.helpers import REPO, ergo_env, isolated_env, run_ergo  # noqa: F401
from tests.test_settings import BAD_ENV, BAD_FILES, write

NOT_RUNNING = "ergo: not running"


def run_all(calls: list[tuple[list[str], Mapping[str, str]]]) -> list[CompletedProcess[str]]:
    """run_ergo for each (args, env), side by side; results in the same order."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return list(pool.map(lambda call: run_ergo(*call), calls))


def one_line_error(result: CompletedProcess[str], code: int) -> str:
    """Assert: exit `code`, exactly one line on stderr, no traceback; return that line."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# --- every bad input through the CLI boundary, batched ------------------------------

_BATCH = textwrap.dedent("""
    import contextlib, io, json, os, sys, traceback
    from ergo.cli import main
    base = dict(os.environ)
    for case in json.load(sys.stdin):
        os.environ.clear()
        os.environ.update(base)
        os.environ.update(case["env"])
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(case["args"])
            except SystemExit as exit:
                code = exit.code
            except BaseException:
                code = "crash"
                traceback.print_exc(file=err)
        print(json.dumps({"id": case["id"], "code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}), flush=True)
""")


def _batch_cases(root: Path) -> tuple[list[dict], dict[str, str]]:
    cases, env = [], isolated_env(root)
    files = root / "bad"
    files.mkdir()
    for name, (content, _) in BAD_FILES.items():
        path = write(files / f"{name}.toml", content)
        cases.append({"id": f"validate:{name}", "args": ["config", "validate", str(path)], "env": {}})
        cases.append({"id": f"run:{name}", "args": ["run"], "env": {"ERGO_CONFIG": str(path)}})
    for name, (variable, value, _) in BAD_ENV.items():
        cases.append({"id": f"env-run:{name}", "args": ["run"], "env": {variable: value}})
        cases.append({"id": f"env-schedule:{name}", "args": ["schedule"], "env": {variable: value}})
    folder = root / "folder.toml"
    folder.mkdir()
    cases.append({"id": "validate:directory", "args": ["config", "validate", str(folder)], "env": {}})
    cases.append({"id": "run:directory", "args": ["run"], "env": {"ERGO_CONFIG": str(folder)}})
    return cases, env


@pytest.fixture(scope="module")
def cli_batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Results of ergo.cli.main(args) for every bad input, from one subprocess (a hang shows as missing ids)."""
    root = tmp_path_factory.mktemp("batch")
    cases, env = _batch_cases(root)
    try:
        done = run([sys.executable, "-c", _BATCH], input=json.dumps(cases), env=env, cwd=REPO,
                   capture_output=True, text=True, timeout=300, check=False)  # seconds quiet; a minute at load
        stdout = done.stdout
    except TimeoutExpired as error:  # keep what finished
        stdout = error.stdout or ""
        stdout = stdout.decode() if isinstance(stdout, bytes) else stdout
    results = {}
    for line in stdout.splitlines():
        entry = json.loads(line)
        results[entry["id"]] = entry
    return results


def _batched(cli_batch: dict[str, dict], case_id: str) -> str:
    entry = cli_batch.get(case_id)
    assert entry is not None, f"{case_id}: no result (did an earlier case hang or crash the batch?)"
    assert entry["code"] == 2, entry
    assert "Traceback" not in entry["stderr"]
    lines = entry["stderr"].splitlines()
    assert len(lines) == 1, entry["stderr"]
    assert entry["stdout"] == ""
    assert lines[0].startswith("ergo: ")
    return lines[0].removeprefix("ergo: ")


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", list(BAD_FILES) + ["directory"])
def test_bad_file_exit_2_one_line(cli_batch, case: str, command: str) -> None:
    message = _batched(cli_batch, f"{command}:{case}")
    assert re.match(r"^/\S+(bad/" + re.escape(case) + r"|folder)\.toml: ", message), message
    for fragment in BAD_FILES.get(case, ("", ("cannot read the file",)))[1]:
        assert fragment in message, message


@pytest.mark.parametrize("command", ["run", "schedule"])
@pytest.mark.parametrize("case", list(BAD_ENV))
def test_bad_env_exit_2_names_the_variable(cli_batch, case: str, command: str) -> None:
    variable, _, fragments = BAD_ENV[case]
    message = _batched(cli_batch, f"env-{command}:{case}")
    assert message.startswith(f"{variable}: "), message
    for fragment in fragments:
        assert fragment in message, message


def test_bad_inputs_as_real_processes(ergo_env, tmp_path) -> None:
    """A few of the cases above as separate `python -m ergo` processes: exit 2 at once, one line, no traceback."""
    bad = write(tmp_path / "bad.toml", BAD_FILES["not-a-duration"][0])
    broken = write(tmp_path / "broken.toml", BAD_FILES["broken-toml"][0])
    binary = write(tmp_path / "binary.toml", BAD_FILES["non-utf8"][0])
    calls = [
        (["run"], {**ergo_env, "ERGO_CONFIG": str(bad)}),
        (["run"], {**ergo_env, "ERGO_CONFIG": str(broken)}),
        (["run"], {**ergo_env, "ERGO_CONFIG": str(binary)}),
        (["run"], {**ergo_env, "ERGO_POSTURE__INTERVAL": "abc"}),
        (["config", "validate", str(bad)], ergo_env),
        (["--config", str(broken), "config", "validate"], ergo_env),
    ]
    results = run_all(calls)  # nothing waits: a daemon that started would run into run_ergo's timeout
    lines = [one_line_error(result, 2) for result in results]
    assert lines[0] == f'ergo: {bad}: hydration.interval: "abc" is not a duration (try 45m or 1h30m)'
    assert lines[1].startswith(f"ergo: {broken}: not valid TOML")
    assert lines[2].startswith(f"ergo: {binary}: cannot read the file")
    assert lines[3] == 'ergo: ERGO_POSTURE__INTERVAL: "abc" is not a duration (try 45m or 1h30m)'
    assert lines[4] == lines[0]
    assert lines[5].startswith(f"ergo: {broken}: not valid TOML")
    assert not (Path(ergo_env["ERGO_RUNTIME_DIR"]) / "ergo.sock").exists()


# --- ergo config ------------------------------------------------------------------


def test_config_path_init_validate(ergo_env, tmp_path) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    other = tmp_path / "elsewhere" / "ergo.toml"
    before = run_all([
        (["config", "path"], ergo_env),
        (["config", "path", "--config", str(other)], ergo_env),
        (["config", "validate"], ergo_env),
    ])
    assert before[0].returncode == 0
    assert before[0].stdout == f"{config}\n"  # only the path: `$EDITOR "$(ergo config path)"` opens it
    assert before[0].stderr.startswith("ergo: ERGO_CONFIG; does not exist yet")
    assert before[1].stdout == f"{other}\n" and before[1].stderr.startswith("ergo: --config; ")
    assert before[2].returncode == 0, before[2].stderr  # no file: the defaults and the environment are checked
    assert before[2].stdout.startswith(f"{config}: no such file; the built-in defaults with the environment and flags are ok")

    first = run_ergo(["config", "init"], ergo_env)
    assert first.returncode == 0 and first.stdout.strip() == f"wrote {config}"
    assert config.read_bytes() == (REPO / "config" / "ergo.toml").read_bytes()

    config.write_text('[posture]\ninterval = "7m"\n')
    again = run_ergo(["config", "init"], ergo_env)
    assert one_line_error(again, 1) == f"ergo: {config} already exists; use --force to overwrite it"
    assert config.read_text() == '[posture]\ninterval = "7m"\n'  # untouched

    after = run_all([
        (["config", "validate"], ergo_env),
        (["config", "path"], ergo_env),
        (["config", "init", "--force"], ergo_env),
        (["config", "init", "--config", str(other)], ergo_env),  # creates missing parent folders
    ])
    assert after[0].returncode == 0 and after[0].stdout.strip() == f"{config}: ok"
    assert after[1].stdout == f"{config}\n" and after[1].stderr.strip() == "ergo: ERGO_CONFIG; exists"
    assert after[2].returncode == 0
    assert config.read_bytes() == (REPO / "config" / "ergo.toml").read_bytes()
    assert after[3].returncode == 0 and other.read_bytes() == config.read_bytes()
    good = run_ergo(["config", "validate", str(other)], ergo_env)
    assert good.returncode == 0 and good.stdout.strip() == f"{other}: ok"


def _show(stdout: str, marks: dict[str, bool] | None = None) -> dict[str, tuple[str, str]]:
    """key -> (value, origin); `marks` collects whether each row carries the differs-from-default *."""
    rows = {}
    for line in stdout.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"(\S+)\s+= (.*?)\s+(\*?) # (.+)", line)
        assert match, line
        rows[match.group(1)] = (match.group(2), match.group(4))
        if marks is not None:
            marks[match.group(1)] = match.group(3) == "*"
    return rows


def test_config_show_marks_every_origin(ergo_env) -> None:
    config = write(Path(ergo_env["ERGO_CONFIG"]), '[hydration]\ninterval = "20m"\n[posture]\ninterval = "10m"\n')
    env = {**ergo_env, "ERGO_STRETCH__INTERVAL": "2h", "ERGO_POSTURE__INTERVAL": "11m"}
    shown, missing = run_all([
        (["--notifier", "console", "config", "show", "--set", "posture.interval=7m"], env),
        (["config", "show"], {**ergo_env, "ERGO_CONFIG": str(config.with_name("absent.toml"))}),
    ])
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == f"# config file: {config}"
    rows = _show(shown.stdout)
    assert rows["notifier"] == ('"console"', "flag")
    assert rows["posture.interval"] == ('"7m"', "flag")  # beats env and file
    assert rows["stretch.interval"] == ('"2h"', "env ERGO_STRETCH__INTERVAL")
    assert rows["hydration.interval"] == ('"20m"', f"file {config}")
    assert rows["movement.interval"] == ('"50m"', "default")
    assert rows["hydration.title"] == ('"Drink some water"', "default")
    assert rows["posture.enabled"] == ("true", "default")
    assert rows["workspace.natural_break"] == ("-", "default")
    assert missing.returncode == 0
    assert missing.stdout.splitlines()[0].endswith("(not found: built-in defaults apply)")
    marks: dict[str, bool] = {}
    assert {origin for _, origin in _show(missing.stdout, marks).values()} == {"default"}
    assert not any(marks.values())
    _show(shown.stdout, marks)
    assert {k for k, marked in marks.items() if marked} == {"notifier", "posture.interval", "stretch.interval", "hydration.interval"}


def test_config_show_changed_lists_only_what_differs_from_the_defaults(ergo_env) -> None:
    write(Path(ergo_env["ERGO_CONFIG"]), '[hydration]\ninterval = "20m"\n[posture]\ninterval = "30m"\n')  # 30m is the default
    changed, nothing = run_all([
        (["config", "show", "--changed"], {**ergo_env, "ERGO_STRETCH__ENABLED": "false"}),
        (["config", "show", "--changed"], {**ergo_env, "ERGO_CONFIG": ergo_env["ERGO_CONFIG"] + ".absent"}),
    ])
    assert changed.returncode == 0, changed.stderr
    rows = _show(changed.stdout)
    assert rows == {
        "hydration.interval": ('"20m"', f"file {ergo_env['ERGO_CONFIG']}; default \"45m\""),
        "stretch.enabled": ("false", "env ERGO_STRETCH__ENABLED; default true"),
    }
    assert nothing.returncode == 0 and nothing.stdout.splitlines()[-1] == "# everything is at its built-in default"


# --- tips -----------------------------------------------------------------------


def test_tips(ergo_env) -> None:
    everything, hydration, nosuch = run_all([(["tips"], ergo_env), (["tips", "hydration"], ergo_env),
                                            (["tips", "nosuch"], ergo_env)])
    assert everything.returncode == 0
    headings = re.findall(r"^(\w+) \((\d+) tips\)$", everything.stdout, re.MULTILINE)
    assert {"posture", "hydration", "stretch", "movement"} <= {kind for kind, _ in headings}
    assert all(int(count) >= 2 for _, count in headings)

    assert hydration.returncode == 0
    lines = hydration.stdout.split("\n\n", 1)[1].splitlines()  # after the red flag
    assert re.fullmatch(r"hydration \(\d+ tips\)", lines[0])
    assert not any(re.fullmatch(r"\w+ \(\d+ tips\)", line) for line in lines[1:])  # only this kind
    tips = [line for line in lines[1:] if not line.strip().startswith(("source:", "(", "ergo's tips"))]  # labels
    sources = [line for line in lines[1:] if line.strip().startswith("source:")]
    assert len(tips) == len(sources) == int(lines[0].split("(")[1].split()[0])
    assert all(re.fullmatch(r'\s+source: .+ \(\d{3}_\w+\.txt\), section ".+"', line) for line in sources)
    assert "source: Deconstructing the Primary Source of Back Pain (000_f4b6bc79e35247ba.txt)" in everything.stdout
    for output in (everything, hydration):  # the warning signs, once, at the top
        assert output.stdout.startswith('! Warning signs: if back spasms "persist, are severe, or are accompanied by')
        assert sum(line.startswith("! ") for line in output.stdout.splitlines()) == 1

    message = one_line_error(nosuch, 1)
    assert "'nosuch'" in message and "hydration" in message


# --- schedule ---------------------------------------------------------------------


def _timeline(stdout: str, first_day: date) -> list[tuple[datetime, str]]:
    """(UTC time, text) for each timeline row; day headers like 'Mon 23 Nov' carry no year."""
    rows, day = [], None
    for line in stdout.splitlines():
        if header := re.fullmatch(r"\w{3} (\d{2}) (\w{3})", line):
            day = next(first_day + timedelta(days=n) for n in range(30)
                       if (first_day + timedelta(days=n)).strftime("%d %b") == f"{header.group(1)} {header.group(2)}")
        elif row := re.fullmatch(r"  (\d{2}):(\d{2})  (.+)", line):
            assert day is not None, line
            rows.append((datetime(day.year, day.month, day.day, int(row.group(1)), int(row.group(2)), tzinfo=UTC),
                         row.group(3)))
    return rows


def test_schedule_follows_an_env_interval(ergo_env) -> None:
    env = {**ergo_env, "TZ": "UTC", "ERGO_POSTURE__INTERVAL": "20m"}
    before = datetime.now(UTC)
    result = run_ergo(["schedule", "--hours", "2"], env)
    after = datetime.now(UTC)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Coming reminders for the next 2h")
    rows = _timeline(result.stdout, before.date())
    posture = [at for at, text in rows if re.search(r"\bposture\b", text)]  # alone or merged
    hydration = [at for at, text in rows if re.search(r"\bhydration\b", text)]
    def floor(moment: datetime) -> datetime:
        return moment.replace(second=0, microsecond=0)

    assert floor(before + timedelta(minutes=20)) <= posture[0] <= floor(after + timedelta(minutes=20))
    assert [b - a for a, b in pairwise(posture)] == [timedelta(minutes=20)] * (len(posture) - 1)
    assert len(posture) == 6  # +20m .. +2h
    assert [b - a for a, b in pairwise(hydration)] == [timedelta(minutes=45)]  # untouched default


def test_schedule_respects_work_hours(ergo_env) -> None:
    write(Path(ergo_env["ERGO_CONFIG"]), '[schedule]\ndays = "mon-fri"\nhours = "09:00-17:00"\n')
    env = {**ergo_env, "TZ": "UTC"}
    started = datetime.now(UTC)
    # 96 h always holds two whole weekday windows, whatever the weekday today (48 h from Friday evening holds none)
    result = run_ergo(["schedule", "--hours", "96"], env)
    assert result.returncode == 0, result.stderr
    assert "  work hours: mon,tue,wed,thu,fri 09:00-17:00" in result.stdout.splitlines()
    rows = _timeline(result.stdout, started.date())
    begins = [at for at, text in rows if text == "-- work hours begin"]
    ends = [at for at, text in rows if text == "-- work hours end"]
    reminders = [(at, text) for at, text in rows if not text.startswith("--")]
    assert len(begins) >= 2 and reminders
    assert all(at.weekday() < 5 and (at.hour, at.minute) == (9, 0) for at in begins)
    assert all(at.weekday() < 5 and (at.hour, at.minute) == (17, 0) for at in ends)
    for at, text in reminders:
        assert at.weekday() < 5 and 9 * 60 < at.hour * 60 + at.minute < 17 * 60, (at, text)
    for begin in begins:  # each window starts the countdowns afresh: posture 30 min in, nothing at 09:00
        assert (begin + timedelta(minutes=30), "posture") in reminders


def test_schedule_with_touching_all_day_windows_finishes(ergo_env) -> None:
    """Regression: touching windows covering every day made WorkHours._extend loop forever."""
    write(Path(ergo_env["ERGO_CONFIG"]), '[schedule]\nhours = "00:00-12:00, 12:00-24:00"\n')
    result = run_ergo(["schedule", "--hours", "1"], {**ergo_env, "TZ": "UTC"}, timeout=30)  # a loop never ends
    assert result.returncode == 0, result.stderr
    assert "posture" in result.stdout


# --- control commands with no daemon --------------------------------------------


def test_control_commands_without_a_daemon(ergo_env) -> None:
    commands = [["status"], ["status", "--json"], ["pause", "30m"], ["snooze", "posture"], ["resume"],
                ["reload"], ["stop"], ["pause", "abc"]]
    results = run_all([(args, ergo_env) for args in commands])
    by_name = dict(zip((" ".join(args) for args in commands), results))

    status = by_name.pop("status")
    assert status.stdout == ""
    assert NOT_RUNNING in one_line_error(status, 1)
    as_json = by_name.pop("status --json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == {"running": False}
    assert "Traceback" not in as_json.stderr
    bad = by_name.pop("pause abc")
    assert one_line_error(bad, 1) == 'ergo: pause: "abc" is not a duration (try 45m or 1h30m)'
    for name, result in by_name.items():
        line = one_line_error(result, 1)
        assert NOT_RUNNING in line and "ergo start" in line, (name, line)
    assert not any(Path(ergo_env["ERGO_RUNTIME_DIR"]).glob("*.sock"))


def test_control_commands_stay_light(ergo_env) -> None:
    script = textwrap.dedent("""
        import json, sys
        from ergo.cli import main
        code = main(["status"])
        heavy = {"apscheduler", "pydantic", "pydantic_settings", "plyer", "jeepney", "shtab"}
        print(json.dumps([code, sorted(m for m in sys.modules if m.split(".")[0] in heavy)]))
    """)
    result = run([sys.executable, "-c", script], env=ergo_env, cwd=REPO, capture_output=True, text=True, timeout=30, check=False)
    assert json.loads(result.stdout) == [1, []], result.stderr


# --- help and version -------------------------------------------------------------


def test_no_command_prints_help_and_version(ergo_env) -> None:
    bare, version, nonsense = run_all([([], ergo_env), (["--version"], ergo_env), (["frobnicate"], ergo_env)])
    assert bare.returncode == 0 and bare.stdout.startswith("usage: ergo")
    for command in ("run", "status", "pause", "config", "tips", "schedule"):
        assert re.search(rf"^\s+{command}\s", bare.stdout, re.MULTILINE), command
    assert version.returncode == 0 and version.stdout.strip() == f"ergo {__version__}"
    assert nonsense.returncode == 2 and "invalid choice" in nonsense.stderr  # argparse's usage error


def test_light_parser_takes_plain_control_commands_and_leaves_the_rest_to_argparse() -> None:
    from ergo.cli import light_control_args

    status = light_control_args(["status", "--json"])
    assert status is not None and (status.command, status.json) == ("status", True)
    snooze = light_control_args(["snooze", "posture"])
    assert snooze is not None and (snooze.kind, snooze.duration) == ("posture", None)  # 10m is decided later
    last = light_control_args(["done"])  # no kind: the last reminder delivered
    assert last is not None and (last.command, last.kind) == ("done", None)
    pause = light_control_args(["pause", "30m"])
    assert pause is not None and (pause.duration, pause.until) == ("30m", None)
    # help, other flags, missing or extra arguments and other commands: argparse decides (and says why)
    for bare in ("skip", "now", "snooze"):  # no kind: the reminder delivered last (issue 8)
        parsed = light_control_args([bare])
        assert parsed is not None and parsed.kind is None
    for argv in (["status", "--help"], ["pause", "--until", "13:30"], ["break"], ["status", "x"], ["--config", "f", "status"],
                 ["tips"], ["now", "posture", "extra"], []):
        assert light_control_args(argv) is None, argv


def test_control_command_errors_are_still_argparse_errors(ergo_env) -> None:
    missing, extra = run_all([(["pause", "--until"], ergo_env), (["status", "x"], ergo_env)])
    assert missing.returncode == 2 and "expected one argument" in missing.stderr  # (`now` alone is valid: the last reminder)
    assert extra.returncode == 2 and "unrecognized arguments: x" in extra.stderr


def test_status_times_read_without_datetime_match_datetime() -> None:
    """`ergo status` parses and formats the daemon's times with `time` alone; the answers equal datetime's."""
    from ergo.commands.control import _epoch, _format_seconds, _local
    from ergo.timing.durations import format_duration

    for moment in (datetime(2026, 11, 27, 10, 26, 13, tzinfo=UTC), datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
                   datetime(2000, 3, 1, tzinfo=UTC), datetime(1969, 12, 31, 12, tzinfo=UTC),
                   datetime.now(UTC).replace(microsecond=0), datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)):
        iso = moment.isoformat(timespec="seconds")
        assert _epoch(iso) == moment.timestamp(), iso
        local = moment.astimezone()
        expected = local.strftime("%a %H:%M") if local.date() != datetime.now().astimezone().date() else \
            local.strftime("%H:%M:%S" if local.second else "%H:%M")
        assert _local(iso) == expected, iso
    assert _epoch("2026-11-27T10:26:13.500000+01:00") == datetime.fromisoformat("2026-11-27T10:26:13.500000+01:00").timestamp()
    for seconds in (0, 1, 59, 60, 61, 3599, 3600, 3661, 86399, 90061, 400000, -75):
        assert _format_seconds(seconds) == format_duration(timedelta(seconds=seconds)), seconds
