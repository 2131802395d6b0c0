"""The focused window is full screen on X11: _NET_ACTIVE_WINDOW's _NET_WM_STATE holds
_NET_WM_STATE_FULLSCREEN, as any EWMH window manager keeps them. libX11 through ctypes (no build, no
extra package); one display connection per check, opened and closed then."""

from __future__ import annotations

import ctypes
import os
from datetime import datetime

from ergo.busy.base import Busy, PolledSource, plain
from ergo.errors import BackendUnavailable
from ergo.idle.x11 import _load, declare_xlib, survive_lost_server, wayland_session

XA_ATOM, XA_WINDOW, ANY = 4, 33, 0


def probe() -> str | None:
    if not os.environ.get("DISPLAY"):
        return "DISPLAY is unset (no X11 session)"
    if wayland_session():
        return "a Wayland session: X11 sees only XWayland windows"
    try:
        _load("libX11.so.6", "X11")
    except OSError as error:
        return f"{error} (Debian: libx11-6)"
    return None


class X11Fullscreen(PolledSource):
    name = "fullscreen (x11)"

    def __init__(self) -> None:
        reason = probe()
        if reason is not None:
            raise BackendUnavailable(reason)
        x = self._x = _load("libX11.so.6", "X11")
        declare_xlib(x)
        x.XInternAtom.restype = ctypes.c_ulong
        x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        x.XGetWindowProperty.argtypes = [
            ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long, ctypes.c_int,
            ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_int),
            ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_void_p)]
        self.display = os.environ["DISPLAY"]

    def _property(self, dpy: int, window: int, name: bytes, kind: int, count: int = 64) -> list[int]:
        x = self._x
        atom = x.XInternAtom(dpy, name, 1)
        if not atom:
            return []
        actual, fmt = ctypes.c_ulong(), ctypes.c_int()
        items, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
        if x.XGetWindowProperty(dpy, window, atom, 0, count, 0, kind, ctypes.byref(actual), ctypes.byref(fmt),
                                ctypes.byref(items), ctypes.byref(after), ctypes.byref(data)) != 0 or not data.value:
            return []
        try:
            if fmt.value == 32:
                return list(ctypes.cast(data, ctypes.POINTER(ctypes.c_ulong))[: items.value])
            if fmt.value == 8:
                return list(ctypes.string_at(data, items.value))
            return []
        finally:
            x.XFree(data)

    def check(self, now: datetime) -> Busy | None:
        x = self._x
        dpy = x.XOpenDisplay(self.display.encode())
        if not dpy:
            return None
        survive_lost_server(x, dpy)  # an X server that dies mid-check must not take the daemon with it
        try:
            root = x.XDefaultRootWindow(dpy)
            active = self._property(dpy, root, b"_NET_ACTIVE_WINDOW", XA_WINDOW, 1)
            if not active or not active[0]:
                return None
            full = x.XInternAtom(dpy, b"_NET_WM_STATE_FULLSCREEN", 1)
            if not full or full not in self._property(dpy, active[0], b"_NET_WM_STATE", XA_ATOM):
                return None
            klass = bytes(self._property(dpy, active[0], b"WM_CLASS", ANY, 256)).split(b"\0")
            who = (klass[1] if len(klass) > 1 and klass[1] else klass[0]).decode("utf-8", "replace") or "a window"
            return Busy(f"presenting or full screen ({plain(who, 40)})")
        finally:
            x.XCloseDisplay(dpy)
