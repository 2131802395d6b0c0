"""Notifications on macOS through `osascript -e 'display notification ... with title ...'`.

osascript ships with every Mac, so this backend needs nothing installed; plyer needs pyobjus and
uses NSUserNotificationCenter, deprecated since macOS 11. The texts are written into the script as
AppleScript string literals, escaped so that no reminder text can end the string and run code.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from ergo.errors import NotifyError
from ergo.notify.base import ClosingContext, Notification

# AppleScript string literals understand exactly these escapes.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def applescript_string(text: str) -> str:
    """`text` as an AppleScript string literal; other control characters are dropped (they cannot be shown)."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 32 or ord(char) == 127:
            continue
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def script_for(title: str, body: str) -> str:
    """The one-line AppleScript that shows a notification."""
    return f"display notification {applescript_string(body)} with title {applescript_string(title)}"


def probe(platform: str | None = None) -> str | None:
    """None when osascript can show a notification here, else why not."""
    platform = platform or sys.platform
    if platform != "darwin":
        return f"needs macOS (this is {platform})"
    if shutil.which("osascript") is None:
        return "osascript is not on PATH"
    return None


class OsascriptNotifier(ClosingContext):
    """One osascript run per notification; it returns once macOS has the notification, and its exit code is checked."""

    name = "osascript"

    def __init__(self, *, timeout: float = 10.0) -> None:
        self._timeout = timeout
        self.path = shutil.which("osascript") or "osascript"

    def send(self, notification: Notification) -> None:
        script = script_for(notification.title, notification.body)
        try:
            done = subprocess.run([self.path, "-e", script], capture_output=True, text=True, timeout=self._timeout,
                                  check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise NotifyError(f"osascript did not finish within {self._timeout:g} s") from exc
        except OSError as exc:
            raise NotifyError(f"cannot run osascript: {exc}") from exc
        if done.returncode != 0:
            lines = [line.strip() for line in (done.stderr or "").splitlines() if line.strip()]
            raise NotifyError(f"osascript failed (exit {done.returncode}): {lines[-1] if lines else 'no error message'}")

    def close(self) -> None:
        """Nothing is held between notifications."""
