"""Do-not-disturb: ergo holds reminders while the person silenced notifications.

Three sources, any one 'on' means DND: the notification server's ``Inhibited``
property (KDE), dunst's ``paused`` (org.dunstproject.cmd0; dunst 1.9 sends
PropertiesChanged for it, so no polling), and GNOME's ``show-banners`` setting.

GNOME's setting is read with ``gsettings`` only in a GNOME session
(XDG_CURRENT_DESKTOP names GNOME, e.g. ``GNOME`` or ``ubuntu:GNOME``): a GNOME
schema installed on another desktop says nothing about that desktop's
notifications, and running gsettings there only costs processes. It is read
once at start, and then again only when dconf says the setting changed: the
dconf service (``ca.desrt.dconf``), through which every GSettings write of the
session goes, emits ``Notify(s prefix, as paths, s tag)`` on
``/ca/desrt/dconf/Writer/user`` (interface ``ca.desrt.dconf.Writer``) after each
change. The bus rule carries ``arg0path='/org/gnome/desktop/notifications/'``, so
the bus only wakes the watcher for writes that may touch that directory (a key
in it or one of its parent directories); the watcher re-reads show-banners once
per such signal. No GLib is needed, and an unchanged setting costs nothing.

This was chosen over polling: polling every 5 s cost 720 gsettings processes
(2-3.6 CPU-seconds) per hour. Polling remains only as a fallback, every
GNOME_POLL_INTERVAL (60 s) and only in a GNOME session, when the session bus
has no dconf service (neither running nor activatable) or GSETTINGS_BACKEND
names another backend: then no change signal would come.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ergo.idle._dbus import BusError, call, close_quietly, connect, get_property
from ergo.session._bus_watcher import BusSignalWatcher
from ergo.session.events import SessionEvent

if TYPE_CHECKING:
    from jeepney import MatchRule, Message
    from jeepney.io.blocking import DBusConnection

NOTIFICATIONS = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
DUNST = "org.dunstproject.cmd0"
GNOME_KEY = ("org.gnome.desktop.notifications", "show-banners")
GNOME_DIR = "/org/gnome/desktop/notifications/"  # where GNOME_KEY lives in dconf
DCONF = "ca.desrt.dconf"
DCONF_PATH = "/ca/desrt/dconf/Writer/user"
DCONF_INTERFACE = "ca.desrt.dconf.Writer"
GNOME_POLL_INTERVAL = 60.0  # seconds between gsettings reads, only when dconf cannot signal changes

# Component names, also used as SessionEvent.source.
SRC_INHIBITED, SRC_DUNST, SRC_GNOME = NOTIFICATIONS, "dunst", "gnome"


def in_gnome_session(environ: dict[str, str] | None = None) -> bool:
    """True when XDG_CURRENT_DESKTOP names GNOME (case-insensitive; it may be a list like ubuntu:GNOME)."""
    desktop = (os.environ if environ is None else environ).get("XDG_CURRENT_DESKTOP", "")
    return "gnome" in desktop.lower()


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
    """show-banners == false means DND; None without gsettings or the GNOME schema.

    Runs gsettings whatever the session: callers decide whether to ask (see in_gnome_session).
    """
    exe = shutil.which(gsettings) if gsettings else None
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "get", *GNOME_KEY], capture_output=True, text=True,
                             timeout=2, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"false": True, "true": False}.get(out)


def dconf_notify_concerns_gnome_key(prefix: object, paths: object) -> bool:
    """Whether a dconf Notify(prefix, paths, tag) may have changed show-banners.

    Each changed path is prefix + one of paths (paths may be empty or [""]: the
    prefix alone). A key or directory inside GNOME_DIR concerns it, and so does
    a directory above it (a recursive reset of /org/gnome/, say).
    """
    if not isinstance(prefix, str):
        return False
    relative = [p for p in paths if isinstance(p, str)] if isinstance(paths, list | tuple) else []
    for changed in (prefix + p for p in relative or [""]):
        if changed.startswith(GNOME_DIR) or (changed.endswith("/") and GNOME_DIR.startswith(changed)):
            return True
    return False


def dconf_can_signal(conn: DBusConnection) -> bool:
    """True when GSettings writes go through a dconf service on this bus (running or activatable)."""
    from jeepney import message_bus

    if os.environ.get("GSETTINGS_BACKEND", "dconf") != "dconf":
        return False
    try:
        (running,) = call(conn, message_bus.NameHasOwner(DCONF))
        if running:
            return True
        (names,) = call(conn, message_bus.ListActivatableNames())
    except BusError:
        return False
    return DCONF in names


def combine(states: Iterable[bool | None]) -> bool | None:
    """Any source on -> True; else any source known -> False; else None (unknown)."""
    known = [s for s in states if s is not None]
    return any(known) if known else None


def is_dnd_active(bus: str = "SESSION", gsettings: str | None = "gsettings",
                  gnome: bool | None = None) -> bool | None:
    """One-off check of every source; None when none of them can be read. Any thread.

    gsettings runs only in a GNOME session (``gnome=None``: decided from
    XDG_CURRENT_DESKTOP; True/False forces it).
    """
    gnome = in_gnome_session() if gnome is None else gnome
    states: list[bool | None] = [read_gnome_dnd(gsettings) if gnome else None]
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
    """Emits dnd_on/dnd_off when the combined state flips (dnd_on at start if already on).

    ``gnome``: read GNOME's show-banners (None = only when XDG_CURRENT_DESKTOP
    names GNOME). ``poll_interval``: seconds between gsettings reads when dconf
    cannot signal changes (GNOME sessions only).
    """

    name = "dnd"

    def __init__(self, bus: str = "SESSION", gsettings: str | None = "gsettings",
                 gnome: bool | None = None, poll_interval: float = GNOME_POLL_INTERVAL) -> None:
        super().__init__(bus)
        self._gsettings = gsettings
        self._gnome = in_gnome_session() if gnome is None else gnome
        self._poll_interval = poll_interval
        self._states: dict[str, bool | None] = {SRC_INHIBITED: None, SRC_DUNST: None, SRC_GNOME: None}
        self._active = False  # what the daemon was last told; it assumes 'off' before start

    def rules(self) -> list[tuple[MatchRule, MatchRule]]:
        """Property changes on the notification object, the server (re)starting, and, in a
        GNOME session, dconf's change signal for paths that may hold show-banners."""
        from jeepney import MatchRule

        props = MatchRule(type="signal", interface="org.freedesktop.DBus.Properties",
                          member="PropertiesChanged", path=PATH)
        owner = MatchRule(type="signal", sender="org.freedesktop.DBus", interface="org.freedesktop.DBus",
                          member="NameOwnerChanged", path="/org/freedesktop/DBus")
        owner.add_arg_condition(0, NOTIFICATIONS)
        pairs = [(props, props), (owner, owner)]
        if self._gnome:
            fields = {"type": "signal", "interface": DCONF_INTERFACE, "member": "Notify", "path": DCONF_PATH}
            on_bus, local = MatchRule(sender=DCONF, **fields), MatchRule(**fields)
            on_bus.add_arg_condition(0, GNOME_DIR, kind="path")  # the bus drops unrelated writes
            pairs.append((on_bus, local))
        return pairs

    def on_start(self, conn: DBusConnection) -> Iterable[SessionEvent]:
        """Read every source once; in GNOME, choose dconf's signal or (without dconf) polling."""
        self._states[SRC_INHIBITED] = read_inhibited(conn)
        self._states[SRC_DUNST] = read_dunst_paused(conn)
        self._states[SRC_GNOME] = read_gnome_dnd(self._gsettings) if self._gnome else None
        self.tick_interval = None
        gnome = ""
        if self._gnome and self._states[SRC_GNOME] is None:
            gnome = "; GNOME show-banners unreadable now (no gsettings or schema), re-read on dconf's Notify"
        elif self._gnome and dconf_can_signal(conn):
            gnome = "; GNOME show-banners re-read on dconf's Notify"
        elif self._gnome:
            self.tick_interval = self._poll_interval
            gnome = f"; GNOME show-banners polled every {self._poll_interval:g} s (no dconf service)"
        self.description = (f"dnd: Inhibited and dunst paused via PropertiesChanged on the "
                            f"{self.where}{gnome}")
        return self._flip(_first_on(self._states))

    def on_signal(self, conn: DBusConnection, msg: Message) -> Iterable[SessionEvent]:
        """Update the component the signal is about, then report a flip of the whole."""
        member = msg.header.fields.get(_member_field())
        if member == "Notify":
            if not self._gnome or len(msg.body) < 2 or not dconf_notify_concerns_gnome_key(*msg.body[:2]):
                return ()
            return self._reread_gnome()
        if member == "NameOwnerChanged":
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
        """Fallback polling of GNOME's setting (only set up when dconf cannot signal)."""
        return self._reread_gnome()

    def _reread_gnome(self) -> list[SessionEvent]:
        """Read show-banners once (one gsettings process) and report a flip."""
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
