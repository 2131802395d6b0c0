"""Screen lock and unlock from the ActiveChanged(b) signal of the session's screensaver.

Listens to both org.freedesktop.ScreenSaver (KDE and others, sent on two
paths) and org.gnome.ScreenSaver; repeated states are emitted once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ergo.session._bus_watcher import BusSignalWatcher
from ergo.session.events import SessionEvent

if TYPE_CHECKING:
    from jeepney import MatchRule, Message
    from jeepney.io.blocking import DBusConnection

INTERFACES = ("org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver")


class LockWatcher(BusSignalWatcher):
    """Emits lock/unlock on changes; the state before the first signal is unknown."""

    name = "lock"

    def __init__(self, bus: str = "SESSION") -> None:
        super().__init__(bus)
        self._locked: bool | None = None  # touched only by the watcher thread after start()

    def rules(self) -> list[tuple[MatchRule, MatchRule]]:
        """ActiveChanged from either screensaver interface, on any path."""
        from jeepney import MatchRule

        pairs = []
        for interface in INTERFACES:
            rule = MatchRule(type="signal", interface=interface, member="ActiveChanged")
            pairs.append((rule, rule))
        return pairs

    def on_start(self, conn: DBusConnection) -> Iterable[SessionEvent]:
        """Describe what is listened to; nothing to read (GetActive means 'blanked' on some)."""
        self.description = f"lock: ActiveChanged of {' and '.join(INTERFACES)} on the {self.where}"
        return ()

    def on_signal(self, conn: DBusConnection, msg: Message) -> Iterable[SessionEvent]:
        """True -> lock, False -> unlock, once per change."""
        if not msg.body or not isinstance(msg.body[0], bool) or msg.body[0] == self._locked:
            return
        self._locked = msg.body[0]
        source = str(msg.header.fields.get(_interface_field(), "screensaver"))
        yield SessionEvent("lock" if self._locked else "unlock", source)


def _interface_field() -> object:
    """jeepney's header key for a message's interface (imported lazily)."""
    from jeepney import HeaderFields

    return HeaderFields.interface
