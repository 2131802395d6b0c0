"""Choose the idle monitor for this machine and say why, in one line for the log and status.

``auto`` tries the platform's backends in order and falls back to ``none``; a
named backend must work or the daemon refuses to start with a one-line reason.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from ergo.errors import BackendUnavailable
from ergo.idle.base import IdleMonitor

BACKENDS = ("mutter", "screensaver", "swayidle", "x11", "macos", "windows", "none")


def auto_order(platform: str = sys.platform) -> tuple[str, ...]:
    """Backends ``auto`` tries here, best first (``none`` is the implicit last resort)."""
    if platform == "darwin":
        return ("macos",)
    if platform == "win32":
        return ("windows",)
    return ("mutter", "screensaver", "swayidle", "x11")  # Linux and the BSDs: D-Bus desktops, wlroots, then X11


def _checked(name: str, reason: str | None) -> None:
    """Turn a probe's reason into the one-line error a named backend raises."""
    if reason is not None:
        raise BackendUnavailable(f"idle backend '{name}' is unavailable: {reason}")


def _open_mutter(named: bool) -> IdleMonitor:
    from ergo.idle import mutter

    _checked("mutter", mutter.probe())
    return mutter.MutterIdleMonitor()


def _open_screensaver(named: bool) -> IdleMonitor:
    from ergo.idle import screensaver

    _checked("screensaver", screensaver.probe())
    return screensaver.ScreenSaverIdleMonitor()


def _open_swayidle(named: bool) -> IdleMonitor:
    from ergo.idle import swayidle

    _checked("swayidle", swayidle.probe())
    return swayidle.SwayidleIdleMonitor()


def _open_x11(named: bool) -> IdleMonitor:
    from ergo.idle import x11

    _checked("x11", x11.probe(allow_wayland=named))  # a user who names x11 on Wayland gets it
    return x11.X11IdleMonitor()


def _open_macos(named: bool) -> IdleMonitor:
    from ergo.idle import macos

    _checked("macos", macos.probe())
    return macos.MacIdleMonitor()


def _open_windows(named: bool) -> IdleMonitor:
    from ergo.idle import windows

    _checked("windows", windows.probe())
    return windows.WindowsIdleMonitor()


def _open_none(named: bool) -> IdleMonitor:
    from ergo.idle.none import NoIdleMonitor

    return NoIdleMonitor()


_OPENERS: dict[str, Callable[[bool], IdleMonitor]] = {
    "mutter": _open_mutter,
    "screensaver": _open_screensaver,
    "swayidle": _open_swayidle,
    "x11": _open_x11,
    "macos": _open_macos,
    "windows": _open_windows,
    "none": _open_none,
}


def _explain(monitor: IdleMonitor) -> str:
    """'x11: XScreenSaver on :99' from the monitor's name and source."""
    return f"{monitor.name}: {getattr(monitor, 'source', monitor.name)}"


def select_idle_monitor(preference: str = "auto") -> tuple[IdleMonitor, str]:
    """The monitor to use and a one-line reason; BackendUnavailable if a named one can't run.

    Each candidate's probe makes one real call, so a service that exists but
    errors counts as unavailable. Called once, on the daemon's main thread.
    """
    choice = preference.strip().lower()
    if choice != "auto":
        if choice not in _OPENERS:
            raise BackendUnavailable(
                f"unknown idle backend {preference!r}; choose one of: auto, {', '.join(BACKENDS)}")
        monitor = _OPENERS[choice](True)
        return monitor, _explain(monitor)
    skipped: list[str] = []
    for name in auto_order():
        try:
            monitor = _OPENERS[name](False)
        except BackendUnavailable as e:
            skipped.append(f"{name}: {str(e).split(' is unavailable: ', 1)[-1]}")
            continue
        if name == "swayidle":  # a fallback worth explaining: why not the desktop's own service
            return monitor, f"{_explain(monitor)} (a Wayland session without {'; '.join(skipped)})"
        return monitor, _explain(monitor)
    from ergo.idle.none import NoIdleMonitor

    return NoIdleMonitor(), f"none: no idle source ({'; '.join(skipped)})"
