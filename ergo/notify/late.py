"""A desktop that comes up after ergo: in `auto` mode, switch from the console to a notification
server as soon as one answers, and keep `ergo status` naming the server that is there now.

A systemd user service or a login script often starts ergo before the notification server owns
org.freedesktop.Notifications, or before the session bus address is even known. So, in auto mode:
- where a session bus exists, a watcher follows NameOwnerChanged for the server's name: ergo
  switches the moment a server appears, and re-reads the server's name when another one takes over;
- before each delivery on the console, a cheap re-probe (one NameHasOwner call);
- with DBUS_SESSION_BUS_ADDRESS unset, the systemd user bus ($XDG_RUNTIME_DIR/bus) is looked for
  at each of those moments, since `systemctl --user import-environment` reaches only new processes.
Each switch is logged once.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ergo.errors import BackendUnavailable, NotifyError
from ergo.session._bus_watcher import BusSignalWatcher

if TYPE_CHECKING:
    from jeepney import MatchRule, Message
    from jeepney.io.blocking import DBusConnection

    from ergo.notify.select import FallbackNotifier

log = logging.getLogger("ergo")
BUS_NAME = "org.freedesktop.Notifications"


def session_bus_address() -> str | None:
    """DBUS_SESSION_BUS_ADDRESS, else the systemd user bus socket if one has appeared."""
    known = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if known:
        return known
    runtime = os.environ.get("XDG_RUNTIME_DIR") or (f"/run/user/{os.getuid()}" if hasattr(os, "getuid") else "")
    path = os.path.join(runtime, "bus") if runtime else ""
    try:
        if path and stat.S_ISSOCK(os.stat(path).st_mode):
            return f"unix:path={path}"
    except OSError:
        pass
    return None


class ServerWatcher(BusSignalWatcher):
    """Follows who owns org.freedesktop.Notifications (NameOwnerChanged); reconnects like every watcher."""

    name = "notification server"

    def __init__(self) -> None:
        super().__init__("SESSION")

    def rules(self) -> list[tuple[MatchRule, MatchRule]]:
        from jeepney import MatchRule

        rule = MatchRule(type="signal", sender="org.freedesktop.DBus", interface="org.freedesktop.DBus",
                         member="NameOwnerChanged", path="/org/freedesktop/DBus")
        rule.add_arg_condition(0, BUS_NAME)
        local = MatchRule(type="signal", interface="org.freedesktop.DBus", member="NameOwnerChanged")
        local.add_arg_condition(0, BUS_NAME)
        return [(rule, local)]

    def on_start(self, conn: DBusConnection) -> Iterable[Any]:
        self.description = f"{self.name}: NameOwnerChanged on the session bus"
        return [("check", "watching")]  # after a (re)connect the server may have come up meanwhile

    def on_signal(self, conn: DBusConnection, msg: Message) -> Iterable[Any]:
        _name, _old, new = msg.body
        return [("appeared" if new else "gone", new)]


class LateDesktop:
    """Keeps a FallbackNotifier on the best backend available now (auto mode only)."""

    def __init__(self, notifier: FallbackNotifier) -> None:
        self.notifier = notifier
        self._lock = threading.Lock()
        self._watcher: ServerWatcher | None = None
        self._stopped = False
        self.on_answers: Callable[[Any], None] | None = None  # hands a new answers listener to the daemon
        notifier.before_send = self.before_send

    def start(self) -> None:
        """Watch the server's name where a session bus is known (else the first re-probe that finds one does)."""
        if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            self._start_watcher()

    def stop(self) -> None:
        self._stopped = True
        if self._watcher is not None:
            self._watcher.stop()

    def before_send(self) -> None:
        """The cheap re-probe before a delivery, while reminders go to the console."""
        if self.notifier.name == "console":
            self.check("re-probed before a delivery")

    def check(self, why: str) -> None:
        """Switch to freedesktop if a server answers now; on freedesktop, re-read which server it is."""
        with self._lock:
            if self._stopped:
                return
            address = session_bus_address()
            if address is None:
                return
            if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
                os.environ["DBUS_SESSION_BUS_ADDRESS"] = address  # every D-Bus part of ergo uses it from now on
                log.info("session bus found at %s (it was not known when ergo started)", address)
            if self._watcher is None:
                self._start_watcher()
            if self.notifier.name not in ("console", "freedesktop"):
                return  # plyer chose its own route; nothing to switch or rename
            from ergo.notify import freedesktop

            if freedesktop.probe() is not None:
                return
            try:
                info = freedesktop.server_info()
            except NotifyError:
                return
            reason = f"freedesktop: {info.describe()} on the session bus"
            if self.notifier.name == "console":
                from ergo.notify.answers import AnswerListener

                listener = AnswerListener() if self.on_answers is not None else None
                self.notifier.replace(freedesktop.FreedesktopNotifier(answers=listener), reason)
                log.info("notifications: switched from the console to %s (%s)", reason, why)
                if listener is not None and self.on_answers is not None:
                    self.on_answers(listener)  # buttons work on a server that came late too
            elif reason != self.notifier.reason:
                self.notifier.reason = reason
                log.info("notifications: the server is now %s", info.describe())

    def _on_event(self, event: Any) -> None:
        what, owner = event
        if what == "gone":
            if self.notifier.name == "freedesktop":
                self.notifier.reason = "freedesktop: no notification server right now (reminders go to the console)"
            return
        self.check("a notification server appeared on the bus" if what == "appeared" else "watching the bus")

    def _start_watcher(self) -> None:
        watcher = ServerWatcher()
        try:
            watcher.start(self._on_event)
        except BackendUnavailable as error:
            log.info("not watching for a notification server: %s", error)
            return
        self._watcher = watcher
