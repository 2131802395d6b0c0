"""Desktop notifications behind one small interface: pick a backend with select_notifier, wrap it in FallbackNotifier.

Backends: freedesktop (D-Bus via jeepney), plyer (Windows, notify-send, old macOS), osascript (macOS) and console (always works).
"""

from ergo.notify.base import Notification, Notifier
from ergo.notify.console import ConsoleNotifier
from ergo.notify.freedesktop import FreedesktopNotifier
from ergo.notify.plyer import PlyerNotifier
from ergo.notify.select import BACKENDS, FallbackNotifier, select_notifier

__all__ = [
    "BACKENDS",
    "ConsoleNotifier",
    "FallbackNotifier",
    "FreedesktopNotifier",
    "Notification",
    "Notifier",
    "PlyerNotifier",
    "select_notifier",
]
