"""Carry out a tray menu choice: control requests over the socket, or a command whose output opens in a viewer.

"Today's stats" runs `ergo stats --day`, writes the text to a file in the runtime dir and opens it
with xdg-open. "Edit config" creates the documented file if missing and opens it with xdg-open, the
desktop's editor for text: a tray has no terminal for `ergo config edit`'s $EDITOR, and the daemon
reloads the saved file by itself.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ergo.control.client import request
from ergo.errors import ErgoError
from ergo.paths import runtime_dir, socket_path
from ergo.tray.model import Action, tomorrow_morning

log = logging.getLogger("ergo.tray")
SNOOZE = timedelta(minutes=10)


def _ergo(*args: str, capture: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ergo", *args], capture_output=capture, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout, check=False)


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
            command = ("stats", "--day")
            done = _ergo(*command)
            target = Path(runtime_dir()) / "today.txt"
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            target.write_text(f"$ ergo {' '.join(command)}\n\n{done.stdout}{done.stderr}")
            return _open(target)
        if action.command == "edit_config":
            found = _ergo("config", "path")
            if found.returncode != 0 or not found.stdout.strip():
                return f"edit_config: {found.stderr.strip() or 'no config path'}"
            path = Path(found.stdout.strip())
            if not path.exists():
                made = _ergo("config", "init")
                if made.returncode != 0:
                    return f"edit_config: {made.stderr.strip()}"
            return _open(path)
    except ErgoError as error:
        return f"{action.command}: {error}"
    except (OSError, subprocess.SubprocessError, KeyError, ValueError) as error:
        return f"{action.command} failed: {error}"
    return f"unknown tray action {action.command!r}"
