"""Answers to ergo's notifications: ActionInvoked and NotificationClosed from the notification server.

Servers send these signals to the connection that called Notify (dunst and
notification-daemon address them to it alone), so the freedesktop notifier
sends over the connection made here: jeepney's thread-safe connection with a
router whose receiver thread blocks on the socket. One more thread blocks on
the queue of matched signals and hands each answer to the daemon. Neither polls.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ergo.errors import NotifyError

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
SIGNALS = ("ActionInvoked", "NotificationClosed")
CLOSED_REASONS = {1: "expired", 2: "dismissed", 3: "closed", 4: "closed"}


@dataclass(frozen=True)
class Answer:
    """What the person did with notification `notification_id`: an action key, or closed (`closed` = why)."""

    notification_id: int
    action: str | None = None
    closed: str | None = None


def _first_reply_matcher() -> Any:
    """jeepney's ReplyMatcher, keeping the first reply to a call and dropping any later one.

    mako answers GetCapabilities twice (the capabilities, then an UnknownMethod error from a second
    object on the same path); jeepney 0.9's matcher then sets a finished future again, which kills
    the router's receiver thread and with it every later reminder.
    """
    from jeepney import HeaderFields
    from jeepney.io.common import ReplyMatcher

    class FirstReplyMatcher(ReplyMatcher):  # type: ignore[misc]
        def dispatch(self, msg: Any) -> bool:
            future = self._futures.get(msg.header.fields.get(HeaderFields.reply_serial, -1))
            if future is not None and future.done():
                return True  # a second answer to a call already answered
            return bool(super().dispatch(msg))

        def drop_all(self, exc: Exception | None = None) -> None:
            self._futures = {serial: f for serial, f in self._futures.items() if not f.done()}
            super().drop_all(exc)

    return FirstReplyMatcher()


class RoutedConnection:
    """A jeepney threading connection behind a router, with the blocking connection's call shape."""

    def __init__(self, conn: Any, router: Any) -> None:
        self.conn = conn
        self.router = router

    def send_and_get_reply(self, msg: Any, timeout: float | None = None) -> Any:
        from jeepney.io.common import RouterClosed

        try:
            return self.router.send_and_get_reply(msg, timeout=timeout)
        except RouterClosed as exc:  # the bus went away under the receiver thread
            raise ConnectionError(str(exc)) from exc
        except KeyError as exc:  # the same, during the call: jeepney's reply table was emptied under it
            raise ConnectionError("the session bus closed ergo's connection during the call") from exc

    def close(self) -> None:
        try:
            self.router.close()
        finally:
            self.conn.close()


class AnswerListener:
    """Opens the notifier's connection (subscribed to the answer signals) and feeds answers to `emit`."""

    name = "answers"

    def __init__(self) -> None:
        self._queue: queue.Queue[Any] = queue.Queue()
        self._emit: Callable[[Answer], None] | None = None
        self._thread: threading.Thread | None = None

    def connect(self) -> RoutedConnection:
        """A new connection for the notifier; raises NotifyError with the reason when there is none."""
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus
        from jeepney.io.threading import DBusRouter, open_dbus_connection

        from ergo.notify.freedesktop import NO_BUS, _bus_address, describe_error

        if not _bus_address():
            raise NotifyError(NO_BUS)
        try:
            conn = open_dbus_connection(bus="SESSION")
        except Exception as exc:
            raise NotifyError(describe_error(exc)) from exc
        _quiet_receiver_deaths()
        router = DBusRouter(conn)
        router._replies = _first_reply_matcher()  # nothing is waiting for a reply yet: safe to swap
        routed = RoutedConnection(conn, router)
        try:
            for member in SIGNALS:
                rule = MatchRule(type="signal", interface=BUS_NAME, member=member, path=OBJECT_PATH)
                router.filter(rule, queue=self._queue)  # type: ignore[arg-type]
                bus_rule = MatchRule(type="signal", sender=BUS_NAME, interface=BUS_NAME, member=member, path=OBJECT_PATH)
                router.send_and_get_reply(message_bus.AddMatch(bus_rule), timeout=5.0)
        except Exception as exc:
            routed.close()
            raise NotifyError(describe_error(exc, timeout=5.0)) from exc
        return routed

    def start(self, emit: Callable[[Answer], None]) -> None:
        """Hand answers to `emit` from now on (from this listener's thread)."""
        if self._thread is not None:
            return
        self._emit = emit
        self._thread = threading.Thread(target=self._run, name="ergo-answers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)

    def _run(self) -> None:
        while True:
            msg = self._queue.get()  # blocks: no polling
            if msg is None:
                return
            answer = to_answer(msg.header.fields, msg.body)
            if answer is None or self._emit is None:
                continue
            try:
                self._emit(answer)
            except Exception:
                log.exception("handling %s failed", answer)


def _quiet_receiver_deaths() -> None:
    """jeepney's receiver thread ends with ConnectionResetError when the bus closes the connection, and
    Python prints that as a traceback: make it one log line (the next send reconnects and says more)."""
    previous = threading.excepthook
    if getattr(previous, "ergo_quiet", False):
        return

    def hook(args: Any) -> None:
        name = getattr(args.thread, "name", "") or ""
        if name.endswith("(_receiver)") and isinstance(args.exc_value, (OSError, EOFError)):
            log.info("the session bus closed a connection of ergo's (%s)", args.exc_value)
            return
        previous(args)

    hook.ergo_quiet = True  # type: ignore[attr-defined]
    threading.excepthook = hook


def to_answer(fields: dict[Any, Any], body: tuple[Any, ...]) -> Answer | None:
    """ActionInvoked(u id, s key) or NotificationClosed(u id, u reason) as an Answer; None for anything else."""
    from jeepney import HeaderFields

    member = fields.get(HeaderFields.member)
    if member == "ActionInvoked" and len(body) == 2:
        return Answer(int(body[0]), action=str(body[1]))
    if member == "NotificationClosed" and len(body) == 2:
        return Answer(int(body[0]), closed=CLOSED_REASONS.get(int(body[1]), "closed"))
    return None
