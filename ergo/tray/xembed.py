"""The X11 system tray (freedesktop System Tray Protocol + XEmbed) with python-xlib.

A small window asks the `_NET_SYSTEM_TRAY_S<n>` selection owner to dock it
(SYSTEM_TRAY_REQUEST_DOCK); the panel reparents it. The icon is a disc drawn
with core X requests on the panel's own background (ParentRelative); hovering
shows the tooltip, a click opens a popup menu (an override-redirect window drawn
with a core font: 9x15, else "fixed") in the colours of ergo.tray.theme, read
again each time one opens. If the panel restarts, its MANAGER announcement on the root
window makes us dock again.
All X calls happen on the thread that runs `run()`; `show()` only wakes it.
"""

from __future__ import annotations

import logging
import os
import select
from collections.abc import Callable

from Xlib import X, Xutil, display
from Xlib.error import XError
from Xlib.protocol import event

from ergo.tray.mailbox import ViewMailbox
from ergo.tray.model import Item, TrayView
from ergo.tray.theme import DEFAULT, RGB, Theme, pick

log = logging.getLogger("ergo.tray")
SIZE = 22
ROW = 18
FONTS = ("9x15", "fixed")  # core fonts, the first the X server has; both fit a ROW
REQUEST_DOCK = 0


def probe() -> str | None:
    """None if an X display with a system tray is reachable, else why not."""
    if not os.environ.get("DISPLAY"):
        return "DISPLAY is not set"
    try:
        d = display.Display()
    except Exception as error:  # python-xlib raises several kinds on connect
        return f"cannot open display {os.environ['DISPLAY']}: {error}"
    try:
        owner = d.get_selection_owner(d.intern_atom(f"_NET_SYSTEM_TRAY_S{d.get_default_screen()}"))
        return None if owner != X.NONE else f"no system tray on {os.environ['DISPLAY']} (no _NET_SYSTEM_TRAY owner)"
    finally:
        d.close()


