"""Suspend and resume from systemd-logind: PrepareForSleep(b) on the system bus.

True arrives just before sleep (suspend), False after waking (resume). No
inhibitor lock is taken, so on a fast suspend both may arrive after the wake.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ergo.idle._dbus import BusError, call
from ergo.session._bus_watcher import BusSignalWatcher
from ergo.session.events import SessionEvent

if TYPE_CHECKING:
    from jeepney import MatchRule, Message
    from jeepney.io.blocking import DBusConnection

LOGIN1 = "org.freedesktop.login1"
PATH = "/org/freedesktop/login1"
INTERFACE = "org.freedesktop.login1.Manager"


class LogindWatcher(BusSignalWatcher):
    """Emits suspend/resume; ``bus`` is SYSTEM or, for tests, a private bus address."""

    name = "logind"

    def __init__(self, bus: str = "SYSTEM") -> None:
        super().__init__(bus)

    def rules(self) -> list[tuple[MatchRule, MatchRule]]:
        """Only logind itself may tell us the machine sleeps."""
        from jeepney import MatchRule

        fields = {"type": "signal", "interface": INTERFACE, "member": "PrepareForSleep", "path": PATH}
        return [(MatchRule(sender=LOGIN1, **fields), MatchRule(**fields))]

    def on_start(self, conn: DBusConnection) -> Iterable[SessionEvent]:
        """Note in the description whether logind is running now (it may start later)."""
        from jeepney import message_bus

        try:
            (present,) = call(conn, message_bus.NameHasOwner(LOGIN1))
        except BusError:
            present = False
        note = "" if present else f" ({LOGIN1} is not running yet)"
        self.description = f"logind: suspend/resume from PrepareForSleep on the {self.where}{note}"
        return ()

    def on_signal(self, conn: DBusConnection, msg: Message) -> Iterable[SessionEvent]:
        """PrepareForSleep(True) -> suspend, (False) -> resume."""
        if msg.body and isinstance(msg.body[0], bool):
            yield SessionEvent("suspend" if msg.body[0] else "resume", "logind")
