"""The shared skeleton of ergo's D-Bus session watchers: one connection, one daemon thread.

Subclasses list their match rules and turn messages into SessionEvents; this
class subscribes on the caller's thread, then receives in a loop. The receive
blocks with no timeout (or only until the next ``on_tick`` when a subclass sets
``tick_interval``): an idle watcher costs no wake-ups at all.

Stopping: ``stop()`` sets the stop flag, then shuts the connection's socket
down (``wake``). A shut-down socket stays readable (end-of-file) for good, so a
receive that starts after the shutdown returns at once too: there is no window
in which a stop can be missed. Until the thread has published the connection,
``stop()`` has no socket to shut down; the flag is then set before the thread
looks at it (the thread checks it after the connection is published, under the
same lock), so it still ends. The socket is closed and shut down under one lock,
so ``wake`` never touches a socket (or a reused file descriptor) after close.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ergo.errors import BackendUnavailable
from ergo.idle._dbus import BusError, call, close_quietly, connect, describe_bus, wake
from ergo.session.events import Emit, SessionEvent

if TYPE_CHECKING:
    from jeepney import MatchRule, Message
    from jeepney.io.blocking import DBusConnection

log = logging.getLogger(__name__)

JOIN_TIMEOUT = 0.9  # seconds stop() waits for the thread; it is a daemon thread, so never longer
RECONNECT_FIRST, RECONNECT_LAST = 0.5, 30.0  # seconds between attempts to reach a bus that went away


class BusSignalWatcher:
    """Base for watchers fed by D-Bus signals; not itself useful."""

    name = "bus"
    tick_interval: float | None = None  # seconds between on_tick calls; None = never

    def __init__(self, bus: str) -> None:
        self.bus = bus
        self.where = describe_bus(bus)
        self.description = f"{self.name}: not started"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: DBusConnection | None = None  # the running thread's connection; None once closed
        self._conn_lock = threading.Lock()  # guards _conn: its shutdown (stop) and close (thread)

    def rules(self) -> list[tuple[MatchRule, MatchRule]]:
        """(rule sent to the bus, rule for jeepney's local filter) pairs.

        They differ when the bus rule names a well-known sender: the bus resolves
        it, but messages carry the sender's unique name.
        """
        raise NotImplementedError

    def on_start(self, conn: DBusConnection) -> Iterable[SessionEvent]:
        """Read initial state on the caller's thread; events returned are emitted by the thread."""
        return ()

    def on_signal(self, conn: DBusConnection, msg: Message) -> Iterable[SessionEvent]:
        """Turn one matched signal into events; watcher thread."""
        raise NotImplementedError

    def on_tick(self, conn: DBusConnection) -> Iterable[SessionEvent]:
        """Periodic check for sources without signals; watcher thread."""
        return ()

    def start(self, emit: Emit) -> None:
        """Connect and subscribe here, then hand the connection to the daemon thread."""
        if self._thread is not None:
            return
        self._stop.clear()  # a stop() before this start() does not cancel it; one after it always counts
        try:
            conn, queue, initial = self._subscribe()
        except BusError as e:
            raise BackendUnavailable(f"session watcher '{self.name}' is unavailable: {e}") from None
        with self._conn_lock:
            self._conn = conn
        self._thread = threading.Thread(target=self._run, args=(conn, queue, emit, initial),
                                        name=f"ergo-session-{self.name}", daemon=True)
        self._thread.start()

    def _run(self, conn: DBusConnection, queue: deque[Message], emit: Emit,
             initial: list[SessionEvent]) -> None:
        """The thread: receive, dispatch, tick; ends on stop(). When the bus goes away (it restarted,
        or the session ended), it reconnects with a growing pause (0.5 s to 30 s) and subscribes again."""
        pending = initial
        while True:
            try:
                self._emit_all(emit, pending)
                self._receive(conn, queue, emit)
                return  # stopped
            except (BusError, OSError, ValueError, EOFError) as e:
                if self._stop.is_set():
                    return
                log.warning("%s watcher lost the %s (%s); reconnecting", self.name, self.where, e)
            except Exception:  # a bug in a subclass must not leave a half-dead watcher behind silently
                log.exception("%s watcher failed", self.name)
                return
            finally:
                with self._conn_lock:
                    if self._conn is conn:
                        self._conn = None
                    close_quietly(conn)
            again = self._reconnect()
            if again is None:
                return
            conn, queue, pending = again
            log.info("%s watcher reconnected to the %s", self.name, self.where)

    def _receive(self, conn: DBusConnection, queue: deque[Message], emit: Emit) -> None:
        next_tick = time.monotonic() + self.tick_interval if self.tick_interval else None
        while not self._stop.is_set():
            timeout = None if next_tick is None else max(0.0, next_tick - time.monotonic())
            try:
                conn.recv_messages(timeout=timeout)  # stop() makes this return (end-of-file)
            except TimeoutError:
                pass
            while queue and not self._stop.is_set():
                self._emit_all(emit, self.on_signal(conn, queue.popleft()))
            if next_tick is not None and time.monotonic() >= next_tick and not self._stop.is_set():
                self._emit_all(emit, self.on_tick(conn))
                next_tick = time.monotonic() + (self.tick_interval or 0)

    def _subscribe(self) -> tuple[DBusConnection, deque[Message], list[SessionEvent]]:
        """Connect, add the match rules and take the initial events; the connection is closed on failure."""
        from jeepney import message_bus

        conn = connect(self.bus)
        queue: deque[Message] = deque()
        try:
            for bus_rule, local_rule in self.rules():
                call(conn, message_bus.AddMatch(bus_rule))
                conn.filter(local_rule, queue=queue)
            initial = list(self.on_start(conn))
        except BaseException:
            close_quietly(conn)
            raise
        return conn, queue, initial

    def _reconnect(self) -> tuple[DBusConnection, deque[Message], list[SessionEvent]] | None:
        """Connect and subscribe again, waiting longer after each failure; None once stopped."""
        delay = RECONNECT_FIRST
        while not self._stop.wait(delay):
            delay = min(delay * 2, RECONNECT_LAST)
            try:
                conn, queue, initial = self._subscribe()
            except (BusError, OSError, ValueError, EOFError):
                continue
            with self._conn_lock:
                if self._stop.is_set():
                    close_quietly(conn)
                    return None
                self._conn = conn
            return conn, queue, initial
        return None

    def _emit_all(self, emit: Emit, events: Iterable[SessionEvent]) -> None:
        """Hand events to the daemon; a failing callback is logged, never kills the thread."""
        for event in events:
            if self._stop.is_set():
                return
            try:
                emit(event)
            except Exception:
                log.exception("%s watcher: emit(%s) failed", self.name, event)

    def stop(self) -> None:
        """Set the stop flag, wake the thread by shutting its socket down, join it (<= ~1 s).

        Safe to call twice, before start(), right after it, and from the
        watcher's own thread (an emit callback): then it does not join.
        """
        self._stop.set()
        with self._conn_lock:
            if self._conn is not None:
                wake(self._conn)  # the socket stays shut down: a later receive returns at once too
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=JOIN_TIMEOUT)
            if thread.is_alive():
                log.warning("%s watcher did not stop within %g s (left to end with the process)",
                            self.name, JOIN_TIMEOUT)

    @property
    def running(self) -> bool:
        """True while the watcher thread is alive."""
        return self._thread is not None and self._thread.is_alive()
