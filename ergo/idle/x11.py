"""Idle time from the X server's MIT-SCREEN-SAVER extension (libXss via ctypes).

Works on any X11 session and under Xvfb. Under Wayland it sees only XWayland
clients' input, so ``auto`` refuses it there. Xlib is not thread-safe: one
lock guards the display, which is opened once and closed in ``close()``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
import threading
from datetime import timedelta

from ergo.errors import BackendUnavailable
from ergo.idle.base import IdleError


class _XScreenSaverInfo(ctypes.Structure):
    """Mirror of XScreenSaverInfo from <X11/extensions/scrnsaver.h>."""

    _fields_ = [
        ("window", ctypes.c_ulong),
        ("state", ctypes.c_int),
        ("kind", ctypes.c_int),
        ("til_or_since", ctypes.c_ulong),
        ("idle", ctypes.c_ulong),
        ("eventMask", ctypes.c_ulong),
    ]


# void handler(Display*, void*): called instead of exit() when the X connection dies.
_IOErrorExitHandler = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
# int handler(Display*): Xlib's process-wide IO error hook, whose default calls exit(1).
_IOErrorHandler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


def _return_to_caller(_dpy: int | None) -> int:
    """Let Xlib go on to the per-display exit handler instead of exiting the process."""
    return 0


# A constant, never reassigned: Xlib keeps calling it, so it must live as long as the process.
_QUIET_IO_ERROR = _IOErrorHandler(_return_to_caller)


def _load(soname: str, short: str) -> ctypes.CDLL:
    """Load a shared library by soname, then by ctypes' search; OSError names the package hint."""
    for candidate in (soname, ctypes.util.find_library(short)):
        if candidate:
            try:
                return ctypes.CDLL(candidate)
            except OSError:
                continue
    raise OSError(f"{soname} not found")


def declare_xlib(x: ctypes.CDLL) -> None:
    """The real signatures of the libX11 calls ergo makes (64-bit pointers are truncated otherwise)."""
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]
    x.XDefaultRootWindow.restype = ctypes.c_ulong
    x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x.XConnectionNumber.restype = ctypes.c_int
    x.XConnectionNumber.argtypes = [ctypes.c_void_p]
    x.XFree.argtypes = [ctypes.c_void_p]
    if hasattr(x, "XSetIOErrorExitHandler"):
        x.XSetIOErrorHandler.argtypes = [_IOErrorHandler]
        x.XSetIOErrorHandler.restype = ctypes.c_void_p
        x.XSetIOErrorExitHandler.argtypes = [ctypes.c_void_p, _IOErrorExitHandler, ctypes.c_void_p]
        x.XSetIOErrorExitHandler.restype = None


def _ignore(_dpy: int | None, _data: int | None) -> None:
    """A display whose server went away: its calls fail from now on, and the process goes on."""


# A constant, never reassigned: Xlib may call it for as long as a display lives.
_IGNORE_EXIT = _IOErrorExitHandler(_ignore)


def survive_lost_server(x: ctypes.CDLL, dpy: int) -> bool:
    """Keep Xlib from exiting the process when this display's server dies (libX11 >= 1.8); False where
    this libX11 cannot (older ones exit on a lost server whatever the handler)."""
    if not hasattr(x, "XSetIOErrorExitHandler"):
        return False
    x.XSetIOErrorHandler(_QUIET_IO_ERROR)
    x.XSetIOErrorExitHandler(dpy, _IGNORE_EXIT, None)
    return True


def wayland_session() -> bool:
    """True when the desktop session is Wayland, where X11 idle time misses native input."""
    return bool(os.environ.get("WAYLAND_DISPLAY")) or os.environ.get("XDG_SESSION_TYPE") == "wayland"


