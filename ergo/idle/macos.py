"""macOS idle time: HIDIdleTime (nanoseconds) from ``ioreg -c IOHIDSystem``.

No compiled dependency: one short ``ioreg`` run per call. The parser is a pure
function so it can be tested on captured output on any platform.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

from ergo.idle.base import IdleError

IOREG = ("ioreg", "-c", "IOHIDSystem")
_HID_IDLE = re.compile(r'"HIDIdleTime"\s*=\s*(\d+)')


def parse_ioreg(text: str) -> timedelta:
    """The first HIDIdleTime in ioreg's output, in ns; IdleError if there is none."""
    match = _HID_IDLE.search(text)
    if match is None:
        raise IdleError("macos: no HIDIdleTime in ioreg output")
    return timedelta(microseconds=int(match.group(1)) // 1000)


def run_ioreg() -> str:
    """Run ioreg once; every failure becomes IdleError."""
    try:
        return subprocess.run(IOREG, capture_output=True, text=True, timeout=5, check=True).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise IdleError(f"macos: ioreg failed: {e}") from None


class MacIdleMonitor:
    """HIDIdleTime via ioreg; ``run`` is injectable so tests can feed captured output."""

    name = "macos"
    source = "HIDIdleTime from ioreg -c IOHIDSystem"

    def __init__(self, run: Callable[[], str] = run_ioreg) -> None:
        self._run = run

    def idle_time(self) -> timedelta:
        """Run ioreg and parse it; scheduler thread. IdleError on any failure."""
        return parse_ioreg(self._run())

    def close(self) -> None:
        """Nothing is held between calls."""


def probe() -> str | None:
    """None on macOS with a working ioreg, else a one-line reason."""
    if sys.platform != "darwin":
        return f"needs macOS (this is {sys.platform})"
    if shutil.which("ioreg") is None:
        return "ioreg is not on PATH"
    try:
        MacIdleMonitor().idle_time()
    except IdleError as e:
        return str(e).removeprefix("macos: ")
    return None
