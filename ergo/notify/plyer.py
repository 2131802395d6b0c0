"""Notifications through plyer, for macOS and Windows, with the checks plyer itself never makes.

plyer reports nothing: on Linux it shells out to notify-send with "never expire" and ignores the exit
code, and on Windows the balloon runs in a thread whose exceptions are lost. So on Linux this backend
runs notify-send itself (exit code checked, real expire time); it uses plyer (via dbus-python, which
does raise) only when notify-send is missing. Elsewhere it calls plyer after trimming the text to
the Windows balloon limits, which would otherwise fail silently, and on Windows it catches what the
balloon thread raises (see _watch_balloon).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from ergo.errors import BackendUnavailable, NotifyError
from ergo.notify import freedesktop
from ergo.notify.base import ClosingContext, Notification
from ergo.notify.icon import app_icon

APP_NAME = "ergo"
# Windows NOTIFYICONDATAW holds WCHAR[64] and WCHAR[256], terminator included; harmless elsewhere.
TITLE_LIMIT = 64
MESSAGE_LIMIT = 256
ELLIPSIS = "…"


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def truncate(text: str, limit: int) -> str:
    """Cut `text` to fewer than `limit` UTF-16 units (what the Windows buffers count), ending in an ellipsis."""
    if _utf16_units(text) < limit:
        return text
    budget = limit - 1 - _utf16_units(ELLIPSIS)
    out: list[str] = []
    used = 0
    for char in text:
        size = _utf16_units(char)
        if used + size > budget:
            break
        out.append(char)
        used += size
    return "".join(out).rstrip() + ELLIPSIS


def _importable(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _is_linux(platform: str) -> bool:
    return platform.startswith("linux")


def macos_version() -> tuple[int, ...]:
    """This Mac's version, e.g. (14, 5); () when unknown or not a Mac."""
    import platform as platform_module

    try:
        return tuple(int(part) for part in platform_module.mac_ver()[0].split("."))
    except ValueError:
        return ()


def probe(platform: str | None = None, mac_version: tuple[int, ...] | None = None) -> str | None:
    """None when a notification sent this way would really be shown, else a one-line reason."""
    platform = platform or sys.platform
    if _is_linux(platform):
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            return freedesktop.NO_BUS
        if shutil.which("notify-send") is None and not (_importable("dbus") and _importable("plyer")):
            return "neither notify-send nor dbus-python is available"
        # notify-send and dbus-python reach the same server; jeepney can tell whether it is there and
        # (asking its name, which starts an activatable one) whether it can run at all.
        reason = freedesktop.probe()
        if reason is None:
            try:
                freedesktop.server_info()
            except NotifyError as exc:
                reason = str(exc)
        if reason is not None and not reason.startswith(freedesktop.UNSUPPORTED_ADDRESS):
            return reason
        return None
    if not _importable("plyer"):
        return "plyer is not installed"
    if platform == "darwin":
        if not _importable("pyobjus"):
            return "pyobjus is not installed (plyer needs it on macOS)"
        version = macos_version() if mac_version is None else mac_version
        if version and version >= (11,):
            return f"plyer uses NSUserNotificationCenter, deprecated since macOS 11 (this is {'.'.join(map(str, version))})"
        return None
    if platform in ("win32", "cygwin"):
        return None
    return f"plyer has no notifications on platform {platform!r}"


class BalloonFailed(Exception):
    """plyer's Windows balloon thread died; carries what it raised."""


def _watch_balloon(call: Callable[[], None], grace: float) -> None:
    """Run plyer's Windows notify and catch what its balloon thread raises, which plyer would lose.

    The balloon fails at once if it fails (window class, window, Shell_NotifyIconW) and otherwise
    stays alive for its whole display time; so a thread that dies with an exception within `grace`
    seconds is a failed notification, and one still alive then is a shown one.
    """
    import threading
    import time

    before = set(threading.enumerate())
    failures: list[BaseException] = []
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.thread is not None and args.thread not in before and args.exc_value is not None:
            failures.append(args.exc_value)
        else:
            previous(args)

    threading.excepthook = hook
    try:
        call()
        deadline = time.monotonic() + grace
        for thread in [t for t in threading.enumerate() if t not in before]:
            thread.join(max(0.0, deadline - time.monotonic()))
    finally:
        threading.excepthook = previous
    if failures:
        error = failures[0]
        raise BalloonFailed(f"{type(error).__name__}: {error}")


class PlyerNotifier(ClosingContext):
    """Desktop notifications where there is no freedesktop server: macOS, Windows, or Linux via notify-send."""

    name = "plyer"

    def __init__(self, *, platform: str | None = None, timeout: float = 10.0, balloon_grace: float = 0.5) -> None:
        self._platform = platform or sys.platform
        self._timeout = timeout
        self._balloon_grace = balloon_grace
        self._notify_send: str | None = None
        self._notify: Callable[..., Any] | None = None
        if _is_linux(self._platform):
            self._notify_send = shutil.which("notify-send")
        if self._notify_send is None:
            try:
                import plyer  # heavy-ish, and only needed on this path
            except ImportError as exc:
                raise BackendUnavailable(f"notifier 'plyer' is unavailable: plyer is not installed ({exc})") from exc
            self._notify = plyer.notification.notify

    @property
    def route(self) -> str:
        """How notifications leave this process: "notify-send" or "plyer"; worth logging."""
        return "notify-send" if self._notify_send else "plyer"

    def send(self, notification: Notification) -> None:
        title = truncate(notification.title, TITLE_LIMIT)
        message = truncate(notification.body, MESSAGE_LIMIT)
        if self._notify_send:
            self._run_notify_send(notification, title, message)
            return
        assert self._notify is not None
        seconds = max(1, round(notification.expire.total_seconds()))
        notify = self._notify
        try:
            if self._platform in ("win32", "cygwin"):
                _watch_balloon(lambda: notify(title=title, message=message, app_name=APP_NAME, timeout=seconds),
                               self._balloon_grace)
            else:
                notify(title=title, message=message, app_name=APP_NAME, timeout=seconds)
        except NotImplementedError as exc:
            raise NotifyError(f"plyer has no working notification backend here: {exc}") from exc
        except BalloonFailed as exc:
            raise NotifyError(f"plyer's Windows balloon failed: {exc}") from exc
        except Exception as exc:  # plyer lets every platform's own exception through
            raise NotifyError(f"plyer failed: {type(exc).__name__}: {exc}") from exc

    def _run_notify_send(self, n: Notification, title: str, message: str) -> None:
        assert self._notify_send is not None
        cmd = [
            self._notify_send,
            f"--app-name={APP_NAME}",
            f"--expire-time={n.expire_ms}",
            f"--urgency={n.urgency}",
            f"--icon={app_icon()}",
            "--",
            title,
            message,
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=self._timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise NotifyError(f"notify-send did not finish within {self._timeout:g} s") from exc
        except OSError as exc:
            raise NotifyError(f"cannot run notify-send: {exc}") from exc
        if done.returncode != 0:
            lines = [line for line in (done.stderr or "").splitlines() if line.strip()]
            detail = lines[-1].strip() if lines else "no error message"
            raise NotifyError(f"notify-send failed (exit {done.returncode}): {detail}")

    def close(self) -> None:
        """Nothing is held between notifications."""
