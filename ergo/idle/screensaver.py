"""KDE's (and others') idle time: org.freedesktop.ScreenSaver.GetSessionIdleTime, in seconds.

KDE serves it on /ScreenSaver as well as /org/freedesktop/ScreenSaver; the
first path that answers is kept. GNOME owns the name but answers NotSupported,
which makes this backend unavailable there (mutter is used instead).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from ergo.errors import BackendUnavailable
from ergo.idle._dbus import BusError, call, close_quietly, connect, describe_bus, method
from ergo.idle.base import IdleError

if TYPE_CHECKING:
    from jeepney.io.blocking import DBusConnection

BUS_NAME = "org.freedesktop.ScreenSaver"
INTERFACE = "org.freedesktop.ScreenSaver"
PATHS = ("/org/freedesktop/ScreenSaver", "/ScreenSaver")


def _idle_seconds(conn: DBusConnection, path: str) -> int:
    """One GetSessionIdleTime call, naming a missing service plainly."""
    try:
        (seconds,) = call(conn, method(path, BUS_NAME, INTERFACE, "GetSessionIdleTime"))
    except BusError as e:
        if "ServiceUnknown" in str(e) or "NameHasNoOwner" in str(e):
            raise BusError(f"{BUS_NAME} is not on the session bus") from None
        raise BusError(f"{path}: {e}") from None
    return int(seconds)


def find_path(conn: DBusConnection) -> str:
    """The first object path whose GetSessionIdleTime answers; BusError lists why none did."""
    reasons: list[str] = []
    for path in PATHS:
        try:
            _idle_seconds(conn, path)
            return path
        except BusError as e:
            if "is not on the" in str(e):
                raise
            reasons.append(str(e))
    raise BusError("; ".join(reasons))


class ScreenSaverIdleMonitor:
    """Idle time with one-second resolution from the freedesktop ScreenSaver service."""

    name = "screensaver"

    def __init__(self, bus: str = "SESSION") -> None:
        self._bus = bus
        self._lock = threading.Lock()
        try:
            self._conn: DBusConnection | None = connect(bus)
            self.path = find_path(self._conn)
        except BusError as e:
            raise BackendUnavailable(f"idle backend 'screensaver' is unavailable: {e}") from None
        self.source = f"{INTERFACE} at {self.path} on the {describe_bus(bus)}"

    def idle_time(self) -> timedelta:
        """GetSessionIdleTime() in s; scheduler thread. IdleError if the service is gone."""
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = connect(self._bus)
                return timedelta(seconds=_idle_seconds(self._conn, self.path))
            except BusError as e:
                close_quietly(self._conn)
                self._conn = None
                raise IdleError(f"screensaver: {e}") from None

    def close(self) -> None:
        """Close the bus connection; safe to call twice."""
        with self._lock:
            close_quietly(self._conn)
            self._conn = None


def probe(bus: str = "SESSION") -> str | None:
    """None if GetSessionIdleTime answers on one of the known paths, else a one-line reason."""
    try:
        conn = connect(bus)
    except BusError as e:
        return str(e)
    try:
        find_path(conn)
    except BusError as e:
        return str(e)
    finally:
        close_quietly(conn)
    return None
