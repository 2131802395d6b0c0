"""Test doubles of desktop D-Bus services, and a bare private bus to run them on.

Everything here is a stand-in for a real service (GNOME's Mutter idle monitor,
KDE's ScreenSaver, systemd-logind, a KDE-like notification server), served by
jeepney from a thread of the test process on a dbus-daemon the test starts.
For Xvfb + dunst use tests/desktop.py; this module adds only what that lacks.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from jeepney import (
    DBusAddress,
    HeaderFields,
    Message,
    MessageType,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from tests.desktop import BUS_CONFIG, require_tools  # noqa: F401  (re-exported)

Reply = tuple[str | None, tuple[Any, ...]]
Handler = Callable[[Message], Reply | None]  # None: send no reply at all


@contextmanager
def private_bus(timeout: float = 5.0) -> Iterator[str]:
    """A throwaway dbus-daemon (permissive policy, no services); yields its address."""
    workdir = Path(tempfile.mkdtemp(prefix="ergo-bus-"))
    (workdir / "bus.conf").write_text(BUS_CONFIG.format(dir=workdir, servicedir=""))
    proc = subprocess.Popen(
        ["dbus-daemon", f"--config-file={workdir / 'bus.conf'}", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().decode().strip()
        if not address:
            raise RuntimeError(f"dbus-daemon exited with {proc.wait(timeout)} before printing its address")
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        shutil.rmtree(workdir, ignore_errors=True)


class ServiceDouble:
    """A fake D-Bus service: owns a name, answers registered methods, emits signals on request.

    Runs one thread; tests call ``emit`` and ``run`` from their own thread and
    the double does the I/O on its thread, since jeepney's blocking
    connection is not thread-safe.
    """

    def __init__(self, address: str, name: str | None) -> None:
        self.address = address
        self.name = name
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.calls: list[tuple[str, str, tuple[Any, ...]]] = []  # (interface, member, body) received
        self._commands: queue.Queue[tuple[Callable[[DBusConnection], Any], queue.Queue[Any]]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.unique_name = ""

    def handle(self, interface: str, member: str, handler: Handler) -> None:
        """Register a method; the handler returns (signature, body) for the reply."""
        self.handlers[(interface, member)] = handler

    def __enter__(self) -> Self:
        ready: queue.Queue[BaseException | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True, name="dbus-double")
        self._thread.start()
        error = ready.get(timeout=5)
        if error is not None:
            raise error
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _serve(self, ready: queue.Queue[BaseException | None]) -> None:
        try:
            conn = open_dbus_connection(bus=self.address)
            self.unique_name = conn.unique_name
            if self.name is not None:
                reply = conn.send_and_get_reply(message_bus.RequestName(self.name, 4), timeout=2)
                if reply.body[0] != 1:
                    raise RuntimeError(f"could not own {self.name}: {reply.body}")
        except BaseException as e:  # noqa: BLE001 - handed to the test thread, which raises it
            ready.put(e)
            return
        ready.put(None)
        with conn:
            while not self._stop.is_set():
                while not self._commands.empty():
                    command, result = self._commands.get()
                    try:
                        result.put(command(conn))
                    except BaseException as e:  # noqa: BLE001 - re-raised by run() on the test thread
                        result.put(e)
                try:
                    msg = conn.receive(timeout=0.02)
                except TimeoutError:
                    continue
                if msg.header.message_type == MessageType.method_call:
                    self._answer(conn, msg)

    def _answer(self, conn: DBusConnection, msg: Message) -> None:
        fields = msg.header.fields
        key = (fields.get(HeaderFields.interface, ""), fields.get(HeaderFields.member, ""))
        self.calls.append((key[0], key[1], tuple(msg.body)))
        handler = self.handlers.get(key)
        if handler is None:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"no {key}",)))
            return
        try:
            reply = handler(msg)
        except DBusFailure as e:
            conn.send(new_error(msg, e.name, "s", (e.text,)))
            return
        if reply is None:  # a handler that never answers, like a hung server
            return
        signature, body = reply
        conn.send(new_method_return(msg, signature, body))

    def run(self, command: Callable[[DBusConnection], Any]) -> Any:
        """Run a function with the double's connection on the double's thread; return its result."""
        result: queue.Queue[Any] = queue.Queue()
        self._commands.put((command, result))
        value = result.get(timeout=5)
        if isinstance(value, BaseException):
            raise value
        return value

    def emit(self, path: str, interface: str, member: str, signature: str | None = None,
             body: tuple[Any, ...] = (), destination: str | None = None) -> None:
        """Send a signal (broadcast, or unicast when a destination is given)."""
        msg = new_signal(DBusAddress(path, interface=interface), member, signature, body)
        if destination is not None:
            msg.header.fields[HeaderFields.destination] = destination
        self.run(lambda conn: conn.send(msg))


class DBusFailure(Exception):
    """Raised by a handler to answer with a D-Bus error."""

    def __init__(self, name: str, text: str) -> None:
        super().__init__(f"{name}: {text}")
        self.name, self.text = name, text


class MutterDouble(ServiceDouble):
    """Test double of org.gnome.Mutter.IdleMonitor: set ``idle_ms``; fire watches on demand."""

    PATH = "/org/gnome/Mutter/IdleMonitor/Core"
    IFACE = "org.gnome.Mutter.IdleMonitor"

    def __init__(self, address: str, idle_ms: int = 0) -> None:
        super().__init__(address, "org.gnome.Mutter.IdleMonitor")
        self.idle_ms = idle_ms
        self.idle_watches: dict[int, tuple[str, int]] = {}  # id -> (owner, interval_ms)
        self.active_watches: dict[int, str] = {}  # id -> owner; they fire once, like Mutter's
        self._next_id = 1
        self.handle(self.IFACE, "GetIdletime", lambda m: ("t", (self.idle_ms,)))
        self.handle(self.IFACE, "AddIdleWatch", self._add_idle)
        self.handle(self.IFACE, "AddUserActiveWatch", self._add_active)
        self.handle(self.IFACE, "RemoveWatch", self._remove)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _add_idle(self, msg: Message) -> Reply:
        watch_id = self._new_id()
        self.idle_watches[watch_id] = (str(msg.header.fields[HeaderFields.sender]), int(msg.body[0]))
        return "u", (watch_id,)

    def _add_active(self, msg: Message) -> Reply:
        watch_id = self._new_id()
        self.active_watches[watch_id] = str(msg.header.fields[HeaderFields.sender])
        return "u", (watch_id,)

    def _remove(self, msg: Message) -> Reply:
        self.idle_watches.pop(int(msg.body[0]), None)
        self.active_watches.pop(int(msg.body[0]), None)
        return None, ()

    def go_idle(self) -> None:
        """The person stopped: every idle watch fires (Mutter unicasts WatchFired to its owner)."""
        for watch_id, (owner, _interval) in list(self.idle_watches.items()):
            self.emit(self.PATH, self.IFACE, "WatchFired", "u", (watch_id,), destination=owner)

    def become_active(self) -> None:
        """The person is back: user-active watches fire once and are gone."""
        for watch_id, owner in list(self.active_watches.items()):
            del self.active_watches[watch_id]
            self.emit(self.PATH, self.IFACE, "WatchFired", "u", (watch_id,), destination=owner)


class ScreenSaverDouble(ServiceDouble):
    """Test double of org.freedesktop.ScreenSaver answering GetSessionIdleTime on chosen paths.

    ``not_supported=True`` answers like GNOME Shell does: the name exists, the call errors.
    """

    IFACE = "org.freedesktop.ScreenSaver"

    def __init__(self, address: str, idle_s: int = 0, paths: tuple[str, ...] = ("/org/freedesktop/ScreenSaver",),
                 not_supported: bool = False) -> None:
        super().__init__(address, "org.freedesktop.ScreenSaver")
        self.idle_s = idle_s
        self.paths = paths
        self.not_supported = not_supported
        self.handle(self.IFACE, "GetSessionIdleTime", self._idle)

    def _idle(self, msg: Message) -> Reply:
        if self.not_supported:
            raise DBusFailure("org.freedesktop.DBus.Error.NotSupported", "This method is not implemented")
        if msg.header.fields.get(HeaderFields.path) not in self.paths:
            raise DBusFailure("org.freedesktop.DBus.Error.UnknownObject", "No such object path")
        return "u", (self.idle_s,)


class SessionManagerDouble(ServiceDouble):
    """Test double of GNOME's org.gnome.SessionManager answering IsInhibited(flags): set ``inhibited``
    (the flags an application inhibits, 8 = idle, as a video player asks)."""

    def __init__(self, address: str, inhibited: int = 0) -> None:
        super().__init__(address, "org.gnome.SessionManager")
        self.inhibited = inhibited
        self.handle("org.gnome.SessionManager", "IsInhibited", lambda msg: ("b", (bool(self.inhibited & msg.body[0]),)))


class Login1Double(ServiceDouble):
    """Test double of systemd-logind's Manager: owns org.freedesktop.login1, emits PrepareForSleep."""

    def __init__(self, address: str, name: str | None = "org.freedesktop.login1") -> None:
        super().__init__(address, name)

    def prepare_for_sleep(self, going: bool) -> None:
        self.emit("/org/freedesktop/login1", "org.freedesktop.login1.Manager", "PrepareForSleep", "b", (going,))


