"""The colours of the X11 tray's tooltip and menu: the tray host's, else the desktop's, else a light default.

Pure functions over what the X server holds (the caller reads the properties):
- `_NET_SYSTEM_TRAY_COLORS` on the tray's selection owner (System Tray spec 0.4): the colour the host
  wants icons drawn in, as 12 CARDINALs (foreground, error, warning, success; 16 bits per channel).
  It gives a foreground only: the background is the light default under a dark foreground, a dark
  one under a light foreground.
- X resources (`RESOURCE_MANAGER` on the root window, what `xrdb` loads): `ergo*background` /
  `ergo*foreground`, else `*background` / `*foreground` (the keys xterm, rofi and most X themes set).
- Otherwise ergo's light default: near-black text on an off-white ground, greyed entries still at
  4.5:1 contrast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Theme:
    background: RGB
    foreground: RGB
    disabled: RGB  # greyed menu entries
    border: RGB  # the window's border and the separators
    source: str  # where the colours came from, for the log


def _mix(a: RGB, b: RGB, share_of_a: float) -> RGB:
    return tuple(round(x * share_of_a + y * (1 - share_of_a)) for x, y in zip(a, b))  # type: ignore[return-value]


def _luminance(rgb: RGB) -> float:
    r, g, b = rgb
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def _build(background: RGB, foreground: RGB, source: str) -> Theme:
    return Theme(background, foreground, _mix(foreground, background, 0.65), _mix(foreground, background, 0.4), source)


LIGHT_BACKGROUND: RGB = (0xF6, 0xF5, 0xF4)
LIGHT_FOREGROUND: RGB = (0x1E, 0x1E, 0x1E)
DARK_BACKGROUND: RGB = (0x2B, 0x2B, 0x2B)
DARK_FOREGROUND: RGB = (0xEE, 0xEE, 0xEE)
DEFAULT = _build(LIGHT_BACKGROUND, LIGHT_FOREGROUND, "ergo's light default")


def _partner(colour: RGB, *, is_foreground: bool) -> RGB:
    """A background for a foreground (or the reverse) that reads well against it."""
    dark = _luminance(colour) < 0.5
    if is_foreground:
        return LIGHT_BACKGROUND if dark else DARK_BACKGROUND
    return DARK_FOREGROUND if dark else LIGHT_FOREGROUND


def from_tray_colors(values: list[int] | tuple[int, ...] | None) -> Theme | None:
    """The theme for the host's `_NET_SYSTEM_TRAY_COLORS` (12 CARDINALs), or None when it sets none."""
    if not values or len(values) < 3:
        return None
    foreground: RGB = tuple(max(0, min(255, int(v) >> 8)) for v in values[:3])  # type: ignore[assignment]
    return _build(_partner(foreground, is_foreground=True), foreground, "the tray's _NET_SYSTEM_TRAY_COLORS")


def parse_colour(text: str) -> RGB | None:
    """"#rgb", "#rrggbb", "#rrrrggggbbbb" or "rgb:r/g/b" (1-4 hex digits each), as X writes colours."""
    text = text.strip()
    match = re.fullmatch(r"#([0-9a-fA-F]+)", text)
    if match and len(match[1]) in (3, 6, 9, 12):
        step = len(match[1]) // 3
        parts = [match[1][i * step:(i + 1) * step] for i in range(3)]
    else:
        match = re.fullmatch(r"rgb:([0-9a-fA-F]{1,4})/([0-9a-fA-F]{1,4})/([0-9a-fA-F]{1,4})", text)
        if not match:
            return None
        parts = [match[1], match[2], match[3]]
    return tuple(round(int(p, 16) * 255 / (16 ** len(p) - 1)) for p in parts)  # type: ignore[return-value]


def _resource(resources: str, name: str) -> RGB | None:
    """`ergo*name` wins over `*name` / `*.name` (the generic keys a desktop theme sets)."""
    found: dict[str, RGB] = {}
    for line in resources.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        colour = parse_colour(value)
        if colour is None:
            continue
        if key.lower() in (f"ergo*{name}", f"ergo.{name}"):
            found["ergo"] = colour
        elif key in (f"*{name}", f"*.{name}"):
            found.setdefault("any", colour)
    return found.get("ergo") or found.get("any")


def from_resources(resources: str | None) -> Theme | None:
    """The theme for the X resources text (RESOURCE_MANAGER), or None when it names no colours."""
    if not resources:
        return None
    background, foreground = _resource(resources, "background"), _resource(resources, "foreground")
    if background is None and foreground is None:
        return None
    if background is None:
        assert foreground is not None
        background = _partner(foreground, is_foreground=True)
    if foreground is None:
        foreground = _partner(background, is_foreground=False)
    if abs(_luminance(background) - _luminance(foreground)) < 0.3:  # unreadable pair: keep the background
        foreground = _partner(background, is_foreground=False)
    return _build(background, foreground, "the desktop's X resources")


def pick(tray_colors: list[int] | tuple[int, ...] | None, resources: str | None) -> Theme:
    """The tray host's colours, else the desktop's, else the light default."""
    return from_tray_colors(tray_colors) or from_resources(resources) or DEFAULT
