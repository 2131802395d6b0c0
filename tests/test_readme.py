"""Every `ergo ...` command the README and the docs pages show works when pasted: no usage error, no traceback.

The commands are read from README.md and docs/*.md themselves, so a new or renamed command there is checked too.
They run against a real daemon in a private home (config, state, runtime dir, systemd user dir).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.daemon_helpers import ErgoEnv, wait_for
from tests.helpers import REPO

#: The templates of the README's command table, written out as a person would type them.
EXPANDED = [
    "ergo status --json", "ergo pause 30m", "ergo resume", "ergo pause --until 13:30", "ergo resume", "ergo pause",
    "ergo resume", "ergo now posture", "ergo snooze", "ergo snooze posture", "ergo snooze posture 10m", "ergo skip",
    "ergo skip posture", "ergo now", "ergo schedule --hours 8", "ergo tips posture", "ergo history --days 1 --json",
    "ergo notify-test posture", "ergo config show --changed", "ergo config init --force", "ergo config validate",
    "ergo service status --dry-run", "ergo service install --dry-run", "ergo service uninstall --dry-run",
    "ergo plan list", "ergo plan status",
]
#: Commands that run until stopped (the daemon, `status --follow`, the tray): their own tests run them.
LONG_RUNNING = re.compile(r"^ergo (run|tray)\b|--follow")


def subcommands() -> set[str]:
    """ergo's real subcommands; a span like `ergo off` or `ergo ran 40h00m` quotes output, not a command."""
    import argparse

    from ergo.cli import build_parser

    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices)


def documents() -> list[Path]:
    """The README and every page of the docs site."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def readme_commands() -> list[str]:
    """Concrete `ergo ...` spans of the README and docs (templates with [ ], |, KIND or PATH are expanded above)."""
    text = "\n".join(page.read_text("utf-8") for page in documents())
    found = []
    known = subcommands()
    for span in re.findall(r"`(ergo [^`]+)`", text):
        if re.search(r"[\[\]|(]|KIND|PATH|NAME|\.\.\.", span) or LONG_RUNNING.search(span) or span.split()[1] not in known:
            continue
        if span not in found:
            found.append(span)
    return found


def _user_systemd_answers() -> bool:
    """True when a user systemd manager answers here (a desktop): it reads the real user's units."""
    import shutil

    if shutil.which("systemctl") is None:
        return False
    done = subprocess.run(["systemctl", "--user", "is-system-running"], capture_output=True, text=True, timeout=20)
    return bool(done.stdout.strip()) and "offline" not in done.stdout


def test_readme_lists_the_commands_this_test_runs() -> None:
    assert len(documents()) > 10  # the docs pages are read, not only the front page
    commands = readme_commands()
    for must in ("ergo start", "ergo status", "ergo stop", "ergo config edit", "ergo config path", "ergo snooze 5m",
                 "ergo service uninstall"):
        assert must in commands


def test_every_readme_command_works_when_pasted(tmp_path: Path) -> None:
    env_box = ErgoEnv.create(None, POSTURE__INTERVAL="20s", HYDRATION__INTERVAL="30s")
    home = tmp_path / "home"
    home.mkdir()
    env = {**env_box.env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "EDITOR": "true", "VISUAL": ""}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `ergo` as the README's install gives it
    commands = readme_commands()
    ordered = ["ergo start", "ergo now posture"]
    for command in commands + EXPANDED:
        if command in ("ergo start", "ergo stop"):
            continue
        if re.fullmatch(r"ergo (snooze|skip|done)( \d+m)?", command):  # answers the reminder on screen: show one first
            ordered.append("ergo now posture")
        ordered.append(command)
    ordered.append("ergo stop")
    try:
        results = []
        live_systemd = _user_systemd_answers()
        for command in ordered:
            argv = command.split()
            if live_systemd and argv[:3] in (["ergo", "service", "install"], ["ergo", "service", "uninstall"]):
                argv.append("--dry-run")  # never enable or disable a unit in a real session's systemd
            done = subprocess.run(argv, env=env, cwd=home, capture_output=True, text=True, timeout=60,
                                  stdin=subprocess.DEVNULL)
            results.append((command, done))
            if command == "ergo start":
                assert done.returncode == 0, done.stderr
                wait_for(lambda: env_box.socket.exists(), 5, what="the daemon")
        for command, done in results:
            assert "usage:" not in done.stderr and "Traceback" not in done.stderr + done.stdout, (command, done.stderr)
            assert done.returncode in (0, 1), (command, done.returncode, done.stderr)
            if done.returncode == 1:  # a refusal is one plain line, e.g. no systemd user manager in a container
                assert done.stderr.count("\n") <= 1 or command.startswith("ergo service"), (command, done.stderr)
        codes = {command: done.returncode for command, done in results}
        for must_work in ("ergo start", "ergo status", "ergo status --json", "ergo config path", "ergo config show",
                          "ergo tips", "ergo schedule", "ergo reload", "ergo snooze", "ergo snooze 5m", "ergo now",
                          "ergo config edit", "ergo service status", "ergo stop"):
            if must_work in codes:
                assert codes[must_work] == 0, (must_work, dict(results)[must_work].stderr)
    finally:
        env_box.cleanup()