class X11IdleMonitor:
    """XScreenSaverQueryInfo().idle on one display connection."""

    name = "x11"

    def __init__(self, display: str | None = None) -> None:
        self.display_name = display if display is not None else os.environ.get("DISPLAY", "")
        if not self.display_name:
            raise BackendUnavailable("idle backend 'x11' is unavailable: DISPLAY is not set")
        try:
            self._x11 = _load("libX11.so.6", "X11")
            self._xss = _load("libXss.so.1", "Xss")
        except OSError as e:
            raise BackendUnavailable(
                f"idle backend 'x11' is unavailable: {e} (install libx11-6 and libxss1)") from None
        self._declare()
        self._lock = threading.Lock()
        self._lost = False
        self._dpy = self._x11.XOpenDisplay(self.display_name.encode())
        if not self._dpy:
            raise BackendUnavailable(
                f"idle backend 'x11' is unavailable: cannot open display {self.display_name}")
        self._keep_handler = _IOErrorExitHandler(self._on_io_error)
        if hasattr(self._x11, "XSetIOErrorExitHandler"):  # libX11 >= 1.8: survive a dead server
            # Both are needed: the default IO error handler exits before the exit handler runs.
            # Other displays of this process keep Xlib's default exit handler, so still exit.
            self._x11.XSetIOErrorHandler(_QUIET_IO_ERROR)
            self._x11.XSetIOErrorExitHandler(self._dpy, self._keep_handler, None)
        base, err = ctypes.c_int(), ctypes.c_int()
        if not self._xss.XScreenSaverQueryExtension(self._dpy, ctypes.byref(base), ctypes.byref(err)):
            self.close()
            raise BackendUnavailable(
                f"idle backend 'x11' is unavailable: display {self.display_name} "
                "lacks the MIT-SCREEN-SAVER extension")
        self._root = self._x11.XDefaultRootWindow(self._dpy)
        self._info = self._xss.XScreenSaverAllocInfo()
        if not self._info:
            self.close()
            raise BackendUnavailable("idle backend 'x11' is unavailable: XScreenSaverAllocInfo failed")
        self.source = f"XScreenSaver on {self.display_name}"

    def _declare(self) -> None:
        """Give ctypes the real signatures; 64-bit pointers are truncated otherwise."""
        declare_xlib(self._x11)
        s = self._xss
        s.XScreenSaverQueryExtension.argtypes = [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
        s.XScreenSaverAllocInfo.restype = ctypes.POINTER(_XScreenSaverInfo)
        s.XScreenSaverQueryInfo.argtypes = [
            ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_XScreenSaverInfo)]

    def _on_io_error(self, _dpy: int | None, _data: int | None) -> None:
        """Xlib lost the server; remember it instead of letting Xlib exit the process."""
        self._lost = True

    def _server_gone(self) -> bool:
        """Peek at the X socket: end-of-file means the server is gone (Xlib would exit on it)."""
        try:
            with socket.socket(fileno=os.dup(self._x11.XConnectionNumber(self._dpy))) as sock:
                return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def idle_time(self) -> timedelta:
        """Milliseconds since the last input the X server saw; scheduler thread."""
        with self._lock:
            if not self._dpy:
                raise IdleError("x11: display is closed")
            if self._lost or self._server_gone():
                self._lost = True
                raise IdleError(f"x11: lost the connection to display {self.display_name}")
            ok = self._xss.XScreenSaverQueryInfo(self._dpy, self._root, self._info)
            if self._lost:
                raise IdleError(f"x11: lost the connection to display {self.display_name}")
            if not ok:
                raise IdleError(f"x11: XScreenSaverQueryInfo failed on {self.display_name}")
            return timedelta(milliseconds=int(self._info.contents.idle))

    def close(self) -> None:
        """Free the info block and close the display; safe to call twice."""
        with self._lock:
            info = getattr(self, "_info", None)
            if info:
                self._x11.XFree(info)
            self._info = None
            if self._dpy and not self._lost:
                self._x11.XCloseDisplay(self._dpy)
            self._dpy = None


def probe(display: str | None = None, allow_wayland: bool = False) -> str | None:
    """None if X11 idle time can be read here, else a one-line reason."""
    if wayland_session() and not allow_wayland:
        return "Wayland session: XWayland would see only X11 clients' input"
    try:
        monitor = X11IdleMonitor(display)
    except BackendUnavailable as e:
        return str(e).split(": ", 1)[-1]
    try:
        monitor.idle_time()
    except IdleError as e:
        return str(e).removeprefix("x11: ")
    finally:
        monitor.close()
    return None
