"""`ergo config edit`: edit a copy in the editor, check it, install it, tell a running daemon.

Like `crontab -e` and `visudo`: the live file changes only once the edit is valid, so a
running daemon never sees a half-written or broken file; a rejected edit is never lost.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ergo.errors import ConfigError, DaemonNotRunning, ErgoError


def pick_editor(environ: dict[str, str] | os._Environ[str] = os.environ) -> list[str]:
    """$VISUAL, then $EDITOR (either may carry arguments, e.g. "code -w"), then nano or vi; notepad on Windows."""
    for name in ("VISUAL", "EDITOR"):
        value = environ.get(name, "").strip()
        if value:
            return shlex.split(value, posix=os.name != "nt")
    fallbacks = ("notepad",) if os.name == "nt" else ("nano", "vi")
    for program in fallbacks:
        if shutil.which(program):
            return [program]
    raise ErgoError("no editor found: set $EDITOR (for example EDITOR=nano)")


def _ask_again(error: str) -> bool:
    """Offer to re-open the editor after an invalid edit; no answer (no terminal, EOF) means no."""
    print(f"ergo: {error}", file=sys.stderr)
    print("ergo: the config file was not changed. Edit again? [Y/n] ", end="", file=sys.stderr, flush=True)
    try:
        answer = input()
    except EOFError:
        print(file=sys.stderr)
        return False
    return answer.strip().lower() in ("", "y", "yes")


def _check(draft: Path, target: Path, flags: dict[str, Any]) -> str | None:
    """The one-line error of the edited draft, naming the real file; None when it is valid."""
    from ergo.config.load import load_settings

    try:
        load_settings(draft, flags)
    except ConfigError as error:
        return str(error).replace(str(draft), str(target))
    return None


def edit(target: Path, flags: dict[str, Any]) -> int:
    """Open `target` (created from the commented template when missing), install it once valid, reload the daemon."""
    from ergo.templates_dir import default_config_text

    editor = pick_editor()
    existed = target.exists()
    original = target.read_text("utf-8") if existed else default_config_text()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.stem}.edit-", suffix=target.suffix or ".toml", dir=target.parent)
    draft = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(original)
        if existed:
            shutil.copymode(target, draft)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(draft, 0o666 & ~umask)
        while True:
            try:
                done = subprocess.run([*editor, str(draft)])
            except OSError as error:
                raise ErgoError(f"cannot start the editor {editor[0]!r}: {error.strerror or error}") from None
            if done.returncode != 0:
                raise ErgoError(f"the editor {editor[0]!r} exited with status {done.returncode}; {target} was not changed")
            error = _check(draft, target, flags)
            if error is None:
                break
            if not _ask_again(error):
                kept = target.with_name(target.name + ".rejected")
                draft.replace(kept)
                raise ConfigError(f"{error} (your edit is kept in {kept}; {target} was not changed)")
        if existed and draft.read_text("utf-8") == original:
            print(f"{target}: no changes")
            return 0
        draft.replace(target)
    finally:
        draft.unlink(missing_ok=True)
    print(f"{'saved' if existed else 'created'} {target}")
    _reload_daemon()
    return 0


def _reload_daemon() -> None:
    """Tell a running daemon to re-read the file now (it would notice by itself within 2 s)."""
    from ergo.control.client import request
    from ergo.paths import socket_path

    try:
        answer = request(socket_path(), "reload")
    except DaemonNotRunning:
        return
    except ErgoError as error:
        print(f"ergo: the running daemon did not reload: {error}", file=sys.stderr)
        return
    changed = answer.get("changed") or []
    print("the running daemon reloaded it: " + (", ".join(changed) + " changed" if changed else "nothing changed"))
