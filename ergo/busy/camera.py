"""The camera is in use: a process of the user holds a video device (/dev/video*) open.

Linux only: it reads /proc/PID/fd of the user's own processes when a reminder is due, never on a timer
while nothing is due. ERGO_CAMERA_DEVICES (a glob) names other devices: how the tests stand in a
character device of their own for a camera on a machine that has none (see docs/development.md).
"""

from __future__ import annotations

import glob
import os
import sys
from datetime import datetime

from ergo.busy.base import Busy, PolledSource, plain
from ergo.errors import BackendUnavailable

DEVICES = "/dev/video*"


def devices() -> list[str]:
    pattern = os.environ.get("ERGO_CAMERA_DEVICES") or DEVICES
    return sorted(glob.glob(pattern))


def probe() -> str | None:
    if not sys.platform.startswith("linux") or not os.path.isdir("/proc/self/fd"):
        return "needs Linux's /proc"
    return None if devices() else f"no video device ({os.environ.get('ERGO_CAMERA_DEVICES') or DEVICES})"


class CameraSource(PolledSource):
    name = "camera"

    def __init__(self) -> None:
        reason = probe()
        if reason is not None:
            raise BackendUnavailable(reason)

    def check(self, now: datetime) -> Busy | None:
        wanted: set[tuple[int, int]] = set()
        for path in devices():  # compared by device and inode: a symlink or a second name matches too
            try:
                info = os.stat(path)
            except OSError:
                continue
            wanted.add((info.st_dev, info.st_ino))
        if not wanted:
            return None
        me, own = os.getuid(), os.getpid()
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == own:
                continue
            try:
                if entry.stat(follow_symlinks=False).st_uid != me:
                    continue
                fds = os.scandir(f"/proc/{entry.name}/fd")
            except OSError:  # gone, or not ours to read
                continue
            with fds:
                for fd in fds:
                    try:
                        info = os.stat(fd.path)  # follows the fd's link to the open file
                    except OSError:
                        continue
                    if (info.st_dev, info.st_ino) in wanted:
                        return Busy(f"in a call (camera in use by {plain(_command(entry.name), 40)})")
        return None


def _command(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as file:
            return file.read().strip() or f"pid {pid}"
    except OSError:
        return f"pid {pid}"
