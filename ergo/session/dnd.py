"""Do-not-disturb: ergo holds reminders while the person silenced notifications.

Three sources, any one 'on' means DND: the notification server's ``Inhibited``
property (KDE), dunst's ``paused`` (org.dunstproject.cmd0; dunst 1.9 sends
PropertiesChanged for it, so no polling), and GNOME's ``show-banners`` setting
(no signal without GLib, so polled every few seconds when its schema exists).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ergo.idle._dbus import BusError, close_quietly, connect, get_property
from ergo.session._bus_watcher import BusSignalWatcher
from ergo.session.events import SessionEvent

if TYPE_CHECKING:
    from jeepney import MatchRule, Message
    from jeepney.io.blocking import DBusConnection

NOTIFICATIONS = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
DUNST = "org.dunstproject.cmd0"
GNOME_KEY = ("org.gnome.desktop.notifications", "show-banners")
POLL_INTERVAL = 5.0  # seconds between gsettings reads

# Component names, also used as SessionEvent.source.
SRC_INHIBITED, SRC_DUNST, SRC_GNOME = NOTIFICATIONS, "dunst", "gnome"


def read_inhibited(conn: DBusConnection) -> bool | None:
    """The notification server's Inhibited property; None if it has none or no server runs."""
    try:
        value = get_property(conn, PATH, NOTIFICATIONS, NOTIFICATIONS, "Inhibited")
    except BusError:
        return None
    return value if isinstance(value, bool) else None


def read_dunst_paused(conn: DBusConnection) -> bool | None:
    """dunst's paused property; None if the server is not dunst (>= 1.5) or absent."""
    try:
        value = get_property(conn, PATH, NOTIFICATIONS, DUNST, "paused")
    except BusError:
        return None
    return value if isinstance(value, bool) else None


def read_gnome_dnd(gsettings: str | None = "gsettings") -> bool | None:
    """show-banners == false means DND; None without gsettings or the GNOME schema."""
    exe = shutil.which(gsettings) if gsettings else None
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "get", *GNOME_KEY], capture_output=True, text=True,
                             timeout=2, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"false": True, "true": False}.get(out)


def combine(states: Iterable[bool | None]) -> bool | None:
    """Any source on -> True; else any source known -> False; else None (unknown)."""
    known = [s for s in states if s is not None]
    return any(known) if known else None


def is_dnd_active(bus: str = "SESSION", gsettings: str | None = "gsettings") -> bool | None:
    """One-off check of every source; None when none of them can be read. Any thread."""
    states: list[bool | None] = [read_gnome_dnd(gsettings)]
    try:
        conn = connect(bus)
    except BusError:
        return combine(states)
    try:
        states += [read_inhibited(conn), read_dunst_paused(conn)]
    finally:
        close_quietly(conn)
    return combine(states)


class DndWatcher(BusSignalWatcher):
    """Emits dnd_on/dnd_off when the combined state flips (dnd_on at start if already on)."""

    name = "dnd"

    def __init__(self, bus: str = "SESSION", gsettings: str | None = "gsettings",
                 poll_interval: float = POLL_INTERVAL) -> None:
        super().__init__(bus)
        self._gsettings = gsettings
        self._poll_interval = poll_interval
        self._states: dict[str, bool | None] = {SRC_INHIBITED: None, SRC_DUNST: None, SRC_GNOME: None}
        self._active = False  # what the daemon was last told; it assumes 'off' before start

    def rules(self) -> list[tuple[MatchRule, MatchRule]]:
        """Property changes on the notification object, and the server (re)starting."""
        from jeepney import MatchRule

        props = MatchRule(type="signal", interface="org.freedesktop.DBus.Properties",
                          member="PropertiesChanged", path=PATH)
        owner = MatchRule(type="signal", sender="org.freedesktop.DBus", interface="org.freedesktop.DBus",
                          member="NameOwnerChanged", path="/org/freedesktop/DBus")
        owner.add_arg_condition(0, NOTIFICATIONS)
        return [(props, props), (owner, owner)]

    def on_start(self, conn: DBusConnection) -> Iterable[SessionEvent]:
        """Read every source once; poll gsettings only if it answered."""
        self._states[SRC_INHIBITED] = read_inhibited(conn)
        self._states[SRC_DUNST] = read_dunst_paused(conn)
        self._states[SRC_GNOME] = read_gnome_dnd(self._gsettings)
        polled = self._states[SRC_GNOME] is not None
        self.tick_interval = self._poll_interval if polled else None
        gnome = f"; gsettings polled every {self._poll_interval:g} s" if polled else ""
        self.description = (f"dnd: Inhibited and dunst paused via PropertiesChanged on the "
                            f"{self.where}{gnome}")
        return self._flip(_first_on(self._states))

    def on_signal(self, conn: DBusConnection, msg: Message) -> Iterable[SessionEvent]:
        """Update the component the signal is about, then report a flip of the whole."""
        if msg.header.fields.get(_member_field()) == "NameOwnerChanged":
            _, _, new_owner = msg.body
            self._states[SRC_INHIBITED] = read_inhibited(conn) if new_owner else None
            self._states[SRC_DUNST] = read_dunst_paused(conn) if new_owner else None
            return self._flip(NOTIFICATIONS)
        interface, changed, invalidated = msg.body
        if interface == DUNST and ("paused" in changed or "paused" in invalidated):
            self._states[SRC_DUNST] = (changed["paused"][1] if "paused" in changed
                                       else read_dunst_paused(conn))
            return self._flip(SRC_DUNST)
        if interface == NOTIFICATIONS and ("Inhibited" in changed or "Inhibited" in invalidated):
            self._states[SRC_INHIBITED] = (changed["Inhibited"][1] if "Inhibited" in changed
                                           else read_inhibited(conn))
            return self._flip(SRC_INHIBITED)
        return ()

    def on_tick(self, conn: DBusConnection) -> Iterable[SessionEvent]:
        """Poll GNOME's setting (it has no signal we can get without GLib)."""
        self._states[SRC_GNOME] = read_gnome_dnd(self._gsettings)
        return self._flip(SRC_GNOME)

    def _flip(self, source: str | None) -> list[SessionEvent]:
        """One event if the combined state differs from what the daemon was last told."""
        active = bool(combine(self._states.values()))
        if active == self._active or source is None:
            return []
        self._active = active
        return [SessionEvent("dnd_on" if active else "dnd_off", source)]


def _first_on(states: dict[str, bool | None]) -> str | None:
    """The first source that reports DND on, to name it in the initial event."""
    return next((name for name, on in states.items() if on), None)


def _member_field() -> object:
    """jeepney's header key for a message's member (imported lazily)."""
    from jeepney import HeaderFields

    return HeaderFields.member
