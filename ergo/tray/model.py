"""What the tray shows and offers for a status: icon colours, tooltip and menu, as plain data.

No I/O and no toolkit: both front ends (SNI and XEmbed) render the same `TrayView`. Its words are in
the language the status asks for (ergo.control.glance.speak): the config's `language`, else the tray's
own environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ergo.control.glance import Glance, glance, speak
from ergo.i18n import _

#: RGB per glance state: green running, amber due soon, grey paused, blue-grey held, dark red stopped
COLOURS: dict[str, tuple[int, int, int]] = {
    "running": (0x3C, 0xA3, 0x55),
    "due-soon": (0xE5, 0xA5, 0x0A),
    "paused": (0x88, 0x88, 0x88),
    "held": (0x5B, 0x7A, 0x99),
    "stopped": (0x8B, 0x2E, 0x2E),
    "refused": (0xB0, 0x5A, 0x10),  # ergo runs but will not stream to us, or the socket is another user's
}


@dataclass(frozen=True)
class Action:
    """A menu choice: a control request (`command` + `arguments`) or a local job (`open_stats`, `edit_config`, ...)."""

    command: str
    arguments: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Item:
    """One menu entry; `action` None is a separator (label "") or a disabled heading."""

    label: str
    action: Action | None = None
    enabled: bool = True


@dataclass(frozen=True)
class TrayView:
    state: str
    title: str  # one line: "posture in 12 min"
    tooltip: str  # the glance's lines
    items: tuple[Item, ...] = field(default_factory=tuple)

    @property
    def colour(self) -> tuple[int, int, int]:
        return COLOURS.get(self.state, COLOURS["stopped"])

    @property
    def window_title(self) -> str:
        """The tray item's title: the glance, named ergo once ("ergo off", never "ergo: ergo off")."""
        return self.title if self.title.startswith("ergo") else _("ergo: %(status)s") % {"status": self.title}


SEPARATOR = Item("")


def tomorrow_morning(now: datetime) -> datetime:
    """Local midnight after `now` (work hours keep the night quiet anyway), as an aware time."""
    local = now.astimezone()
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def view(status: dict[str, Any] | None, now: datetime) -> TrayView:
    """The tray for this status (None: the daemon is not running), in the language the status asks for."""
    speak(status)
    seen: Glance = glance(status)
    # TRANSLATORS: tray menu entries (keep them short: the menu is as wide as its longest entry)
    stats, config, quit_ = Item(_("Today's stats"), Action("open_stats")), Item(_("Edit config"), Action("edit_config")), \
        Item(_("Quit tray"), Action("quit"))
    if seen.state in ("stopped", "refused") or status is None:
        start = () if seen.state == "refused" else (Item(_("Start ergo"), Action("start")),)
        items = (Item(seen.text, None, False), SEPARATOR, *start, stats, config, SEPARATOR, quit_)
        return TrayView(seen.state, seen.text, seen.tooltip, items)
    kinds = [k for k, e in status.get("reminders", {}).items() if e.get("enabled")]
    paused = bool(status.get("paused"))
    items_list: list[Item] = [Item(seen.text, None, False), SEPARATOR]
    # TRANSLATORS: a tray menu entry that delivers a reminder now; kind: "posture" (as in the config)
    items_list += [Item(_("Break now: %(kind)s") % {"kind": kind}, Action("now", (("kind", kind),))) for kind in kinds]
    items_list.append(SEPARATOR)
    items_list += [
        Item(_("Pause 30 min"), Action("pause", (("minutes", 30),))),
        Item(_("Pause 1 hour"), Action("pause", (("minutes", 60),))),
        Item(_("Pause until tomorrow"), Action("pause", (("tomorrow", True),))),
        Item(_("Resume"), Action("resume"), paused),
    ]
    # TRANSLATORS: a tray menu entry; kind: the next reminder, "posture" (as in the config)
    snooze_label = _("Snooze %(kind)s 10 min") % {"kind": seen.next_kind} if seen.next_kind else _("Snooze next reminder")
    items_list.append(Item(snooze_label, Action("snooze", (("kind", seen.next_kind),)) if seen.next_kind else None,
                           bool(seen.next_kind) and not paused))
    items_list += [SEPARATOR, stats, config, SEPARATOR, quit_]
    return TrayView(seen.state, seen.text, seen.tooltip, tuple(items_list))


def pixmap(colour: tuple[int, int, int], size: int, ring: bool = False) -> bytes:
    """A filled disc (a ring when `ring`) as ARGB32 in network byte order, row by row: SNI's IconPixmap."""
    r, g, b = colour
    out = bytearray()
    centre = (size - 1) / 2
    outer = size / 2 - 1
    inner = outer - max(2, size // 6) if ring else -1
    for y in range(size):
        for x in range(size):
            d = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            alpha = 255 if inner < d <= outer else (max(0, int(255 * (outer + 1 - d))) if outer < d < outer + 1 else 0)
            out += bytes((alpha, r, g, b)) if alpha else b"\0\0\0\0"
    return bytes(out)
