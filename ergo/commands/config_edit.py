"""`ergo config edit`: edit a copy in the editor, check it, install it, tell a running daemon.

Like `crontab -e` and `visudo`: the live file changes only once the edit is valid, so a
running daemon never sees a half-written or broken file; a rejected edit is never lost.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ergo.errors import ConfigError, DaemonNotRunning, ErgoError
from ergo.paths import read_config_bytes


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


class _Interrupted(Exception):
    """SIGTERM or SIGHUP arrived while the editor was open."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def edit(target: Path, flags: dict[str, Any]) -> int:
    """Open `target` (created from the commented template when missing), install it once valid, reload the daemon.

    Never a lost edit and never a leftover draft: an edit that cannot be installed (invalid and not
    retried, interrupted by SIGTERM/SIGHUP, or overtaken by another change of the file) is kept under
    a new visible name beside the file, and the hidden draft is always removed."""
    from ergo.templates_dir import default_config_text

    editor = pick_editor()
    raw = read_config_bytes(target)  # a FIFO or directory in its place is refused, never opened for reading
    existed = raw is not None
    try:
        original = raw.decode("utf-8") if raw is not None else default_config_text()
    except UnicodeDecodeError as error:
        raise ConfigError(f"{target}: cannot read the file: not UTF-8 text (byte {error.start + 1})") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.stem}.edit-", suffix=target.suffix or ".toml", dir=target.parent)
    draft = Path(name)
    try:
        with _signals_forwarded() as forward:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(original)
            if existed:
                shutil.copymode(target, draft)
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(draft, 0o666 & ~umask)
            while True:
                _run_editor(editor, draft, target, forward)
                if not draft.exists():
                    raise ErgoError(f"the editor removed the draft {draft.name}; {target} was not changed")
                error = _check(draft, target, flags)
                if error is None:
                    break
                forward.interruptible = True  # a prompt waiting for an answer is left at once
                try:
                    again = _ask_again(error)
                finally:
                    forward.interruptible = False
                if not again:
                    kept = _keep(draft, target, "rejected")
                    raise ConfigError(f"{error} (your edit is kept in {kept}; {target} was not changed)")
            forward.check()
            if existed and draft.read_text("utf-8") == original:
                print(f"{target}: no changes")
                return 0
            with _dir_locked(target.parent):  # two edits finishing at once: one installs, the other is told
                if read_config_bytes(target) != raw:
                    kept = _keep(draft, target, "yours")
                    raise ErgoError(f"{target} changed while you were editing (another edit or program saved it first); "
                                    f"it was not overwritten: your edit is kept in {kept}")
                draft.replace(target)
    except _Interrupted as stop:
        name_of = signal.Signals(stop.signum).name
        if draft.exists() and draft.read_bytes() != original.encode("utf-8"):
            kept = _keep(draft, target, "interrupted")
            raise ErgoError(f"{name_of} while editing: {target} was not changed; your edit is kept in {kept}") from None
        raise ErgoError(f"{name_of} while editing: {target} was not changed") from None
    finally:
        draft.unlink(missing_ok=True)
    print(f"{'saved' if existed else 'created'} {target}")
    _reload_daemon()
    return 0


def _run_editor(editor: list[str], draft: Path, target: Path, forward: Any) -> None:
    try:
        process = subprocess.Popen([*editor, str(draft)])
    except OSError as error:
        raise ErgoError(f"cannot start the editor {editor[0]!r}: {error.strerror or error}") from None
    forward.child = process
    if forward.signum is not None:  # it came between the start and now: the editor must hear it too
        process.send_signal(forward.signum)
    # Ctrl-C reaches the editor and ergo alike (one process group): the editor decides (vim cancels a
    # command with it), ergo waits on, as system(3), crontab -e and visudo do.
    interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        returncode = process.wait()
    finally:
        signal.signal(signal.SIGINT, interrupt)
        forward.child = None
    forward.check()
    if returncode != 0:
        raise ErgoError(f"the editor {editor[0]!r} exited with status {returncode}; {target} was not changed")


class _signals_forwarded:
    """While editing, SIGTERM and SIGHUP are passed on to the editor (so it saves or quits and stops
    writing the draft) and turned into _Interrupted once it has exited; the old handlers come back after."""

    SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.signum: int | None = None
        self.interruptible = False
        self.saved: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.signum = signum
        if self.child is not None:
            try:
                self.child.send_signal(signum)
            except OSError:
                pass
        elif self.interruptible:
            raise _Interrupted(signum)

    def check(self) -> None:
        """Stop here if a signal came while nothing could be interrupted (checking, before installing)."""
        if self.signum is not None:
            raise _Interrupted(self.signum)

    def __enter__(self) -> "_signals_forwarded":
        for signum in self.SIGNALS:
            self.saved[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.saved.items():
            signal.signal(signum, handler)


class _dir_locked:
    """flock on the config's folder (no lock file to leave behind); a no-op where flock is missing."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fd: int | None = None

    def __enter__(self) -> None:
        try:
            import fcntl

            self.fd = os.open(self.folder, os.O_RDONLY)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except (ImportError, OSError):
            pass

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the lock


def _keep(draft: Path, target: Path, why: str) -> Path:
    """Move the draft to NAME.WHY (or NAME.WHY.2, ...): a new name every time, never over a file,
    folder or an earlier kept edit."""
    for n in range(1, 1000):
        kept = target.with_name(f"{target.name}.{why}" + ("" if n == 1 else f".{n}"))
        try:
            os.link(draft, kept)  # fails if anything is there: no race, no overwrite
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links
            if os.path.lexists(kept):
                continue
            draft.replace(kept)
            return kept
        draft.unlink()
        return kept
    raise ErgoError(f"{target}: 999 kept edits beside it; your edit is still in {draft}")


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
