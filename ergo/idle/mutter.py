"""GNOME's idle time: org.gnome.Mutter.IdleMonitor on the session bus (X11 and Wayland).

Polling uses GetIdletime; ``watch()`` uses AddIdleWatch / AddUserActiveWatch and
the WatchFired signal on a second connection owned by one daemon thread.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ergo.errors import BackendUnavailable
from ergo.idle._dbus import (
    BusError,
    call,
    close_quietly,
    connect,
    describe_bus,
    method,
    wake,
)
from ergo.idle.base import IdleError

if TYPE_CHECKING:
    from jeepney import Message
    from jeepney.io.blocking import DBusConnection

log = logging.getLogger(__name__)

BUS_NAME = "org.gnome.Mutter.IdleMonitor"
PATH = "/org/gnome/Mutter/IdleMonitor/Core"
INTERFACE = "org.gnome.Mutter.IdleMonitor"
POLL_STOP = 0.5  # seconds between stop-flag checks in the watch thread


def _call(conn: DBusConnection, member: str, signature: str | None = None,
          body: tuple[object, ...] = ()) -> tuple[Any, ...]:
    """Call one IdleMonitor method, naming a missing service plainly."""
    try:
        return call(conn, method(PATH, BUS_NAME, INTERFACE, member, signature, body))
    except BusError as e:
        if "ServiceUnknown" in str(e) or "NameHasNoOwner" in str(e):
            raise BusError(f"{BUS_NAME} is not on the session bus") from None
        raise


class MutterIdleMonitor:
    """Idle time in ms from GNOME Shell; reconnects once per call if the bus restarted."""

    name = "mutter"

    def __init__(self, bus: str = "SESSION") -> None:
        self._bus = bus
        self.source = f"{INTERFACE} on the {describe_bus(bus)}"
        self._lock = threading.Lock()
        try:
            self._conn: DBusConnection | None = connect(bus)
        except BusError as e:
            raise BackendUnavailable(f"idle backend 'mutter' is unavailable: {e}") from None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watch_conn: DBusConnection | None = None

    def idle_time(self) -> timedelta:
        """GetIdletime() in ms; scheduler thread. IdleError if GNOME or the bus is gone."""
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = connect(self._bus)
                (ms,) = _call(self._conn, "GetIdletime")
            except BusError as e:
                close_quietly(self._conn)
                self._conn = None
                raise IdleError(f"mutter: {e}") from None
            return timedelta(milliseconds=int(ms))

    def watch(self, away_after: timedelta, on_away: Callable[[], None],
              on_back: Callable[[], None]) -> None:
        """Start the single watch thread; callbacks run on it. Raises IdleError if it can't."""
        if self._thread is not None:
            raise IdleError("mutter: a watch is already running")
        interval_ms = max(1, int(away_after.total_seconds() * 1000))
        try:
            conn = connect(self._bus)
        except BusError as e:
            raise IdleError(f"mutter: {e}") from None
        try:
            fired, idle_id, now_ms = _subscribe(conn, interval_ms)
        except BusError as e:
            close_quietly(conn)
            raise IdleError(f"mutter: cannot add an idle watch: {e}") from None
        self._stop.clear()
        self._watch_conn = conn
        self._thread = threading.Thread(
            target=self._watch_loop,
            args=(conn, fired, idle_id, now_ms >= interval_ms, interval_ms, on_away, on_back),
            name="ergo-idle-mutter", daemon=True)
        self._thread.start()

    def _watch_loop(self, conn: DBusConnection, fired: deque[Message], idle_id: int, already_away: bool,
                    interval_ms: int, on_away: Callable[[], None], on_back: Callable[[], None]) -> None:
        """Turn WatchFired into on_away/on_back until close(); a user-active watch fires once.

        When the session bus goes away (it restarted), reconnect with a growing pause and add the
        watches again; the idle time read then says whether the person is still away.
        """
        away = False
        while True:
            try:
                away = self._follow(conn, fired, idle_id, already_away, away, on_away, on_back)
                return  # stopped
            except (BusError, OSError, ValueError, EOFError) as e:
                if self._stop.is_set():
                    return
                log.warning("mutter idle watch lost the session bus (%s); reconnecting", e)
            finally:
                close_quietly(conn)  # Mutter drops a connection's watches when it goes
            delay = 0.5
            while True:
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, 30.0)
                try:
                    conn = connect(self._bus)
                except BusError:
                    continue
                try:
                    fired, idle_id, now_ms = _subscribe(conn, interval_ms)
                except (BusError, OSError, ValueError, EOFError):
                    close_quietly(conn)
                    continue
                break
            self._watch_conn = conn
            if self._stop.is_set():
                close_quietly(conn)
                return
            log.info("mutter idle watch reconnected")
            already_away = now_ms >= interval_ms
            if away and not already_away:
                away = False
                _safely(on_back)

    def _follow(self, conn: DBusConnection, fired: deque[Message], idle_id: int, already_away: bool, away: bool,
                on_away: Callable[[], None], on_back: Callable[[], None]) -> bool:
        """One connection's life; returns whether the person is away when stopped, raises on bus loss."""
        active_id: int | None = None
        if already_away:
            active_id = int(_call(conn, "AddUserActiveWatch")[0])
            if not away:
                _safely(on_away)
            away = True
        while not self._stop.is_set():
            try:
                conn.recv_messages(timeout=POLL_STOP)
            except TimeoutError:
                continue
            while fired:
                (watch_id,) = fired.popleft().body
                if watch_id == idle_id and active_id is None:
                    active_id = int(_call(conn, "AddUserActiveWatch")[0])
                    away = True
                    _safely(on_away)
                elif watch_id == active_id:
                    active_id = None
                    away = False
                    _safely(on_back)
        return away

    def close(self) -> None:
        """Stop the watch thread (woken at once, joined) and close both connections."""
        self._stop.set()
        if self._watch_conn is not None:
            wake(self._watch_conn)
            self._watch_conn = None
        if self._thread is not None:
            self._thread.join(timeout=2 * POLL_STOP)
            self._thread = None
        with self._lock:
            close_quietly(self._conn)
            self._conn = None


def _subscribe(conn: DBusConnection, interval_ms: int) -> tuple[deque[Message], int, int]:
    """Listen for WatchFired and add the idle watch: (their queue, the watch id, the idle time now in ms)."""
    from jeepney import MatchRule, message_bus

    rule = MatchRule(type="signal", interface=INTERFACE, member="WatchFired", path=PATH)
    call(conn, message_bus.AddMatch(rule))
    fired: deque[Message] = deque()
    conn.filter(rule, queue=fired)
    (idle_id,) = _call(conn, "AddIdleWatch", "t", (interval_ms,))
    (now_ms,) = _call(conn, "GetIdletime")
    return fired, int(idle_id), int(now_ms)


def _safely(callback: Callable[[], None]) -> None:
    """Run a daemon callback; its bug must not kill the watch thread."""
    try:
        callback()
    except Exception:
        log.exception("idle watch callback failed")


def probe(bus: str = "SESSION") -> str | None:
    """None if GetIdletime answers on this bus, else a one-line reason."""
    try:
        conn = connect(bus)
    except BusError as e:
        return str(e)
    try:
        _call(conn, "GetIdletime")
    except BusError as e:
        return str(e)
    finally:
        close_quietly(conn)
    return None
