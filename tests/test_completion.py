"""`ergo completion bash|zsh|fish`: scripts generated from the parser, checked in the real shells.

bash: the script is sourced and its completion function called with COMP_WORDS, as
bash does on Tab. fish: `complete -C` asks fish itself what it would offer. zsh
has no such hook outside a terminal: the script must parse (`zsh -n`) and load
under compinit, and in a real terminal (tmux) Tab lists what it offers.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from ergo.cli import KINDS, build_parser
from ergo.cli import completion_script as script
from ergo.plans.catalog import load_plans
from tests.desktop import require_tools
from tests.helpers import ergo_env, run_ergo  # noqa: F401  (a fixture)

REPO = Path(__file__).resolve().parent.parent
# The shells are Linux's (bash 5, zsh, fish from Debian); macOS ships bash 3.2 and Windows none.
in_the_shells = pytest.mark.skipif(sys.platform != "linux", reason="the completion scripts are run in Linux's shells")
SUBCOMMANDS = sorted(build_parser(tray_hint="")._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("completion") / "ergo.bash"
    path.write_text(script("bash"), encoding="utf-8")
    return path


def bash_complete(script_path: Path, *words: str) -> list[str]:
    """What bash offers for `words` (the last one is being typed), asking the sourced script's function."""
    require_tools("bash")
    program = textwrap.dedent(f"""
        source {shlex.quote(str(script_path))}
        function=$(complete -p ergo | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p')
        COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})
        COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
        COMP_LINE="${{COMP_WORDS[*]}}"
        COMP_POINT=${{#COMP_LINE}}
        COMPREPLY=()
        "$function" ergo "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """)
    result = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


@in_the_shells
def test_bash_completes_subcommands_kinds_plans_and_flags(bash_script: Path) -> None:
    assert sorted(bash_complete(bash_script, "ergo", "")) == SUBCOMMANDS
    assert bash_complete(bash_script, "ergo", "sno") == ["snooze"]
    assert bash_complete(bash_script, "ergo", "snooze", "") == list(KINDS)
    assert bash_complete(bash_script, "ergo", "break", "hy") == ["hydration"]
    assert bash_complete(bash_script, "ergo", "tips", "") == list(KINDS)
    assert sorted(bash_complete(bash_script, "ergo", "plan", "start", "")) == sorted(load_plans())
    assert bash_complete(bash_script, "ergo", "plan", "start", "acu") == ["acute-back"]
    stats = bash_complete(bash_script, "ergo", "stats", "--")
    assert {"--day", "--week", "--month", "--json", "--config"} <= set(stats)
    assert bash_complete(bash_script, "ergo", "completion", "") == ["bash", "zsh", "fish"]
    assert bash_complete(bash_script, "ergo", "config", "import", "--from", "") == ["safeeyes", "stretchly", "workrave"]


