"""Tells the daemon when its config file may have changed, without polling where it can.

Linux: inotify (through ctypes) on the file's folder, since editors replace files
by renaming; its fd is served by the control thread's selector. Elsewhere, or
when the folder cannot be watched, a stat check every 2 s.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import sys
from pathlib import Path

IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000
_EVENT = struct.Struct("iIII")
POLL_SECONDS = 2.0


class ConfigWatcher:
    """`fileno()` is an inotify fd (or None: poll `changed()` every POLL_SECONDS instead)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._digest = self._read_digest()
        if sys.platform.startswith("linux"):
            self._fd = _inotify_watch(path.parent)

    def fileno(self) -> int | None:
        return self._fd

    def drain(self) -> bool:
        """Read pending inotify events; True if one concerned the config file."""
        if self._fd is None:
            return False
        relevant = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            offset = 0
            while offset + _EVENT.size <= len(data):
                _wd, _mask, _cookie, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0").decode(errors="replace")
                relevant |= name == self.path.name
                offset += _EVENT.size + length
            if len(data) < 65536:
                break
        return relevant

    def changed(self) -> bool:
        """True when the file's content differs from the last time this said so (or from the start)."""
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


def _inotify_watch(folder: Path) -> int | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            return None
        mask = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
        if libc.inotify_add_watch(fd, os.fsencode(folder), mask) < 0:
            os.close(fd)
            return None
        return fd
    except (OSError, AttributeError):
        return None
