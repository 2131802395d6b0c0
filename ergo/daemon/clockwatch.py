"""Wake the daemon the moment the wall clock is set, without polling.

Linux: a timerfd on CLOCK_REALTIME, armed at an absolute time decades away with
TFD_TIMER_CANCEL_ON_SET. The kernel cancels such a timer whenever the clock is set (date -s,
settimeofday, an NTP step, a resume), and a read then fails with ECANCELED: one thread waits in
select() on it and on a pipe that stop() writes to, so it costs nothing while nothing happens.
ctypes reaches timerfd_create/timerfd_settime in libc (Python's os module has no timerfd before
3.13, and no TFD_TIMER_CANCEL_ON_SET at all).

Elsewhere (macOS, Windows, a libc without timerfd) `start_clock_watch` returns None and the
daemon's housekeeping minute remains the fallback, as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os
import select
import sys
import threading
from typing import Callable

log = logging.getLogger("ergo")

CLOCK_REALTIME = 0
TFD_NONBLOCK = os.O_NONBLOCK
TFD_CLOEXEC = os.O_CLOEXEC
TFD_TIMER_ABSTIME = 1
TFD_TIMER_CANCEL_ON_SET = 2
FAR = 1 << 40  # seconds since 1970: about 36 000 years away, never reached


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


class ClockWatch:
    """One thread blocked until the wall clock is set; then `on_set()` runs (on that thread)."""

    def __init__(self, libc: ctypes.CDLL, fd: int, on_set: Callable[[], None]) -> None:
        self._libc = libc
        self._fd = fd
        self._on_set = on_set
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="ergo-clockwatch", daemon=True)

    def _arm(self) -> None:
        spec = _Itimerspec(_Timespec(0, 0), _Timespec(FAR, 0))
        if self._libc.timerfd_settime(self._fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, ctypes.byref(spec), None) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))

    def start(self) -> "ClockWatch":
        self._arm()
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while True:
                ready, _, _ = select.select([self._fd, self._wake_r], [], [])
                if self._wake_r in ready:
                    return
                try:
                    os.read(self._fd, 8)
                except OSError as error:
                    if error.errno != errno.ECANCELED:
                        if error.errno == errno.EAGAIN:
                            continue
                        raise
                self._arm()  # until set again, a cancelled timerfd answers every read with ECANCELED
                try:
                    self._on_set()
                except Exception:
                    log.exception("clock change handling failed")
        except Exception:
            log.exception("clock watch stopped; clock changes are now noticed within a minute")
        finally:
            os.close(self._fd)
            os.close(self._wake_r)

    def stop(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass
        self._thread.join(2)
        os.close(self._wake_w)


def start_clock_watch(on_set: Callable[[], None]) -> tuple[ClockWatch | None, str]:
    """The watcher, running, and a reason for the log; (None, why) where the platform has none."""
    if not sys.platform.startswith("linux"):
        return None, "clock changes: noticed within a minute (no timerfd on this platform)"
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        create = libc.timerfd_create
    except (OSError, AttributeError) as error:
        return None, f"clock changes: noticed within a minute (no timerfd: {error})"
    create.restype = ctypes.c_int
    fd = create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC)
    if fd < 0:
        return None, f"clock changes: noticed within a minute (timerfd_create: {os.strerror(ctypes.get_errno())})"
    try:
        return ClockWatch(libc, fd, on_set).start(), "clock changes: timerfd (TFD_TIMER_CANCEL_ON_SET)"
    except OSError as error:
        os.close(fd)
        return None, f"clock changes: noticed within a minute (timerfd_settime: {error.strerror})"