class InhibitingServerDouble(ServiceDouble):
    """Test double of a KDE-like notification server with an ``Inhibited`` property."""

    PATH = "/org/freedesktop/Notifications"
    IFACE = "org.freedesktop.Notifications"

    def __init__(self, address: str, inhibited: bool = False) -> None:
        super().__init__(address, self.IFACE)
        self.inhibited = inhibited
        self.handle("org.freedesktop.DBus.Properties", "Get", self._get)

    def _get(self, msg: Message) -> Reply:
        interface, name = msg.body
        if (interface, name) != (self.IFACE, "Inhibited"):
            raise DBusFailure("org.freedesktop.DBus.Error.UnknownProperty", f"no {interface}.{name}")
        return "v", (("b", self.inhibited),)

    def set_inhibited(self, value: bool) -> None:
        self.inhibited = value
        self.emit(self.PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged", "sa{sv}as",
                  (self.IFACE, {"Inhibited": ("b", value)}, []))


class SilentNotificationServerDouble(ServiceDouble):
    """Test double of a hung notification server: owns org.freedesktop.Notifications, says who it is,
    and receives every Notify but never answers one, so the sender stays blocked inside its send."""

    IFACE = "org.freedesktop.Notifications"

    def __init__(self, address: str) -> None:
        super().__init__(address, self.IFACE)
        self.handle(self.IFACE, "GetServerInformation", lambda m: ("ssss", ("silent-double", "ergo-tests", "1", "1.2")))
        self.handle(self.IFACE, "GetCapabilities", lambda m: ("as", (["body"],)))
        self.handle(self.IFACE, "Notify", lambda m: None)

    def notify_calls(self) -> list[tuple[Any, ...]]:
        """The bodies of the Notify calls received so far, oldest first."""
        return [body for iface, member, body in list(self.calls) if (iface, member) == (self.IFACE, "Notify")]


def wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
    """Poll until predicate() is true or timeout; returns the last value."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return predicate()
        time.sleep(0.01)
    return True
