"""Windows idle time: GetLastInputInfo (32-bit tick of the last input) vs GetTickCount64.

The tick arithmetic is a pure function, correct across the 49.7-day wrap of the
32-bit counter; the Win32 calls sit behind a small clock object tests can fake.
"""

from __future__ import annotations

import ctypes
import sys
from datetime import timedelta
from typing import Protocol

from ergo.errors import BackendUnavailable
from ergo.idle.base import IdleError

_MASK32 = 0xFFFFFFFF


def idle_ms(tick_count64: int, last_input_tick: int) -> int:
    """Milliseconds since the last input; LASTINPUTINFO.dwTime is the low 32 bits of the tick."""
    return ((tick_count64 & _MASK32) - (last_input_tick & _MASK32)) & _MASK32


class InputClock(Protocol):
    """The two Win32 readings idle time needs; raises OSError on failure."""

    def tick_count64(self) -> int:
        """Milliseconds since boot (GetTickCount64)."""
        ...

    def last_input_tick(self) -> int:
        """Tick of the last input event (GetLastInputInfo().dwTime)."""
        ...


class _LastInputInfo(ctypes.Structure):
    """LASTINPUTINFO from winuser.h."""

    _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint32)]


class Win32InputClock:
    """The real user32/kernel32 calls; constructing it off Windows raises BackendUnavailable."""

    def __init__(self) -> None:
        try:
            windll = ctypes.WinDLL  # type: ignore[attr-defined]
            self._user32 = windll("user32", use_last_error=True)
            self._kernel32 = windll("kernel32", use_last_error=True)
        except (AttributeError, OSError) as e:
            raise BackendUnavailable(f"idle backend 'windows' is unavailable: {e}") from None
        self._kernel32.GetTickCount64.restype = ctypes.c_uint64

    def tick_count64(self) -> int:
        """GetTickCount64(); cannot fail."""
        return int(self._kernel32.GetTickCount64())

    def last_input_tick(self) -> int:
        """GetLastInputInfo(); OSError with the Win32 error when it fails."""
        info = _LastInputInfo(cbSize=ctypes.sizeof(_LastInputInfo))
        if not self._user32.GetLastInputInfo(ctypes.byref(info)):
            raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
        return int(info.dwTime)


class WindowsIdleMonitor:
    """Idle time from the session's last keyboard or mouse input."""

    name = "windows"
    source = "GetLastInputInfo"

    def __init__(self, clock: InputClock | None = None) -> None:
        self._clock = clock if clock is not None else Win32InputClock()

    def idle_time(self) -> timedelta:
        """Tick now minus tick of last input; scheduler thread. IdleError on failure."""
        try:
            last = self._clock.last_input_tick()
            now = self._clock.tick_count64()
        except OSError as e:
            raise IdleError(f"windows: GetLastInputInfo failed: {e}") from None
        return timedelta(milliseconds=idle_ms(now, last))

    def close(self) -> None:
        """Nothing is held between calls."""


def probe() -> str | None:
    """None on Windows when GetLastInputInfo answers, else a one-line reason."""
    if sys.platform != "win32":
        return f"needs Windows (this is {sys.platform})"
    try:
        WindowsIdleMonitor().idle_time()
    except (BackendUnavailable, IdleError) as e:
        return str(e).split(": ", 1)[-1]
    return None
