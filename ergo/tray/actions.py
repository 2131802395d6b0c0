"""Carry out a tray menu choice: control requests over the socket, or a command whose output opens in a viewer.

"Today's stats" runs `ergo stats` when this ergo has it, else `ergo history --days 1`, writes the
text to a file in the runtime dir and opens it with xdg-open. "Edit config" runs `ergo config edit`
when present, else creates the documented file if missing and opens it with xdg-open.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ergo.control_client import request
from ergo.errors import ErgoError
from ergo.paths import runtime_dir, socket_path
from ergo.tray.model import Action, tomorrow_morning

log = logging.getLogger("ergo.tray")
SNOOZE = timedelta(minutes=10)


def _ergo(*args: str, capture: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ergo", *args], capture_output=capture, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout, check=False)


def _has_command(name: str, *sub: str) -> bool:
    """True when this ergo knows `ergo NAME ...` (the tray may be newer or older than the CLI's commands)."""
    return _ergo(name, *sub, "--help").returncode == 0


def _open(path: Path) -> str:
    opener = shutil.which("xdg-open")
    if opener is None:
        return f"no xdg-open here: read {path}"
    subprocess.Popen([opener, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)
    return f"opened {path}"


def perform(action: Action) -> str:
    """Do it; return one line for the log. Errors become that line, never an exception (the tray stays up)."""
    args = dict(action.arguments)
    now = datetime.now(timezone.utc)
    sock = socket_path()
    try:
        if action.command == "pause":
            until = tomorrow_morning(now) if args.get("tomorrow") else now + timedelta(minutes=int(args["minutes"]))
            request(sock, "pause", until=until.isoformat())
            return f"paused until {until.astimezone():%a %H:%M}"
        if action.command == "snooze":
            request(sock, "snooze", kind=args["kind"], until=(now + SNOOZE).isoformat())
            return f"{args['kind']} snoozed 10 min"
        if action.command in ("resume", "now"):
            request(sock, action.command, **args)
            return f"{action.command} {args.get('kind', '')}".strip()
        if action.command == "start":
            done = _ergo("start")
            return (done.stdout or done.stderr).strip()
        if action.command == "open_stats":
            command = ("stats",) if _has_command("stats") else ("history", "--days", "1")
            done = _ergo(*command)
            target = Path(runtime_dir()) / "today.txt"
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            target.write_text(f"$ ergo {' '.join(command)}\n\n{done.stdout}{done.stderr}")
            return _open(target)
        if action.command == "edit_config":
            if _has_command("config", "edit"):
                subprocess.Popen([sys.executable, "-m", "ergo", "config", "edit"], start_new_session=True,
                                 stdin=subprocess.DEVNULL)
                return "ergo config edit"
            path = Path(_ergo("config", "path").stdout.strip().splitlines()[0].split(" (")[0].strip() or "config.toml")
            if not path.exists():
                _ergo("config", "init")
            return _open(path)
    except ErgoError as error:
        return f"{action.command}: {error}"
    except (OSError, subprocess.SubprocessError, KeyError, ValueError) as error:
        return f"{action.command} failed: {error}"
    return f"unknown tray action {action.command!r}"
