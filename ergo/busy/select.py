"""Start the busy sources that work here and say why each one runs or not, in one line each.

The microphone and the calendar are asked in a child process (ergo.busy.child), so libpulse and the
calendar libraries never stay in the daemon's memory. Full screen: sway's IPC when $SWAYSOCK is set, else EWMH on X11, else (GNOME or KDE on Wayland) the
desktop's idle inhibitors. Every source is on by default where it can run; `[meetings]` turns each off.
"""

from __future__ import annotations

from collections.abc import Callable

from ergo.busy.base import BusySource
from ergo.errors import BackendUnavailable


def _fullscreen() -> BusySource:
    from ergo.busy import sway, x11

    reasons = []
    for module, make in ((sway, lambda: sway.SwayFullscreen()), (x11, lambda: x11.X11Fullscreen())):
        try:
            return make()
        except BackendUnavailable as error:
            reasons.append(f"{module.__name__.rsplit('.', 1)[1]}: {error}")
    try:
        from ergo.busy.inhibit import IdleInhibitors

        return IdleInhibitors()
    except BackendUnavailable as error:
        reasons.append(f"idle inhibitors: {error}")
    raise BackendUnavailable("; ".join(reasons))


def select_sources(microphone: bool = True, camera: bool = True, fullscreen: bool = True,
                   calendar: tuple[str, ...] = ()) -> tuple[list[BusySource], list[str]]:
    """The sources to ask, and one line per source: what it uses, or why it does not run."""
    sources: list[BusySource] = []
    reasons: list[str] = []

    def microphone_source() -> BusySource:
        from ergo.busy.child import ChildSource
        from ergo.busy.microphone import server_reason

        reason = server_reason()  # libpulse itself loads only in the child that asks
        if reason is not None:
            raise BackendUnavailable(reason)
        return ChildSource("microphone", "microphone (PulseAudio, asked in a child process)", events=True)

    def camera_source() -> BusySource:
        from ergo.busy.camera import CameraSource

        return CameraSource()

    def calendar_source() -> BusySource:
        from ergo.busy.child import CalendarChild

        return CalendarChild(tuple(calendar))

    wanted: list[tuple[str, bool, Callable[[], BusySource]]] = [
        ("microphone", microphone, microphone_source), ("camera", camera, camera_source),
        ("fullscreen", fullscreen, _fullscreen), ("calendar", bool(calendar), calendar_source),
    ]
    for name, on, make in wanted:
        if not on:
            reasons.append(f"{name}: off" + (" (no files named)" if name == "calendar" else ""))
            continue
        try:
            source = make()
        except BackendUnavailable as error:
            reasons.append(f"{name}: unavailable ({error})")
            continue
        except Exception as error:  # a source that fails to start never stops the daemon
            reasons.append(f"{name}: unavailable ({type(error).__name__}: {error})")
            continue
        sources.append(source)
        reasons.append(f"{name}: {source.name}")
    return sources, reasons