@in_the_shells
def test_bash_completes_files_for_config_paths(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text("", encoding="utf-8")
    offered = bash_complete(bash_script, "ergo", "status", "--config", f"{tmp_path}/mi")
    assert offered == [f"{tmp_path}/mine.toml"]


def test_the_kinds_are_the_settings_kinds() -> None:
    from ergo.config.model import REMINDER_KINDS

    assert KINDS == REMINDER_KINDS  # the completion (and the help) list every kind the config knows


@in_the_shells
def test_fish_completes_in_fish(tmp_path: Path) -> None:
    require_tools("fish")
    path = tmp_path / "ergo.fish"
    path.write_text(script("fish"), encoding="utf-8")
    assert subprocess.run(["fish", "-n", str(path)], capture_output=True, text=True, timeout=30).returncode == 0

    def offered(line: str) -> list[str]:
        result = subprocess.run(["fish", "--no-config", "-c", f"source {shlex.quote(str(path))}; complete -C {shlex.quote(line)}"],
                                capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 0, result.stderr
        return [row.split("\t")[0] for row in result.stdout.splitlines() if row]

    assert set(SUBCOMMANDS) <= set(offered("ergo "))
    assert offered("ergo snooze ") == list(KINDS)
    assert sorted(offered("ergo plan start ")) == sorted(load_plans())
    assert {"--day", "--week", "--month", "--json"} <= set(offered("ergo stats --"))


@in_the_shells
def test_zsh_script_parses_and_loads(tmp_path: Path) -> None:
    require_tools("zsh")
    folder = tmp_path / "functions"
    folder.mkdir()
    (folder / "_ergo").write_text(script("zsh"), encoding="utf-8")
    checked = subprocess.run(["zsh", "-n", str(folder / "_ergo")], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    program = (f"fpath=({shlex.quote(str(folder))} $fpath); autoload -Uz compinit; compinit -u -d {shlex.quote(str(tmp_path / 'dump'))}; "
               "print -r -- ${_comps[ergo]}; autoload +X _ergo && (( $+functions[_ergo] )) && print loaded")
    loaded = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, timeout=30, check=False,
                            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert loaded.stdout.split() == ["_ergo", "loaded"], loaded.stdout + loaded.stderr
    assert "acute-back" in (folder / "_ergo").read_text(encoding="utf-8")  # plan names are in it too


def test_completion_command_prints_each_shell_and_refuses_others(ergo_env) -> None:
    for shell in ("bash", "zsh", "fish"):
        result = run_ergo(["completion", shell], ergo_env)
        assert result.returncode == 0 and result.stdout == script(shell), result.stderr
    bad = run_ergo(["completion", "tcsh"], ergo_env)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr


def test_only_the_completion_command_imports_shtab(ergo_env) -> None:
    program = textwrap.dedent("""
        import contextlib, io, json, sys
        from ergo.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            codes = [main(["--version"]), main(["tips", "posture"]), main(["status"])]
            before = "shtab" in sys.modules
            codes.append(main(["completion", "bash"]))
        print(json.dumps([codes, before, "shtab" in sys.modules]))
    """)
    result = subprocess.run([sys.executable, "-c", program], env=ergo_env, cwd=REPO, capture_output=True, text=True, timeout=60)
    codes, before, after = json.loads(result.stdout.splitlines()[-1])
    assert codes == [0, 0, 1, 0] and (before, after) == (False, True), result.stderr


@in_the_shells
def test_zsh_completes_in_a_terminal(tmp_path: Path) -> None:
    """Type `ergo snooze <Tab>` into an interactive zsh in tmux and read the screen."""
    require_tools("zsh", "tmux")
    folder = tmp_path / "functions"
    folder.mkdir()
    (folder / "_ergo").write_text(script("zsh"), encoding="utf-8")
    server = f"ergo-test-{uuid.uuid4().hex[:12]}"  # a tmux server of this test's own
    env = {"HOME": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "TERM": "xterm"}
    tmux = ["tmux", "-L", server]

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True, timeout=10).stdout

    def wait_for_screen(text: str) -> str:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if text in (shown := screen()):
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared:\n{screen()}")

    subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", "150", "-y", "20", "zsh", "-f"], env=env, check=True, timeout=10)
    try:
        setup = (f"fpath=({shlex.quote(str(folder))} $fpath); autoload -Uz compinit; "
                 f"compinit -u -d {shlex.quote(str(tmp_path / 'dump'))}; PS1='zsh-test> '; echo ready")
        subprocess.run([*tmux, "send-keys", "-t", "t", setup, "Enter"], check=True, timeout=10)
        wait_for_screen("\nready")
        subprocess.run([*tmux, "send-keys", "-t", "t", "ergo snooze ", "Tab"], check=True, timeout=10)
        shown = wait_for_screen("workspace")
        assert all(kind in shown for kind in KINDS), shown
        subprocess.run([*tmux, "send-keys", "-t", "t", "C-c"], check=True, timeout=10)
        deadline = time.monotonic() + 15  # a fresh, empty prompt before typing on
        while [line for line in screen().splitlines() if line.strip()][-1].strip() != "zsh-test>":
            assert time.monotonic() < deadline, screen()
            time.sleep(0.1)
        subprocess.run([*tmux, "send-keys", "-t", "t", "ergo plan st", "Tab"], check=True, timeout=10)
        shown = wait_for_screen("the running plan and its next steps")
        assert "start" in shown and "stop" in shown, shown
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=10)
