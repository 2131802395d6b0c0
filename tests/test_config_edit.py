"""`ergo config path` is a path, and `ergo config edit` with a real editor (a shell script) and a real daemon."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
