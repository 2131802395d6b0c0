"""Tells the daemon when the system-wide config file may have changed, without creating its folder.

The user's file is watched by ergo.filewatch, which creates the user's config folder
to watch it. A system folder such as /etc/xdg/ergo must not be created by a user's
daemon, and often does not exist until an admin adds it: so this watches the deepest
existing folder on the way to the file (inotify on Linux) and moves down as folders
appear. Elsewhere, `fileno()` is None and the caller polls `changed()`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path

IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000
MASK = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE


class SystemConfigWatcher:
    """Same interface as ergo.filewatch.ConfigWatcher: fileno(), drain(), changed(), close()."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._libc: ctypes.CDLL | None = None
        self._watched: set[Path] = set()
        self._digest = self._read_digest()
        if sys.platform.startswith("linux"):
            self._open()

    def _open(self) -> None:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        except (OSError, AttributeError):
            return
        if fd < 0:
            return
        self._libc, self._fd = libc, fd
        self._arm()
        if not self._watched:
            self.close()

    def _arm(self) -> None:
        """Watch the deepest existing folder on the way to the file (it moves down as folders appear)."""
        if self._fd is None or self._libc is None:
            return
        folder = next((f for f in self.path.parents if f.is_dir()), None)
        if folder is None or folder in self._watched:
            return
        if self._libc.inotify_add_watch(self._fd, os.fsencode(folder), MASK) >= 0:
            self._watched.add(folder)

    def fileno(self) -> int | None:
        return self._fd

    def drain(self) -> bool:
        """Read pending events; True when any arrived (changed() then compares the content)."""
        if self._fd is None:
            return False
        seen = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            seen |= bool(data)
            if len(data) < 65536:
                break
        if seen:
            self._arm()
        return seen

    def changed(self) -> bool:
        """True when the file's content differs from the last time this said so."""
        digest = self._read_digest()
        if digest == self._digest:
            return False
        self._digest = digest
        return True

    def _read_digest(self) -> bytes | None:
        try:
            return self.path.read_bytes()  # config files are small: compare them whole, no hashlib (libcrypto)
        except OSError:
            return None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
