"""`ergo config path` is a path, and `ergo config edit` with a real editor (a shell script) and a real daemon."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ergo.commands.config_edit import pick_editor
from tests.daemon_helpers import Daemon, ErgoEnv
from tests.helpers import REPO, ergo_env  # noqa: F401

BAD = '[posture]\ninterval = "abc"\n'
GOOD = '[posture]\ninterval = "7m"\n'


def editor_script(tmp_path: Path, *contents: str, status: int = 0) -> Path:
    """A real editor: the n-th run writes contents[n] into the file it is given (the last one repeats)."""
    script = tmp_path / "scripted-editor.sh"  # a real program run as $EDITOR; a script types instead of a person
    runs = tmp_path / "editor-runs"
    cases = "\n".join(f"  {i}) printf '%s' '{text}' > \"$1\" ;;" for i, text in enumerate(contents))
    script.write_text(
        "#!/bin/sh\n"
        f"n=$(cat '{runs}' 2>/dev/null || echo 0)\n"
        f"echo $((n + 1)) > '{runs}'\n"
        f"echo \"$1\" >> '{tmp_path}/editor-files'\n"
        f"case $n in\n{cases}\n  *) printf '%s' '{contents[-1]}' > \"$1\" ;;\nesac\n"
        f"exit {status}\n"
    )
    script.chmod(0o755)
    return script


def ergo(args: list[str], env: dict[str, str], answers: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ergo", *args], env=env, cwd=REPO, input=answers,
                          capture_output=True, text=True, timeout=60)


def test_config_path_prints_only_the_path_so_an_editor_can_open_it(ergo_env, tmp_path) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    done = ergo(["config", "path"], ergo_env)
    assert done.returncode == 0
    assert done.stdout == f"{config}\n"
    assert "ERGO_CONFIG" in done.stderr and "does not exist yet" in done.stderr
    script = editor_script(tmp_path, GOOD)
    shell = subprocess.run(["sh", "-c", '"$EDITOR" "$(python -m ergo config path 2>/dev/null)"'],
                           env={**ergo_env, "EDITOR": str(script), "PATH": f"{Path(sys.executable).parent}:{ergo_env['PATH']}"},
                           cwd=REPO, capture_output=True, text=True, timeout=60)
    assert shell.returncode == 0, shell.stderr
    assert config.read_text() == GOOD  # the real file, not "config.toml  (ERGO_CONFIG; ...)"


def test_edit_creates_from_the_template_reopens_after_an_error_and_reloads_the_daemon(tmp_path) -> None:
    env_box = ErgoEnv.create(None, POSTURE__INTERVAL=None, HYDRATION__INTERVAL="1h")
    try:
        with Daemon(env_box) as daemon:
            assert daemon.status()["reminders"]["posture"]["interval"] == "30m"
            script = editor_script(tmp_path, BAD, GOOD)
            env = {**env_box.env, "EDITOR": str(script)}
            env.pop("VISUAL", None)
            done = ergo(["config", "edit"], env, answers="y\n")
            assert done.returncode == 0, done.stderr
            config = env_box.config
            assert f'{config}: posture.interval: "abc" is not a duration' in done.stderr  # names the real file
            assert "Edit again? [Y/n]" in done.stderr
            assert f"created {config}" in done.stdout
            assert "the running daemon reloaded it" in done.stdout
            assert config.read_text() == GOOD
            assert (tmp_path / "editor-runs").read_text().strip() == "2"
            edited = (tmp_path / "editor-files").read_text().split()
            assert len(set(edited)) == 1 and Path(edited[0]).parent == config.parent  # a draft beside the file
            assert not Path(edited[0]).exists() and sorted(p.name for p in config.parent.iterdir() if p.name.startswith(".")) == []
            assert daemon.status()["reminders"]["posture"]["interval"] == "7m"
            assert daemon.status()["config_error"] is None  # the daemon never saw the broken draft
    finally:
        env_box.cleanup()


def test_a_rejected_edit_leaves_the_file_alone_and_keeps_the_edit(ergo_env, tmp_path) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    config.write_text('[hydration]\ninterval = "20m"\n')
    env = {**ergo_env, "EDITOR": str(editor_script(tmp_path, BAD))}
    done = ergo(["config", "edit"], env, answers="n\n")
    assert done.returncode == 2
    assert config.read_text() == '[hydration]\ninterval = "20m"\n'
    rejected = config.with_name(config.name + ".rejected")
    assert rejected.read_text() == BAD
    assert f"your edit is kept in {rejected}" in done.stderr.splitlines()[-1]
    assert "Traceback" not in done.stderr
    no_terminal = ergo(["config", "edit"], env)  # stdin at EOF: no second try, same answer
    assert no_terminal.returncode == 2 and config.read_text() == '[hydration]\ninterval = "20m"\n'


def test_unchanged_edit_and_failing_editor(ergo_env, tmp_path) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    config.write_text(GOOD)
    same = ergo(["config", "edit"], {**ergo_env, "VISUAL": str(editor_script(tmp_path, GOOD)), "EDITOR": "false"})
    assert same.returncode == 0 and same.stdout.strip() == f"{config}: no changes"  # $VISUAL wins over $EDITOR
    failing = ergo(["config", "edit"], {**ergo_env, "VISUAL": "", "EDITOR": "sh -c 'exit 3' --"})
    assert failing.returncode == 1
    assert failing.stderr.strip() == f"ergo: the editor 'sh' exited with status 3; {config} was not changed"
    assert config.read_text() == GOOD
    missing = ergo(["config", "edit"], {**ergo_env, "EDITOR": "/nonexistent/editor"})
    assert missing.returncode == 1 and missing.stderr.startswith("ergo: cannot start the editor '/nonexistent/editor'")


def test_editor_choice_order(tmp_path) -> None:
    assert pick_editor({"VISUAL": "code -w", "EDITOR": "vim"}) == ["code", "-w"]
    assert pick_editor({"VISUAL": " ", "EDITOR": "vim"}) == ["vim"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("vi",):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    import os

    old = os.environ["PATH"]
    try:
        os.environ["PATH"] = str(bin_dir)
        assert pick_editor({}) == ["vi"]  # no nano here: vi
        (bin_dir / "nano").write_text("#!/bin/sh\n")
        (bin_dir / "nano").chmod(0o755)
        assert pick_editor({}) == ["nano"]
    finally:
        os.environ["PATH"] = old


def _leftovers(config: Path) -> list[str]:
    return sorted(p.name for p in config.parent.iterdir() if p.name.startswith(f".{config.stem}.edit-"))


def test_an_editor_that_deletes_the_draft_is_one_line(ergo_env) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    config.write_text(GOOD)
    done = ergo(["config", "edit"], {**ergo_env, "VISUAL": "", "EDITOR": "sh -c 'rm -- \"$1\"' --"})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ergo: the editor removed the draft .config.edit-")
    assert lines[0].endswith(f"; {config} was not changed")
    assert config.read_text() == GOOD and _leftovers(config) == []


def test_a_rejected_folder_or_an_older_rejected_edit_is_never_overwritten(ergo_env, tmp_path) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    config.write_text(GOOD)
    config.with_name("config.toml.rejected").mkdir()
    env = {**ergo_env, "VISUAL": "", "EDITOR": str(editor_script(tmp_path, BAD))}
    first = ergo(["config", "edit"], env, answers="n\n")
    second = ergo(["config", "edit"], env, answers="n\n")
    for done, name in ((first, "config.toml.rejected.2"), (second, "config.toml.rejected.3")):
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr.splitlines()[-1].endswith(f"(your edit is kept in {config.with_name(name)}; {config} was not changed)")
        assert config.with_name(name).read_text() == BAD
    assert config.with_name("config.toml.rejected").is_dir() and config.read_text() == GOOD and _leftovers(config) == []


def _waiting_editor(tmp_path: Path, name: str, text: str | None) -> Path:
    """An editor that saves `text` (None: saves nothing), says so in NAME.ready, then stays open until
    NAME.go exists or it gets SIGTERM/SIGHUP (then it quits as vim and nano do)."""
    script = tmp_path / f"{name}.sh"
    save = f"printf '%s' '{text}' > \"$1\"\n" if text is not None else ""
    script.write_text("#!/bin/sh\n"
                      f"trap 'echo \"$0 got a signal\" > {tmp_path}/{name}.signal; exit 1' TERM HUP\n"
                      f"{save}sleep 0.2; touch {tmp_path}/{name}.ready\n"  # ergo has set up its signals by then
                      f"n=0; while [ ! -e {tmp_path}/{name}.go ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n + 1)); done\n")
    script.chmod(0o755)
    return script


def _wait(path: Path, timeout: float = 20) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def _start_edit(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ergo", "config", "edit"], env=env, cwd=REPO, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize(("signame", "saved"), [("SIGTERM", True), ("SIGHUP", True), ("SIGTERM", False)])
def test_a_signal_while_editing_leaves_no_draft_and_loses_no_edit(ergo_env, tmp_path, signame: str, saved: bool) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    config.write_text(GOOD)
    editor = _waiting_editor(tmp_path, "ed", '[posture]\ninterval = "9m"\n' if saved else None)
    edit = _start_edit({**ergo_env, "VISUAL": "", "EDITOR": str(editor)})
    try:
        _wait(tmp_path / "ed.ready")
        edit.send_signal(getattr(signal, signame))
        out, err = edit.communicate(timeout=20)
    finally:
        edit.kill()
        (tmp_path / "ed.go").touch()  # the editor ends whatever happened
    assert (tmp_path / "ed.signal").exists()  # the editor was told, so it does not write on after ergo is gone
    assert edit.returncode == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    kept = config.with_name("config.toml.interrupted")
    if saved:
        assert err.strip() == f"ergo: {signame} while editing: {config} was not changed; your edit is kept in {kept}"
        assert kept.read_text() == '[posture]\ninterval = "9m"\n'
    else:
        assert err.strip() == f"ergo: {signame} while editing: {config} was not changed" and not kept.exists()
    assert config.read_text() == GOOD and _leftovers(config) == []


def test_of_two_concurrent_edits_the_later_one_is_told_and_kept_not_lost(ergo_env, tmp_path) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    config.write_text(GOOD)
    slow = _start_edit({**ergo_env, "VISUAL": "", "EDITOR": str(_waiting_editor(tmp_path, "a", '[posture]\ninterval = "8m"\n'))})
    try:
        _wait(tmp_path / "a.ready")
        quick = ergo(["config", "edit"], {**ergo_env, "VISUAL": "", "EDITOR": str(editor_script(tmp_path, '[posture]\ninterval = "6m"\n'))})
        assert quick.returncode == 0 and f"saved {config}" in quick.stdout
        (tmp_path / "a.go").touch()
        out, err = slow.communicate(timeout=20)
    finally:
        slow.kill()
        (tmp_path / "a.go").touch()
    kept = config.with_name("config.toml.yours")
    assert slow.returncode == 1 and "Traceback" not in err
    assert err.strip() == (f"ergo: {config} changed while you were editing (another edit or program saved it first); "
                           f"it was not overwritten: your edit is kept in {kept}")
    assert config.read_text() == '[posture]\ninterval = "6m"\n' and kept.read_text() == '[posture]\ninterval = "8m"\n'
    assert _leftovers(config) == []


def test_ctrl_c_in_the_editor_does_not_end_the_edit(ergo_env, tmp_path) -> None:
    """Ctrl-C goes to the whole foreground group: vim uses it to cancel a command and stays open, so
    ergo must wait on (it used to die, delete the draft, and lose what the editor saved after)."""
    config = Path(ergo_env["ERGO_CONFIG"])
    config.write_text(GOOD)
    editor = _waiting_editor(tmp_path, "ed", '[posture]\ninterval = "9m"\n')
    edit = _start_edit({**ergo_env, "VISUAL": "", "EDITOR": str(editor)})
    try:
        _wait(tmp_path / "ed.ready")
        edit.send_signal(signal.SIGINT)  # to ergo alone: the editor's own reaction is its business
        (tmp_path / "ed.go").touch()  # the person saves and quits later
        out, err = edit.communicate(timeout=20)
    finally:
        edit.kill()
        (tmp_path / "ed.go").touch()
    assert edit.returncode == 0, err
    assert config.read_text() == '[posture]\ninterval = "9m"\n' and _leftovers(config) == []
