"""Choose the tray front end and say why: StatusNotifierItem where a watcher runs, else the X11 system tray.

SNI first: KDE, waybar's tray, GNOME with the AppIndicator extension and most
modern panels host it, and it works on Wayland. XEmbed serves the X11 panels
that only know the old system tray (trayer, stalonetray, older xfce4-panel).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ergo.errors import BackendUnavailable
from ergo.tray.model import Item

FRONT_ENDS = ("auto", "sni", "xembed")


def _xembed(on_action: Callable[[Item], None]) -> Any:
    try:
        from ergo.tray import xembed
    except ImportError:
        from ergo.distribution import extra_hint

        raise BackendUnavailable(f"python-xlib is missing; add the tray extra: {extra_hint('tray')}") from None
    reason = xembed.probe()
    if reason is not None:
        raise BackendUnavailable(reason)
    return xembed.XEmbedTray(on_action)


def _sni(on_action: Callable[[Item], None]) -> Any:
    from ergo.tray import sni

    reason = sni.probe()
    if reason is not None:
        raise BackendUnavailable(reason)
    return sni.StatusNotifierTray(on_action)


def select_front_end(choice: str, on_action: Callable[[Item], None]) -> tuple[Any, str]:
    """The front end and a one-line reason; BackendUnavailable (one line) when none can run here."""
    openers = {"sni": _sni, "xembed": _xembed}
    if choice != "auto":
        if choice not in openers:
            raise BackendUnavailable(f"unknown tray {choice!r}; choose one of: {', '.join(FRONT_ENDS)}")
        try:
            front = openers[choice](on_action)
        except BackendUnavailable as error:
            raise BackendUnavailable(f"tray '{choice}' is unavailable: {error}") from None
        return front, f"{choice}: {front.source}"
    skipped = []
    for name in ("sni", "xembed"):
        try:
            front = openers[name](on_action)
        except BackendUnavailable as error:
            skipped.append(f"{name}: {error}")
            continue
        return front, f"{name}: {front.source}" + (f" ({'; '.join(skipped)})" if skipped else "")
    raise BackendUnavailable(f"no tray to show an icon in ({'; '.join(skipped)})")
