"""Tells the daemon when its config file may have changed, without polling where it can.

Linux: inotify (through ctypes) on the file's folder, since editors replace files
by renaming; its fd is served by the control thread's selector. Dotfile managers
make the file a symlink (stow, home-manager, chezmoi), so the folder of the
link's final target is watched too, and re-resolved after every event (the link
may be re-pointed). A watched folder that is deleted is replaced by a watch on
its nearest existing ancestor until it comes back. Any event leads to a content
check (`changed()`), so a false alarm costs one read, never a reload. Elsewhere,
or when no folder can be watched, a stat check every 2 s.

The same watcher serves the system-wide file (`create_folder=False`): a user's
daemon must not create /etc/xdg/ergo, so it watches the nearest existing folder on
the way until an admin adds it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import sys
from pathlib import Path

from ergo.errors import ConfigError
from ergo.paths import read_config_bytes

IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF, IN_IGNORED = 0x400, 0x800, 0x8000
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000
_MASK = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | \
    IN_DELETE_SELF | IN_MOVE_SELF
_EVENT = struct.Struct("iIII")
POLL_SECONDS = 2.0


class ConfigWatcher:
    """`fileno()` is an inotify fd (or None: poll `changed()` every POLL_SECONDS instead)."""

    def __init__(self, path: Path, *, create_folder: bool = True) -> None:
        self.path = path
        self._fd: int | None = None
        self._watched: dict[str, int] = {}  # folder -> inotify watch descriptor
        self._digest = self._read_digest()
        if sys.platform.startswith("linux"):
            self._fd = _inotify_init()
            if self._fd is not None:
                if create_folder:
                    try:
                        self.path.parent.mkdir(parents=True, exist_ok=True)
                    except OSError:
                        pass  # an ancestor is watched instead
                self._arm()
                if not self._watched:
                    os.close(self._fd)
                    self._fd = None

    def fileno(self) -> int | None:
        return self._fd

    def drain(self) -> bool:
        """Read pending inotify events and re-arm the watches; True if anything happened in a watched folder."""
        if self._fd is None:
            return False
        seen = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            offset = 0
            while offset + _EVENT.size <= len(data):
                wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                if mask & IN_IGNORED:  # the folder went away: forget its watch
                    self._watched = {folder: w for folder, w in self._watched.items() if w != wd}
                seen = True
                offset += _EVENT.size + length
            if len(data) < 65536:
                break
        if seen:
            self._arm()
        return seen

    def _folders(self) -> set[str]:
        """The link's folder and its final target's folder, each or its nearest existing ancestor."""
        wanted = {self.path.parent}
        try:
            wanted.add(Path(os.path.realpath(self.path)).parent)
        except (OSError, ValueError):
            pass
        folders = set()
        for folder in wanted:
            while not folder.is_dir() and folder != folder.parent:
                folder = folder.parent
            folders.add(str(folder))
        return folders

    def _arm(self) -> None:
        """Watch exactly the folders that matter now (targets move, folders are deleted and come back)."""
        assert self._fd is not None
        wanted = self._folders()
        for folder in list(self._watched):
            if folder not in wanted:
                _LIBC.inotify_rm_watch(self._fd, self._watched.pop(folder)) if _LIBC else None
        for folder in wanted:
            wd = _LIBC.inotify_add_watch(self._fd, os.fsencode(folder), _MASK) if _LIBC else -1
            if wd >= 0:
                self._watched[folder] = wd

    def changed(self) -> bool:
        """True when the file's content differs from the last time this said so (or from the start)."""
        digest = self._read_digest()
        if digest == self._digest:
            return False
        self._digest = digest
        return True

    def _read_digest(self) -> bytes | str | None:
        try:
            raw = read_config_bytes(self.path)  # never blocks on a FIFO swapped in for the file
        except ConfigError as error:
            return f"unreadable: {error}"  # the reload then says why, in one line
        return raw  # config files are small: compare them whole, no hashlib (libcrypto)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _load_libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _load_libc()


def _inotify_init() -> int | None:
    try:
        fd = _LIBC.inotify_init1(IN_NONBLOCK | IN_CLOEXEC) if _LIBC else -1
    except AttributeError:
        return None
    return fd if fd >= 0 else None
