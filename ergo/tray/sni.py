"""StatusNotifierItem over D-Bus with jeepney: the tray of KDE, waybar, GNOME's AppIndicator extension.

We own `org.kde.StatusNotifierItem-<pid>-1`, serve the item at
/StatusNotifierItem and its menu (com.canonical.dbusmenu) at /MenuBar, and
register with org.kde.StatusNotifierWatcher, again whenever a watcher (re)appears.
One loop on the thread that calls `run()` serves the bus; `show()` from any
thread wakes it through a pipe to emit NewIcon/NewToolTip/NewStatus/LayoutUpdated.
"""

from __future__ import annotations

import logging
import os
import select
from collections.abc import Callable
from typing import Any

from ergo.idle._dbus import BusError, call, close_quietly, connect
from ergo.tray.mailbox import ViewMailbox
from ergo.tray.model import Item, TrayView, pixmap

log = logging.getLogger("ergo.tray")

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
ITEM_INTERFACE = "org.kde.StatusNotifierItem"
ITEM_PATH = "/StatusNotifierItem"
MENU_INTERFACE = "com.canonical.dbusmenu"
MENU_PATH = "/MenuBar"
PROPS = "org.freedesktop.DBus.Properties"
SIZES = (16, 22, 32)
STATUS = {"due-soon": "NeedsAttention", "running": "Active", "held": "Active", "paused": "Active", "stopped": "Active"}

INTROSPECT = f"""<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
 <interface name="{ITEM_INTERFACE}">
  <property name="Category" type="s" access="read"/><property name="Id" type="s" access="read"/>
  <property name="Title" type="s" access="read"/><property name="Status" type="s" access="read"/>
  <property name="WindowId" type="i" access="read"/><property name="IconName" type="s" access="read"/>
  <property name="IconPixmap" type="a(iiay)" access="read"/><property name="ToolTip" type="(sa(iiay)ss)" access="read"/>
  <property name="ItemIsMenu" type="b" access="read"/><property name="Menu" type="o" access="read"/>
  <method name="ContextMenu"><arg name="x" type="i" direction="in"/><arg name="y" type="i" direction="in"/></method>
  <method name="Activate"><arg name="x" type="i" direction="in"/><arg name="y" type="i" direction="in"/></method>
  <method name="SecondaryActivate"><arg name="x" type="i" direction="in"/><arg name="y" type="i" direction="in"/></method>
  <method name="Scroll"><arg name="delta" type="i" direction="in"/><arg name="orientation" type="s" direction="in"/></method>
  <signal name="NewTitle"/><signal name="NewIcon"/><signal name="NewToolTip"/>
  <signal name="NewStatus"><arg name="status" type="s"/></signal>
 </interface>
 <interface name="{MENU_INTERFACE}">
  <property name="Version" type="u" access="read"/><property name="Status" type="s" access="read"/>
  <method name="GetLayout"><arg type="i" direction="in"/><arg type="i" direction="in"/><arg type="as" direction="in"/>
   <arg type="u" direction="out"/><arg type="(ia{{sv}}av)" direction="out"/></method>
  <method name="GetGroupProperties"><arg type="ai" direction="in"/><arg type="as" direction="in"/>
   <arg type="a(ia{{sv}})" direction="out"/></method>
  <method name="Event"><arg type="i" direction="in"/><arg type="s" direction="in"/><arg type="v" direction="in"/>
   <arg type="u" direction="in"/></method>
  <method name="AboutToShow"><arg type="i" direction="in"/><arg type="b" direction="out"/></method>
  <signal name="LayoutUpdated"><arg type="u"/><arg type="i"/></signal>
 </interface>
</node>"""


def probe(bus: str = "SESSION") -> str | None:
    """None when a StatusNotifierWatcher runs on the session bus, else why not."""
    from jeepney.bus_messages import message_bus

    try:
        conn = connect(bus)
    except BusError as error:
        return str(error)
    try:
        (has,) = call(conn, message_bus.NameHasOwner(WATCHER))
        return None if has else f"no {WATCHER} on the session bus (no StatusNotifierItem host runs)"
    except BusError as error:
        return str(error)
    finally:
        close_quietly(conn)


