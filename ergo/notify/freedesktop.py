"""Notifications over D-Bus with jeepney: pure Python, replaces by key, and reports real failures.

Every jeepney or socket exception is turned into a NotifyError whose message is one readable line.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from typing import Any, NamedTuple

from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.low_level import Message
from jeepney.wrappers import DBusErrorResponse

from ergo.errors import NotifyError
from ergo.notify.base import ClosingContext, Notification
from ergo.notify.buttons import fit
from ergo.notify.icon import app_icon

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
APP_NAME = "ergo"
URGENCY_BYTES = {"low": 0, "normal": 1, "critical": 2}

NO_BUS = "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)"
NO_SERVER = "no notification server on the session bus"
SERVER_GONE = "notification server went away (nobody owns org.freedesktop.Notifications any more)"
UNSUPPORTED_ADDRESS = "D-Bus address not supported by jeepney"

_ABSENT_ERRORS = frozenset(
    {"org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"}
)


class ServerInfo(NamedTuple):
    """What GetServerInformation answers; worth one log line when the daemon starts."""

    name: str
    vendor: str
    version: str
    spec_version: str

    def describe(self) -> str:
        """'dunst 1.9.0', short enough for a status line."""
        version = self.version.split()[0] if self.version.strip() else "?"
        return f"{self.name} {version}"


def _server() -> DBusAddress:
    return DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=BUS_NAME)


def _bus_address() -> str:
    return os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")


def _shown_address() -> str:
    """The bus address without its long guid, which says nothing to a user."""
    return re.sub(r",?guid=[0-9a-fA-F]+", "", _bus_address())


def describe_error(exc: BaseException, *, timeout: float | None = None) -> str:
    """One line saying what went wrong, for any exception jeepney or the socket layer raises."""
    if isinstance(exc, KeyError) and not _bus_address():  # jeepney's word for an unset address, and only then
        return NO_BUS
    if isinstance(exc, DBusErrorResponse):
        detail = exc.data[0] if exc.data and isinstance(exc.data[0], str) else ""
        if exc.name in _ABSENT_ERRORS:
            return NO_SERVER
        if exc.name and exc.name.startswith("org.freedesktop.DBus.Error.Spawn."):
            return f"notification server failed to start: {detail or exc.name}"
        return f"notification server refused the request: {exc.name}: {detail}".rstrip(": ")
    if isinstance(exc, TimeoutError):
        after = f" within {timeout:g} s" if timeout is not None else ""
        return f"notification server did not answer{after}"
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        return f"session bus unreachable at {_shown_address()}: {exc.strerror or exc}"
    if isinstance(exc, (ConnectionError, EOFError)):
        return f"notification server went away: session bus connection lost ({exc})"
    if isinstance(exc, OSError):
        return f"session bus error: {exc.strerror or exc}"
    if isinstance(exc, RuntimeError) and "transports" in str(exc):
        return f"{UNSUPPORTED_ADDRESS}: {_shown_address()}"
    return f"D-Bus error: {type(exc).__name__}: {exc}"


def _connect() -> DBusConnection:
    if not _bus_address():
        raise NotifyError(NO_BUS)
    try:
        return open_dbus_connection(bus="SESSION")
    except Exception as exc:  # jeepney raises KeyError, OSError, RuntimeError, ValueError...
        raise NotifyError(describe_error(exc)) from exc


def _call(conn: DBusConnection, msg: Message, timeout: float) -> tuple[Any, ...]:
    reply = conn.send_and_get_reply(msg, timeout=timeout)
    if reply.header.message_type == MessageType.error:
        raise DBusErrorResponse(reply)
    body: tuple[Any, ...] = reply.body
    return body


def probe() -> str | None:
    """None when a notification server is running or D-Bus-activatable (dunst usually is), else why not."""
    if not _bus_address():
        return NO_BUS
    try:
        conn = _connect()
    except NotifyError as exc:
        return str(exc)
    try:
        (owned,) = _call(conn, message_bus.NameHasOwner(BUS_NAME), 2.0)
        if owned:
            return None
        (activatable,) = _call(conn, message_bus.ListActivatableNames(), 2.0)
        return None if BUS_NAME in activatable else NO_SERVER
    except Exception as exc:
        return describe_error(exc, timeout=2.0)
    finally:
        conn.close()


def server_info(*, timeout: float = 5.0) -> ServerInfo:
    """Ask the server who it is (this starts an activatable server, which proves it can run)."""
    conn = _connect()
    try:
        return ServerInfo(*_call(conn, new_method_call(_server(), "GetServerInformation"), timeout))
    except Exception as exc:
        raise NotifyError(describe_error(exc, timeout=timeout)) from exc
    finally:
        conn.close()


class FreedesktopNotifier(ClosingContext):
    """Talks to the desktop's notification server directly, so reminders replace each other instead of stacking.

    One connection, opened at the first send and reopened once if the bus dropped it. Thread safe.
    """

    name = "freedesktop"

    def __init__(self, *, app_name: str = APP_NAME, timeout: float = 5.0, answers: Any | None = None) -> None:
        self._app_name = app_name
        self._icon = app_icon()
        self._timeout = timeout
        self._lock = threading.Lock()
        self._conn: Any | None = None  # a blocking DBusConnection, or the answers listener's routed one
        self._caps: frozenset[str] | None = None
        self._server_name: str | None = None
        self.answers = answers  # ergo.notify.answers.AnswerListener: buttons need the connection that sent Notify
        self.last_id: int | None = None  # the server's id for the latest notification sent
        self._ids: dict[str, int] = {}
        self._delivered = False  # whether the server answered the latest send: "went away" vs "not there"
        self._closed = False

    def send(self, notification: Notification) -> None:
        with self._lock:
            if self._closed:
                raise NotifyError("the freedesktop notifier is closed")
            fresh = self._conn is None
            if fresh:
                self._open()
            try:
                new_id = self._notify(notification)
            except (ConnectionError, EOFError, BrokenPipeError) as exc:
                self._drop()
                if fresh:
                    raise NotifyError(describe_error(exc)) from exc
                try:  # The bus or our connection died: one retry on a new connection.
                    self._open()
                except NotifyError as again:
                    raise NotifyError(f"session bus went away: {again}") from again
                try:
                    new_id = self._notify(notification)
                except Exception as again:
                    self._drop()
                    raise NotifyError(describe_error(again, timeout=self._timeout)) from again
            except DBusErrorResponse as exc:
                reason = describe_error(exc)
                if exc.name in _ABSENT_ERRORS:
                    # A restarted server numbers from 1 again: an old id could replace another app's notification.
                    self._ids.clear()
                    self._caps = None
                    self._server_name = None
                    if self._delivered:
                        reason = SERVER_GONE
                    self._delivered = False
                raise NotifyError(reason) from exc
            except Exception as exc:
                raise NotifyError(describe_error(exc, timeout=self._timeout)) from exc
            self._ids[notification.key] = new_id
            self.last_id = new_id
            self._delivered = True

    def supports_actions(self) -> bool:
        """Whether the server shows buttons (the "actions" capability); False when it cannot be asked."""
        with self._lock:
            try:
                if self._conn is None:
                    self._open()
                return "actions" in self._capabilities()
            except Exception:
                return False

    def close_notification(self, key: str) -> None:
        """Take a reminder off the screen (it was answered by command); quiet when it is already gone."""
        with self._lock:
            notification_id = self._ids.get(key)
            if notification_id is None or self._conn is None:
                return
            with contextlib.suppress(Exception):
                _call(self._conn, new_method_call(_server(), "CloseNotification", "u", (notification_id,)), self._timeout)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._drop()

    def _open(self) -> None:
        self._conn = self.answers.connect() if self.answers is not None else _connect()
        # Ids and capabilities belong to the server we talked to before, which may be gone.
        self._ids.clear()
        self._caps = None
        self._server_name = None
        self._delivered = False

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None

    def _notify(self, n: Notification) -> int:
        assert self._conn is not None
        caps = self._capabilities()
        body = _escape_markup(n.body) if "body-markup" in caps else n.body
        buttons = fit(n.actions, self._name(), dict(n.short_labels)) if "actions" in caps else ()
        actions = [part for pair in buttons for part in pair]
        hints: dict[str, tuple[str, Any]] = {"urgency": ("y", URGENCY_BYTES[n.urgency])}
        if n.progress is not None:
            hints["value"] = ("i", max(0, min(100, n.progress)))
        msg = new_method_call(
            _server(),
            "Notify",
            "susssasa{sv}i",
            (
                self._app_name,
                self._ids.get(n.key, 0),
                self._icon,
                n.title,
                body,
                actions,
                hints,
                n.expire_ms,
            ),
        )
        (new_id,) = _call(self._conn, msg, self._timeout)
        return int(new_id)

    def _capabilities(self) -> frozenset[str]:
        """GetCapabilities, asked once per server: "body-markup" means a tip like "a < b & c" must be escaped,
        "actions" that buttons are shown."""
        if self._caps is None:
            assert self._conn is not None
            try:
                (caps,) = _call(self._conn, new_method_call(_server(), "GetCapabilities"), self._timeout)
            except DBusErrorResponse:
                caps = []
            self._caps = frozenset(caps)
        return self._caps

    def _name(self) -> str:
        """GetServerInformation's name ("Notification Daemon", "dunst"), asked once per server: how it draws buttons."""
        if self._server_name is None:
            assert self._conn is not None
            try:
                self._server_name = str(_call(self._conn, new_method_call(_server(), "GetServerInformation"),
                                              self._timeout)[0])
            except DBusErrorResponse:
                self._server_name = ""
        return self._server_name


def _escape_markup(text: str) -> str:
    """What html.escape(quote=False) does, without importing html into the daemon."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
