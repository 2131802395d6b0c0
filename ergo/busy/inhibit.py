"""The desktop inhibits idle: what video players, browsers in full screen and presentation tools ask for.
Used where the desktop offers no view of window states (GNOME and KDE on Wayland).

- GNOME: org.gnome.SessionManager.IsInhibited(8) (8: idle) on the session bus;
- KDE and others: org.freedesktop.PowerManagement.Inhibit.HasInhibit().
"""

from __future__ import annotations

from datetime import datetime

from ergo.busy.base import Busy, PolledSource
from ergo.errors import BackendUnavailable
from ergo.idle._dbus import BusError, call, close_quietly, connect, method

GNOME = ("org.gnome.SessionManager", "/org/gnome/SessionManager", "org.gnome.SessionManager", "IsInhibited")
KDE = ("org.freedesktop.PowerManagement", "/org/freedesktop/PowerManagement/Inhibit",
       "org.freedesktop.PowerManagement.Inhibit", "HasInhibit")
IDLE_FLAG = 8


def _ask(which: tuple[str, str, str, str], bus: str) -> bool:
    name, path, interface, member = which
    conn = connect(bus)
    try:
        if which is GNOME:
            (answer,) = call(conn, method(path, name, interface, member, "u", (IDLE_FLAG,)))
        else:
            (answer,) = call(conn, method(path, name, interface, member))
        return bool(answer)
    finally:
        close_quietly(conn)


class IdleInhibitors(PolledSource):
    name = "fullscreen (idle inhibitors)"

    def __init__(self, bus: str = "SESSION") -> None:
        self.bus = bus
        reasons = []
        for which in (GNOME, KDE):
            try:
                _ask(which, bus)
            except BusError as error:
                reasons.append(f"{which[0]}: {error}")
                continue
            self.which, self.desktop = which, ("GNOME" if which is GNOME else "KDE")
            return
        raise BackendUnavailable("; ".join(reasons) or "no session manager answers")

    def check(self, now: datetime) -> Busy | None:
        try:
            inhibited = _ask(self.which, self.bus)
        except BusError:
            return None
        return Busy(f"presenting or watching (an application asks {self.desktop} to stay awake)") if inhibited else None
