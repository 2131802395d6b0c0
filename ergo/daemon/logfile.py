"""Size-capped log file for a daemon started with `ergo start` (its stdout and stderr are the file).

When the file passes MAX_BYTES, it becomes ergo.log.1 (ergo.log.1 becomes .2, up to KEEP old
files) and fds 1 and 2 are pointed at a fresh 0600 ergo.log, so console reminders and log
lines both move on. Under systemd or in a terminal stderr is not the file, and nothing rotates.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

MAX_BYTES = 1024 * 1024
KEEP = 3


def writes_to(path: Path) -> bool:
    """Whether this process's stderr is `path` (as `ergo start` arranges)."""
    try:
        mine, theirs = os.fstat(2), os.stat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)


class RotatingStderrHandler(logging.StreamHandler):
    """Logs to stderr like StreamHandler; after each record, rotates the file stderr points at if it grew too big."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, keep: int = KEEP) -> None:
        super().__init__(sys.stderr)
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        try:
            if os.fstat(2).st_size > self.max_bytes:
                self.rotate()
        except OSError:
            pass  # a full disk: the next record tries again

    def rotate(self) -> None:
        """Shift ergo.log -> .1 -> .2 ... (the oldest is dropped) and reopen fds 1 and 2 on a new file."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        for n in range(self.keep, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            newer = self.path.with_name(f"{self.path.name}.{n - 1}") if n > 1 else self.path
            if newer.exists():
                os.replace(newer, older)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.dup2(fd, 1)
            os.dup2(fd, 2)
        finally:
            os.close(fd)