class XEmbedTray:
    """One docked icon window plus its popup menu and tooltip windows."""

    name = "xembed"

    def __init__(self, on_action: Callable[[Item], None]) -> None:
        self._on_action = on_action
        self.d = display.Display()
        self.screen = self.d.screen()
        self.root = self.screen.root
        self._tray_atom = self.d.intern_atom(f"_NET_SYSTEM_TRAY_S{self.d.get_default_screen()}")
        self._opcode = self.d.intern_atom("_NET_SYSTEM_TRAY_OPCODE")
        self._manager = self.d.intern_atom("MANAGER")
        xembed_info = self.d.intern_atom("_XEMBED_INFO")
        self.win = self.root.create_window(
            0, 0, SIZE, SIZE, 0, self.screen.root_depth, X.InputOutput, X.CopyFromParent,
            background_pixmap=X.ParentRelative,  # the panel's background shows around the disc
            event_mask=X.ExposureMask | X.ButtonPressMask | X.StructureNotifyMask | X.EnterWindowMask | X.LeaveWindowMask,
        )
        self.win.set_wm_name("ergo")
        self.win.set_wm_class("ergo", "ergo")
        # trayer and friends size the slot from these hints (without them the icon gets 1 pixel)
        self.win.set_wm_normal_hints(flags=Xutil.PMinSize | Xutil.PBaseSize | Xutil.PSize, min_width=SIZE,
                                     min_height=SIZE, base_width=SIZE, base_height=SIZE, width=SIZE, height=SIZE)
        self.win.change_property(xembed_info, xembed_info, 32, [0, 1])  # XEmbed version 0, XEMBED_MAPPED
        self.root.change_attributes(event_mask=X.StructureNotifyMask)  # hear a new tray's MANAGER message
        self._colormap = self.screen.default_colormap
        self._pixels: dict[RGB, int] = {}
        self._tray_colors = self.d.intern_atom("_NET_SYSTEM_TRAY_COLORS")
        self._resources = self.d.intern_atom("RESOURCE_MANAGER")
        self.theme: Theme = DEFAULT
        self._gc = self.win.create_gc(foreground=self.screen.black_pixel, background=self.screen.white_pixel)
        self._font, self._char_width = self._open_font()
        self._menu = None
        self._menu_items: tuple[Item, ...] = ()
        self._tip = None
        self._view: TrayView | None = None
        self.mailbox = ViewMailbox()
        self.docked_to: int | None = None
        self.source = f"XEmbed system tray on {os.environ.get('DISPLAY', '?')}"

    # --- from other threads ------------------------------------------------------

    def show(self, view: TrayView) -> None:
        """Any thread: the next loop turn draws `view`."""
        self.mailbox.post(view)

    def stop(self) -> None:
        self.mailbox.stop()

    # --- the loop ------------------------------------------------------------------

    def dock(self) -> bool:
        owner = self.d.get_selection_owner(self._tray_atom)
        if owner == X.NONE:
            log.info("no system tray yet; waiting for one to appear")
            return False
        message = event.ClientMessage(window=owner, client_type=self._opcode,
                                      data=(32, [X.CurrentTime, REQUEST_DOCK, self.win.id, 0, 0]))
        owner.send_event(message, event_mask=X.NoEventMask)
        self.d.flush()
        self.docked_to = owner.id
        log.info("asked the system tray (window 0x%x) to dock the icon", owner.id)
        return True

    def run(self) -> None:
        """Serve X events and wake-ups until stop() or "Quit tray"."""
        self.dock()
        xfd = self.d.fileno()
        while not self.mailbox.stopped:
            if not self.d.pending_events():
                readable, _, _ = select.select([xfd, self.mailbox.fileno()], [], [])
                if self.mailbox.fileno() in readable:
                    pending = self.mailbox.take()
                    if pending is not None:
                        self._view = pending
                        self._redraw()
                        self.d.flush()
            while self.d.pending_events() and not self.mailbox.stopped:
                self._handle(self.d.next_event())
        try:
            self.win.destroy()
            self.d.close()
        except XError:
            pass

    def _handle(self, ev: object) -> None:
        kind = getattr(ev, "type", None)
        if kind == X.Expose and getattr(ev, "count", 0) == 0:
            if ev.window == self.win:
                self._draw_icon()
            elif self._menu is not None and ev.window == self._menu:
                self._draw_menu()
            elif self._tip is not None and ev.window == self._tip:
                self._draw_tip()
        elif kind == X.ButtonPress:
            self._click(ev)
        elif kind == X.EnterNotify and ev.window == self.win and self._menu is None:
            self._open_tip(ev.root_x, ev.root_y)
        elif kind == X.LeaveNotify and ev.window == self.win:
            self._close_tip()
        elif kind == X.ClientMessage and ev.client_type == self._manager:
            if ev.data[1][1] == self._tray_atom:  # a (new) tray took the selection
                self.dock()
        elif kind == X.ReparentNotify and ev.window == self.win:
            log.info("icon window reparented into 0x%x", ev.parent.id)
        self.d.flush()

    # --- drawing -------------------------------------------------------------------

    def _pixel(self, rgb: RGB) -> int:
        if rgb not in self._pixels:
            r, g, b = rgb
            self._pixels[rgb] = self._colormap.alloc_color(r * 257, g * 257, b * 257).pixel
        return self._pixels[rgb]

    def _open_font(self) -> tuple[object, int]:
        """9x15 (xfonts-base, on nearly every X desktop) reads better than the server's built-in 6x13 "fixed"."""
        name = next((name for name in FONTS if self.d.list_fonts(name, 1)), "fixed")
        font = self.d.open_font(name)
        return font, int(font.query().max_bounds.character_width) or 6

    def _read_theme(self) -> Theme:
        """The tray host's colours, else the desktop's X resources, else the light default (ergo.tray.theme)."""
        tray_colors = resources = None
        try:
            owner = self.d.get_selection_owner(self._tray_atom)
            if owner != X.NONE:
                prop = owner.get_full_property(self._tray_colors, X.AnyPropertyType)
                tray_colors = list(prop.value) if prop is not None else None
            prop = self.root.get_full_property(self._resources, X.AnyPropertyType)
            if prop is not None:
                value = prop.value
                resources = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        except XError:
            pass
        theme = pick(tray_colors, resources)
        if theme != self.theme:
            log.info("menu and tooltip colours: %s", theme.source)
        self.theme = theme
        return theme

    def _redraw(self) -> None:
        if self._view is None:
            return
        self.win.set_wm_name(self._view.window_title)
        self._draw_icon()
        if self._tip is not None:
            self._draw_tip()
        if self._menu is not None and self._menu_items != self._view.items:
            self._close_menu()

    def _draw_icon(self) -> None:
        geometry = self.win.get_geometry()
        w, h = geometry.width, geometry.height
        self.win.clear_area(0, 0, w, h)
        if self._view is None:
            return
        side = max(4, min(w, h) - 4)
        x, y = (w - side) // 2, (h - side) // 2
        self._gc.change(foreground=self._pixel(self._view.colour), line_width=max(2, side // 6))
        if self._view.state in ("paused", "held", "stopped"):  # a ring: nothing will pop up
            self.win.arc(self._gc, x + 1, y + 1, side - 2, side - 2, 0, 360 * 64)
        else:
            self.win.fill_arc(self._gc, x, y, side, side, 0, 360 * 64)

    def _text_window(self, x: int, y: int, lines: list[str]) -> object:
        theme = self._read_theme()
        width = 12 + self._char_width * max((len(line) for line in lines), default=10)
        height = ROW * len(lines) + 4
        x = max(0, min(x, self.screen.width_in_pixels - width - 2))
        y = max(0, min(y, self.screen.height_in_pixels - height - 2))
        return self.root.create_window(x, y, width, height, 1, self.screen.root_depth, X.InputOutput, X.CopyFromParent,
                                       background_pixel=self._pixel(theme.background),
                                       border_pixel=self._pixel(theme.border),
                                       override_redirect=True, event_mask=X.ExposureMask | X.ButtonPressMask)

    def _draw_lines(self, window: object, lines: list[str], enabled: list[bool]) -> None:
        window.clear_area(0, 0, 0, 0)
        theme = self.theme
        for row, (line, on) in enumerate(zip(lines, enabled)):
            colour = theme.foreground if on else theme.disabled
            # image_text fills each text box with the GC's background: it must be the window's own
            self._gc.change(foreground=self._pixel(colour if line else theme.border),
                            background=self._pixel(theme.background), font=self._font, line_width=1)
            if line:
                window.image_text(self._gc, 6, ROW * row + 14, line.encode("latin-1", "replace"))
            else:
                window.line(self._gc, 2, ROW * row + ROW // 2, 2000, ROW * row + ROW // 2)

    # --- tooltip -------------------------------------------------------------------

    def _open_tip(self, x: int, y: int) -> None:
        if self._view is None or self._tip is not None:
            return
        self._tip = self._text_window(x + 8, y + 16, self._view.tooltip.splitlines() or [self._view.title])
        self._tip.set_wm_name("ergo tooltip")
        self._tip.map()

    def _draw_tip(self) -> None:
        if self._view is not None and self._tip is not None:
            lines = self._view.tooltip.splitlines() or [self._view.title]
            self._draw_lines(self._tip, lines, [True] * len(lines))

    def _close_tip(self) -> None:
        if self._tip is not None:
            self._tip.destroy()
            self._tip = None

    # --- menu ------------------------------------------------------------------------

    def _click(self, ev: object) -> None:
        if self._menu is not None:
            inside = ev.window == self._menu and 0 <= ev.event_y < ROW * len(self._menu_items)
            item = self._menu_items[ev.event_y // ROW] if inside else None
            self._close_menu()
            if item is not None and item.action is not None and item.enabled:
                self._on_action(item)
            return
        if ev.window == self.win and self._view is not None:
            self._close_tip()
            self._menu_items = self._view.items
            self._menu = self._text_window(ev.root_x, ev.root_y, [i.label for i in self._menu_items])
            self._menu.set_wm_name("ergo menu")
            self._menu.map()
            self._menu.grab_pointer(True, X.ButtonPressMask, X.GrabModeAsync, X.GrabModeAsync, X.NONE, X.NONE,
                                    X.CurrentTime)

    def _draw_menu(self) -> None:
        if self._menu is not None:
            self._draw_lines(self._menu, [i.label for i in self._menu_items],
                             [i.enabled and i.action is not None for i in self._menu_items])

    def _close_menu(self) -> None:
        if self._menu is not None:
            self.d.ungrab_pointer(X.CurrentTime)
            self._menu.destroy()
            self._menu = None
            self._menu_items = ()
