"""Choosing a notifier and saying why, plus the wrapper that keeps reminders flowing when the desktop breaks."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TextIO

from ergo.errors import BackendUnavailable, NotifyError
from ergo.notify.base import ClosingContext, Notification, Notifier
from ergo.notify.console import ConsoleNotifier

BACKENDS = ("freedesktop", "plyer", "osascript", "console")

logger = logging.getLogger("ergo.notify")


def _freedesktop(answers: bool = False) -> tuple[Notifier | None, str]:
    from ergo.notify import freedesktop

    reason = freedesktop.probe()
    if reason is not None:
        return None, reason
    try:
        # Also starts a D-Bus-activatable server, proving it can run (dunst cannot without a display).
        info = freedesktop.server_info()
    except NotifyError as exc:
        return None, str(exc)
    if answers:
        from ergo.notify.answers import AnswerListener

        return freedesktop.FreedesktopNotifier(answers=AnswerListener()), f"{info.describe()} on the session bus"
    return freedesktop.FreedesktopNotifier(), f"{info.describe()} on the session bus"


def _plyer(platform: str | None) -> tuple[Notifier | None, str]:
    from ergo.notify import plyer

    reason = plyer.probe(platform)
    if reason is not None:
        return None, reason
    try:
        notifier = plyer.PlyerNotifier(platform=platform)
    except BackendUnavailable as exc:
        return None, str(exc)
    return notifier, f"via {notifier.route}"


def _osascript(platform: str | None) -> tuple[Notifier | None, str]:
    from ergo.notify import osascript

    reason = osascript.probe(platform)
    if reason is not None:
        return None, reason
    notifier = osascript.OsascriptNotifier()
    return notifier, f"display notification via {notifier.path} (built into macOS)"


def select_notifier(preference: str = "auto", *, stream: TextIO | None = None, answers: bool = False,
                    platform: str | None = None) -> tuple[Notifier, str]:
    """The notifier to use and a one-line reason (for the log and `ergo status`); raises BackendUnavailable.

    answers=True: the freedesktop notifier listens for button presses (the daemon wants them, notify-test not).
    `auto` tries freedesktop, then plyer (macOS with pyobjus before macOS 11, Windows), then osascript (macOS).
    """
    choice = preference.strip().lower()
    if choice == "console":
        return ConsoleNotifier(stream), "console: requested"
    probes: dict[str, Callable[[], tuple[Notifier | None, str]]] = {
        "freedesktop": lambda: _freedesktop(answers),
        "plyer": lambda: _plyer(platform),
        "osascript": lambda: _osascript(platform),
    }
    if choice in probes:
        notifier, reason = probes[choice]()
        if notifier is None:
            raise BackendUnavailable(f"notifier {choice!r} is unavailable: {reason}")
        return notifier, f"{choice}: {reason}"
    if choice != "auto":
        raise BackendUnavailable(
            f"unknown notifier {preference!r}; choose one of: auto, {', '.join(BACKENDS)}"
        )
    failures: list[tuple[str, str]] = []
    if (platform or sys.platform) != "darwin":
        del probes["osascript"]  # no Mac, no osascript: not worth a reason in the log
    for backend, attempt in probes.items():
        notifier, reason = attempt()
        if notifier is not None:
            skipped = "".join(f"; {name} unavailable: {why}" for name, why in failures)
            return notifier, f"{backend}: {reason}{skipped}"
        failures.append((backend, reason))
    return ConsoleNotifier(stream), f"console: no desktop ({_join_reasons(failures)})"


def _join_reasons(failures: list[tuple[str, str]]) -> str:
    """Say a shared reason once ("no D-Bus session bus ...") instead of once per backend."""
    reasons = {why for _, why in failures}
    if len(reasons) == 1:
        return reasons.pop()
    return "; ".join(f"{name}: {why}" for name, why in failures)


class FallbackNotifier(ClosingContext):
    """Never lets a broken desktop cost a reminder: on failure it logs why and prints to the console instead."""

    def __init__(self, primary: Notifier, console: ConsoleNotifier | None = None, reason: str = "") -> None:
        self.primary = primary
        self.console = console if console is not None else ConsoleNotifier()
        self.reason = reason  # what `ergo status` shows: the backend and, for freedesktop, the server now
        self.last_error: str | None = None  # None while the primary's latest send succeeded
        self.last_id: int | None = None  # the server's id of the latest notification, when the primary gives one
        self.before_send: Callable[[], None] | None = None  # e.g. a re-probe for a server that came up late

    @property
    def name(self) -> str:
        return self.primary.name

    def replace(self, primary: Notifier, reason: str) -> None:
        """Switch to another backend (a notification server appeared after ergo started)."""
        old, self.primary, self.reason, self.last_error = self.primary, primary, reason, None
        if old is not self.console:
            try:
                old.close()
            except Exception:
                pass

    def send(self, notification: Notification) -> None:
        self.last_id = None
        if self.before_send is not None:
            try:
                self.before_send()
            except Exception:
                logger.exception("checking for a notification server failed")
        try:
            self.primary.send(notification)
            self.last_id = getattr(self.primary, "last_id", None)
        except NotifyError as exc:
            self._failed(str(exc))
        except Exception as exc:  # a bug in a backend must not stop the reminders either
            logger.exception("notifier %r crashed; using the console", self.name)
            self._failed(f"{type(exc).__name__}: {exc}", logged=True)
        else:
            if self.last_error is not None:
                logger.info("notifier %r delivers again", self.name)
            self.last_error = None
            return
        try:
            self.console.send(notification)
        except NotifyError as exc:
            logger.error("reminder %r lost: %s, and the console failed too: %s", notification.key, self.last_error, exc)

    def _failed(self, reason: str, *, logged: bool = False) -> None:
        # Warn when the reason changes, not on every reminder of a long outage.
        if not logged:
            level = logging.WARNING if reason != self.last_error else logging.DEBUG
            logger.log(level, "notifier %r failed: %s; showing it on the console", self.name, reason)
        self.last_error = reason

    def close(self) -> None:
        try:
            self.primary.close()
        finally:
            self.console.close()
