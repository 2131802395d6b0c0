"""The icon every notification carries, so desktops (GNOME above all) show no blank gap beside it."""

from __future__ import annotations

from pathlib import Path

#: A name from the freedesktop icon naming spec that every common theme has; used if the SVG is missing.
THEMED_FALLBACK = "dialog-information"


def app_icon() -> str:
    """The absolute path of the SVG shipped beside this module, or a themed icon name when it is absent."""
    svg = Path(__file__).with_name("ergo.svg")
    return str(svg) if svg.is_file() else THEMED_FALLBACK