def _menu_props(item: Item) -> dict[str, tuple[str, Any]]:
    if not item.label:
        return {"type": ("s", "separator")}
    return {"label": ("s", item.label.replace("_", "__")), "enabled": ("b", bool(item.enabled and item.action)),
            "visible": ("b", True)}


class StatusNotifierTray:
    """The item, its menu, and registration with the watcher."""

    name = "sni"

    def __init__(self, on_action: Callable[[Item], None], bus: str = "SESSION") -> None:
        from jeepney.bus_messages import MatchRule, message_bus

        self._on_action = on_action
        self.conn = connect(bus)
        self.bus_name = f"org.kde.StatusNotifierItem-{os.getpid()}-1"
        call(self.conn, message_bus.RequestName(self.bus_name, 0x4))  # DO_NOT_QUEUE
        rule = MatchRule(type="signal", sender="org.freedesktop.DBus", interface="org.freedesktop.DBus",
                         member="NameOwnerChanged", path="/org/freedesktop/DBus")
        rule.add_arg_condition(0, WATCHER)
        call(self.conn, message_bus.AddMatch(rule))
        self._view: TrayView | None = None
        self._revision = 1
        self.mailbox = ViewMailbox()
        self._hosts: set[str] = set()
        self.source = f"StatusNotifierItem {self.bus_name} registered with {WATCHER}"

    # --- from other threads ------------------------------------------------------

    def show(self, view: TrayView) -> None:
        self.mailbox.post(view)

    def stop(self) -> None:
        self.mailbox.stop()

    # --- the loop ------------------------------------------------------------------

    def _register(self) -> None:
        from jeepney import new_method_call
        from jeepney.wrappers import DBusAddress

        watcher = DBusAddress(WATCHER_PATH, bus_name=WATCHER, interface=WATCHER)
        self.conn.send(new_method_call(watcher, "RegisterStatusNotifierItem", "s", (self.bus_name,)))
        log.info("registered with %s", WATCHER)

    def run(self) -> None:
        self._register()
        sock = self.conn.sock
        while not self.mailbox.stopped:
            readable, _, _ = select.select([sock, self.mailbox.fileno()], [], [])
            if self.mailbox.fileno() in readable:
                pending = self.mailbox.take()
                if pending is not None:
                    self._update(pending)
            while not self.mailbox.stopped:
                try:
                    message = self.conn.receive(timeout=0)
                except TimeoutError:
                    break
                except (OSError, EOFError, ValueError) as error:
                    log.error("the session bus went away (%s); the tray ends", error)
                    self.mailbox.stopped = True
                    break
                self._dispatch(message)
        close_quietly(self.conn)

    def _signal(self, path: str, interface: str, member: str, signature: str | None = None, body: tuple = ()) -> None:
        from jeepney import new_signal
        from jeepney.wrappers import DBusAddress

        self.conn.send(new_signal(DBusAddress(path, interface=interface), member, signature, body))

    def _update(self, view: TrayView) -> None:
        old, self._view = self._view, view
        self._signal(ITEM_PATH, ITEM_INTERFACE, "NewIcon")
        self._signal(ITEM_PATH, ITEM_INTERFACE, "NewToolTip")
        self._signal(ITEM_PATH, ITEM_INTERFACE, "NewTitle")
        if old is None or STATUS[old.state] != STATUS[view.state]:
            self._signal(ITEM_PATH, ITEM_INTERFACE, "NewStatus", "s", (STATUS[view.state],))
        if old is None or old.items != view.items:
            self._revision += 1
            self._signal(MENU_PATH, MENU_INTERFACE, "LayoutUpdated", "ui", (self._revision, 0))

    # --- answering ---------------------------------------------------------------------

    def _dispatch(self, msg: Any) -> None:
        from jeepney import HeaderFields, MessageType, new_error, new_method_return

        fields = msg.header.fields
        if msg.header.message_type == MessageType.signal:
            if fields.get(HeaderFields.member) == "NameOwnerChanged" and msg.body[0] == WATCHER and msg.body[2]:
                self._register()  # a (new) watcher: the panel restarted
            return
        if msg.header.message_type != MessageType.method_call:
            return
        path, interface, member = fields.get(HeaderFields.path), fields.get(HeaderFields.interface), fields.get(HeaderFields.member)
        sender = str(fields.get(HeaderFields.sender, ""))
        if path == ITEM_PATH and interface == PROPS and sender not in self._hosts:
            self._hosts.add(sender)
            log.info("a tray host (%s) reads the icon", sender)  # the first sign that the icon is on screen
        try:
            signature, body = self._answer(path, interface, member, msg.body)
        except LookupError as error:
            self.conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (str(error),)))
            return
        self.conn.send(new_method_return(msg, signature, body))

    def _item_props(self) -> dict[str, tuple[str, Any]]:
        view = self._view
        state = view.state if view else "stopped"
        colour = view.colour if view else (0x88, 0x88, 0x88)
        ring = state in ("paused", "held", "stopped")
        icons = [(size, size, pixmap(colour, size, ring)) for size in SIZES]
        title = view.window_title if view else "ergo"
        tooltip = view.tooltip if view else ""
        return {
            "Category": ("s", "ApplicationStatus"), "Id": ("s", "ergo"), "Title": ("s", title),
            "Status": ("s", STATUS[state]), "WindowId": ("i", 0), "IconName": ("s", ""),
            "IconPixmap": ("a(iiay)", icons), "AttentionIconPixmap": ("a(iiay)", icons),
            "ToolTip": ("(sa(iiay)ss)", ("", icons, title, tooltip)),
            "ItemIsMenu": ("b", True), "Menu": ("o", MENU_PATH),
        }

    def _layout(self) -> tuple[int, dict[str, tuple[str, Any]], list[tuple[str, Any]]]:
        items = self._view.items if self._view else ()
        children = [("(ia{sv}av)", (index + 1, _menu_props(item), [])) for index, item in enumerate(items)]
        return (0, {"children-display": ("s", "submenu")}, children)

    def _answer(self, path: str, interface: str, member: str, body: tuple) -> tuple[str | None, tuple]:
        if interface == "org.freedesktop.DBus.Introspectable" and member == "Introspect":
            return "s", (INTROSPECT,)
        if interface == "org.freedesktop.DBus.Peer" and member == "Ping":
            return None, ()
        if path == ITEM_PATH:
            props = self._item_props()
            if interface == PROPS and member == "GetAll":
                return "a{sv}", (props,)
            if interface == PROPS and member == "Get":
                if body[1] not in props:
                    raise LookupError(f"no property {body[1]}")
                return "v", (props[body[1]],)
            if member in ("Activate", "SecondaryActivate", "ContextMenu", "Scroll"):
                return None, ()  # the menu (ItemIsMenu) is the whole interface
        if path == MENU_PATH:
            menu_props = {"Version": ("u", 3), "Status": ("s", "normal"), "TextDirection": ("s", "ltr"),
                          "IconThemePath": ("as", [])}
            if interface == PROPS and member == "GetAll":
                return "a{sv}", (menu_props,)
            if interface == PROPS and member == "Get":
                return "v", (menu_props[body[1]],)
            if member == "GetLayout":
                return "u(ia{sv}av)", (self._revision, self._layout())
            if member == "GetGroupProperties":
                items = self._view.items if self._view else ()
                wanted = body[0] or list(range(1, len(items) + 1))
                return "a(ia{sv})", ([(i, _menu_props(items[i - 1])) for i in wanted if 0 < i <= len(items)],)
            if member == "AboutToShow":
                return "b", (False,)
            if member == "AboutToShowGroup":
                return "aiai", ([], [])
            if member == "Event":
                self._event(body[0], body[1])
                return None, ()
            if member == "EventGroup":
                for item_id, event_id, _data, _time in body[0]:
                    self._event(item_id, event_id)
                return "ai", ([],)
        raise LookupError(f"{interface}.{member} on {path}")

    def _event(self, item_id: int, event_id: str) -> None:
        items = self._view.items if self._view else ()
        if event_id == "clicked" and 0 < item_id <= len(items):
            item = items[item_id - 1]
            if item.action is not None and item.enabled:
                self._on_action(item)
