"""One daemon per user: an exclusive lock on a file in the runtime dir that holds the pid.

The OS drops the lock when the process dies (even on kill -9), so a crashed
daemon never blocks the next start; only the pid text is left behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from ergo.errors import AlreadyRunning
from ergo.paths import ensure_private_dir


class InstanceLock:
    """Held for the daemon's lifetime; `acquire` raises AlreadyRunning naming the other pid."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        ensure_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # a lock file left by an older ergo may be looser
        if not _try_lock(fd):
            os.close(fd)
            pid = running_pid(self.path)
            raise AlreadyRunning(f"ergo is already running (pid {pid if pid else 'unknown'})")
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def running_pid(path: Path) -> int | None:
    """The pid of the daemon holding the lock, or None if no daemon holds it."""
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        if _try_lock(fd):
            return None  # nobody holds it: a leftover from a crash
        text = os.pread(fd, 32, 0).decode(errors="replace").strip() if hasattr(os, "pread") else ""
        return int(text) if text.isdigit() else None
    finally:
        os.close(fd)
