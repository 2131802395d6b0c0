"""Notifier backends against a real (private) desktop, plus selection, fallback and the plyer guard rails."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ergo.errors import BackendUnavailable, NotifyError
from ergo.notify import (
    BACKENDS,
    ConsoleNotifier,
    FallbackNotifier,
    FreedesktopNotifier,
    Notification,
    Notifier,
    PlyerNotifier,
    freedesktop,
    select_notifier,
)
from ergo.notify import plyer as plyer_backend
from tests.desktop import DesktopSession, desktop_session, require_desktop_tools

POSTURE = Notification("posture", "Sit up straight", "Shoulders back, feet flat.", urgency="critical")


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.fixture
def start_desktop(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., DesktopSession]]:
    """Like the `desktop` fixture, for sessions with another server mode or dunst settings."""
    require_desktop_tools()
    with ExitStack() as stack:

        def start(**kwargs: Any) -> DesktopSession:
            session = stack.enter_context(desktop_session(**kwargs))
            monkeypatch.delenv("DISPLAY", raising=False)
            monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
            for key, value in session.env.items():
                monkeypatch.setenv(key, value)
            return session

        yield start


@pytest.fixture
def no_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)


# --- the Notification value ------------------------------------------------------------------------


def test_notification_refuses_never_expiring_and_unknown_urgency() -> None:
    with pytest.raises(ValueError, match="expire"):
        Notification("posture", "t", "b", expire=timedelta(0))
    with pytest.raises(ValueError, match="urgency"):
        Notification("posture", "t", "b", urgency="urgent")
    assert Notification("k", "t", "b", expire=timedelta(microseconds=10)).expire_ms == 1


# --- freedesktop over a real bus -------------------------------------------------------------------


def test_freedesktop_delivers_and_replaces_by_key(desktop: DesktopSession) -> None:
    with FreedesktopNotifier() as notifier:
        assert isinstance(notifier, Notifier)
        notifier.send(POSTURE)
        notifier.send(Notification("posture", "Posture again", "Still slouching?", expire=timedelta(seconds=5)))
        notifier.send(Notification("water", "Drink some water", "A glass now.", urgency="low"))

    first, again, water = desktop.notifications(count=3)
    assert first["app_name"] == "ergo"
    assert (first["summary"], first["body"]) == (POSTURE.title, POSTURE.body)
    assert first["hints"]["urgency"] == 2
    assert first["expire_timeout"] == 30_000
    assert first["replaces_id"] == 0 and first["id"] > 0
    assert again["replaces_id"] == first["id"] and again["expire_timeout"] == 5_000
    assert water["replaces_id"] == 0 and water["hints"]["urgency"] == 0
    assert water["id"] != first["id"]
    shown = {entry["summary"] for entry in desktop.dunst_history(count=2)}
    assert shown == {"Posture again", "Drink some water"}  # the first posture one was replaced, not stacked


@pytest.mark.desktop
def test_freedesktop_escapes_body_only_for_markup_servers(start_desktop: Callable[..., DesktopSession]) -> None:
    desk = start_desktop(dunst_settings="markup = full")
    with FreedesktopNotifier() as notifier:
        notifier.send(Notification("stretch", "Stretch", "Reach < 10 s & breathe"))
    [sent] = desk.notifications(count=1)
    assert sent["body"] == "Reach &lt; 10 s &amp; breathe"


def test_server_info_names_the_server(desktop: DesktopSession) -> None:
    info = freedesktop.server_info()
    assert info.name == "dunst"
    assert info.describe().startswith("dunst ")


@pytest.mark.desktop
def test_probe_reports_a_bus_without_server(start_desktop: Callable[..., DesktopSession]) -> None:
    start_desktop(server="none")
    assert freedesktop.probe() == freedesktop.NO_SERVER
    with pytest.raises(NotifyError, match="^no notification server on the session bus$"):
        FreedesktopNotifier().send(POSTURE)
    notifier, reason = select_notifier("auto", stream=io.StringIO())
    assert isinstance(notifier, ConsoleNotifier)
    assert "no notification server" in reason


@pytest.mark.desktop
def test_activatable_server_counts_as_available(start_desktop: Callable[..., DesktopSession]) -> None:
    desk = start_desktop(server="activatable")
    assert desk.server_pid() is None  # nobody runs it yet, like dunst on most desktops
    assert freedesktop.probe() is None
    notifier, reason = select_notifier("auto")
    assert notifier.name == "freedesktop" and reason.startswith("freedesktop: dunst ")
    notifier.send(POSTURE)
    assert desk.notifications(count=1)[0]["summary"] == POSTURE.title
    assert desk.server_pid() is not None


@pytest.mark.desktop
def test_server_that_cannot_start_is_not_chosen(start_desktop: Callable[..., DesktopSession]) -> None:
    start_desktop(server="activatable", display=False)  # like an SSH login: dunst aborts without X
    assert freedesktop.probe() is None  # activatable, so the cheap check cannot tell
    notifier, reason = select_notifier("auto", stream=io.StringIO())
    assert isinstance(notifier, ConsoleNotifier)
    assert reason.startswith("console: no desktop (notification server failed to start: ")
    with pytest.raises(BackendUnavailable, match="^notifier 'freedesktop' is unavailable: notification server failed"):
        select_notifier("freedesktop")


def test_probe_without_bus(no_bus: None) -> None:
    assert freedesktop.probe() == "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)"
    with pytest.raises(NotifyError, match="DBUS_SESSION_BUS_ADDRESS is unset"):
        FreedesktopNotifier().send(POSTURE)


def test_probe_with_dead_bus_address(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/nothing-here")
    reason = freedesktop.probe()
    assert reason is not None and reason.startswith("session bus unreachable") and "\n" not in reason


def test_vanished_server_gives_notify_error_then_console(
    desktop: DesktopSession, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = FreedesktopNotifier()
    notifier.send(POSTURE)
    desktop.kill_server()
    with pytest.raises(NotifyError, match=r"^notification server went away \(nobody owns"):
        notifier.send(POSTURE)

    out = io.StringIO()
    fallback = FallbackNotifier(notifier, ConsoleNotifier(out))
    with caplog.at_level(logging.WARNING, logger="ergo.notify"):
        fallback.send(POSTURE)
    assert fallback.name == "freedesktop"
    assert fallback.last_error == "no notification server on the session bus"  # still gone, and we know it now
    assert "ergo · Sit up straight: Shoulders back, feet flat." in out.getvalue()
    assert any("no notification server" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    fallback.close()


def test_restarted_server_gets_no_stale_replaces_id(desktop: DesktopSession) -> None:
    notifier = FreedesktopNotifier()
    notifier.send(POSTURE)
    desktop.kill_server()
    with pytest.raises(NotifyError):
        notifier.send(POSTURE)
    desktop.start_server()
    notifier.send(POSTURE)  # the new server numbers from 1 again: the old id could be someone else's now
    first, retry, after = desktop.notifications(count=2)
    assert retry["error"] == "org.freedesktop.DBus.Error.ServiceUnknown"
    assert after["replaces_id"] == 0 and after["id"] is not None
    notifier.close()


def test_vanished_bus_gives_notify_error(desktop: DesktopSession) -> None:
    notifier = FreedesktopNotifier()
    notifier.send(POSTURE)
    desktop.kill_bus()
    with pytest.raises(NotifyError) as raised:
        notifier.send(POSTURE)
    assert str(raised.value).startswith("session bus went away: session bus unreachable at unix:path=")
    assert "\n" not in str(raised.value) and "guid=" not in str(raised.value)
    out = io.StringIO()
    FallbackNotifier(notifier, ConsoleNotifier(out)).send(POSTURE)
    assert "Sit up straight" in out.getvalue()


def test_dropped_connection_reconnects_once(desktop: DesktopSession) -> None:
    notifier = FreedesktopNotifier()
    notifier.send(POSTURE)
    # Simulate the bus hanging up on us (what a bus or network hiccup looks like from here).
    notifier._conn.sock.shutdown(2)  # type: ignore[union-attr]
    notifier.send(Notification("water", "Water", "Drink."))
    sent = desktop.notifications(count=2)
    assert [n["summary"] for n in sent] == [POSTURE.title, "Water"]
    notifier.close()
    with pytest.raises(NotifyError, match="closed"):
        notifier.send(POSTURE)


# --- selection ---------------------------------------------------------------------------------------


def test_auto_picks_freedesktop_on_a_desktop(desktop: DesktopSession) -> None:
    notifier, reason = select_notifier("auto")
    assert isinstance(notifier, FreedesktopNotifier)
    assert reason.startswith("freedesktop: dunst ") and reason.endswith(" on the session bus")


def test_auto_without_bus_falls_back_to_console(no_bus: None) -> None:
    out = io.StringIO()
    notifier, reason = select_notifier("auto", stream=out)
    assert isinstance(notifier, ConsoleNotifier)
    assert reason.startswith("console: no desktop (") and "D-Bus session bus" in reason
    notifier.send(POSTURE)
    assert "Sit up straight" in out.getvalue()


@pytest.mark.parametrize("name", ["freedesktop", "plyer"])
def test_named_backend_without_bus_raises_one_line(no_bus: None, name: str) -> None:
    with pytest.raises(BackendUnavailable) as raised:
        select_notifier(name)
    message = str(raised.value)
    assert message == f"notifier '{name}' is unavailable: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)"


def test_unknown_backend_lists_the_valid_ones() -> None:
    with pytest.raises(BackendUnavailable) as raised:
        select_notifier("growl")
    assert all(name in str(raised.value) for name in ("auto", *BACKENDS))


def test_console_can_be_requested(no_bus: None) -> None:
    notifier, reason = select_notifier(" Console ")
    assert isinstance(notifier, ConsoleNotifier) and reason == "console: requested"


def test_importing_ergo_notify_leaves_plyer_unloaded() -> None:
    code = "import sys, ergo.notify, ergo.notify.select; sys.exit('plyer' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- fallback ----------------------------------------------------------------------------------------


class FlakyNotifier:
    """A primary that fails with the given errors, then works."""

    name = "flaky"

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.sent: list[Notification] = []
        self.closed = False

    def send(self, notification: Notification) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(notification)

    def close(self) -> None:
        self.closed = True


def test_fallback_never_raises_and_tracks_the_last_error(caplog: pytest.LogCaptureFixture) -> None:
    primary = FlakyNotifier(NotifyError("server said no"), NotifyError("server said no"), KeyError("bug"))
    out = io.StringIO()
    fallback = FallbackNotifier(primary, ConsoleNotifier(out))
    with caplog.at_level(logging.DEBUG, logger="ergo.notify"):
        for _ in range(4):
            fallback.send(POSTURE)
            if fallback.last_error is None:
                break
    assert out.getvalue().count("Sit up straight") == 3
    assert primary.sent == [POSTURE] and fallback.last_error is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # the same reason twice is not warned twice
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)  # the bug is logged loudly
    fallback.close()
    assert primary.closed


def test_fallback_survives_a_broken_console_and_logs_the_reminder_as_lost(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    stream.close()
    fallback = FallbackNotifier(FlakyNotifier(NotifyError("down")), ConsoleNotifier(stream))
    with caplog.at_level(logging.WARNING, logger="ergo.notify"):
        fallback.send(POSTURE)  # must not raise
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage().startswith(f"reminder {POSTURE.key!r} lost: down, and the console failed too: "), error.getMessage()
    assert fallback.last_error == "down"


# --- plyer -------------------------------------------------------------------------------------------


def test_plyer_on_linux_reaches_the_server(desktop: DesktopSession) -> None:
    require_desktop_tools("notify-send")
    assert plyer_backend.probe() is None
    notifier, reason = select_notifier("plyer")
    assert reason == "plyer: via notify-send"
    notifier.send(Notification("stretch", "Stretch", "Roll your shoulders.", expire=timedelta(seconds=12)))
    [sent] = desktop.notifications(count=1)
    assert sent["app_name"] == "ergo"
    assert sent["expire_timeout"] == 12_000  # plyer itself would have sent 0, "never expires"
    assert sent["hints"]["urgency"] == 1
    [kept] = desktop.dunst_history(count=1)
    assert (kept["app_name"], kept["summary"], kept["body"]) == ("ergo", "Stretch", "Roll your shoulders.")


@pytest.mark.desktop
def test_plyer_on_linux_reports_what_plyer_would_swallow(start_desktop: Callable[..., DesktopSession]) -> None:
    require_desktop_tools("notify-send")
    start_desktop(server="none")
    assert plyer_backend.probe() == freedesktop.NO_SERVER
    with pytest.raises(NotifyError, match=r"^notify-send failed \(exit 1\): "):
        PlyerNotifier().send(POSTURE)


def test_plyer_probe_on_linux_needs_a_bus(no_bus: None) -> None:
    assert plyer_backend.probe("linux") == freedesktop.NO_BUS


class FakePlyerWindows(types.ModuleType):
    """Stands in for plyer on Windows, which this machine cannot run; records what plyer would be given."""

    def __init__(self, error: Exception | None = None) -> None:
        super().__init__("plyer")
        self.calls: list[dict[str, Any]] = []
        self.error = error
        self.notification = types.SimpleNamespace(notify=self._notify)

    def _notify(self, **kwargs: Any) -> None:
        if self.error is not None:
            raise self.error
        self.calls.append(kwargs)


class FakePlyerMacOS(FakePlyerWindows):
    """Stands in for plyer on macOS, which this machine cannot run."""


def test_plyer_on_windows_respects_balloon_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePlyerWindows()
    monkeypatch.setitem(sys.modules, "plyer", fake)
    assert plyer_backend.probe("win32") is None
    notifier = PlyerNotifier(platform="win32")
    assert notifier.route == "plyer"
    title = "Posture check 🪑 " * 10
    body = "Sit back against the chair, feet flat, screen at eye level. " * 10
    notifier.send(Notification("posture", title, body, expire=timedelta(seconds=7.4)))
    [call] = fake.calls
    assert _utf16(call["title"]) < 64 and call["title"].endswith("…")
    assert _utf16(call["message"]) < 256 and call["message"].endswith("…")
    assert call["app_name"] == "ergo" and call["timeout"] == 7
    notifier.send(Notification("water", "Water", "Short."))
    assert fake.calls[-1]["title"] == "Water" and fake.calls[-1]["message"] == "Short."


def test_plyer_on_windows_maps_every_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "plyer", FakePlyerWindows(OSError("Shell_NotifyIconW failed.")))
    with pytest.raises(NotifyError, match="^plyer failed: OSError: Shell_NotifyIconW failed.$"):
        PlyerNotifier(platform="win32").send(POSTURE)
    monkeypatch.setitem(sys.modules, "plyer", FakePlyerWindows(NotImplementedError("No usable implementation")))
    with pytest.raises(NotifyError, match="no working notification backend"):
        PlyerNotifier(platform="win32").send(POSTURE)


def test_plyer_on_macos_needs_pyobjus(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePlyerMacOS()
    monkeypatch.setitem(sys.modules, "plyer", fake)
    monkeypatch.setitem(sys.modules, "pyobjus", None)  # None in sys.modules makes the import fail
    assert plyer_backend.probe("darwin") == "pyobjus is not installed (plyer needs it on macOS)"
    monkeypatch.setitem(sys.modules, "pyobjus", types.ModuleType("pyobjus"))
    assert plyer_backend.probe("darwin") is None
    PlyerNotifier(platform="darwin").send(POSTURE)
    assert fake.calls[0]["title"] == POSTURE.title


def test_plyer_missing_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "plyer", None)
    assert plyer_backend.probe("win32") == "plyer is not installed"
    with pytest.raises(BackendUnavailable, match="plyer is not installed"):
        PlyerNotifier(platform="win32")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400), st.sampled_from([64, 256]))
def test_truncate_stays_under_the_windows_limits(text: str, limit: int) -> None:
    cut = plyer_backend.truncate(text, limit)
    assert _utf16(cut) < limit
    if _utf16(text) < limit:
        assert cut == text
    else:
        assert cut.endswith("…") and text.startswith(cut[:-1])


# --- console -----------------------------------------------------------------------------------------


class FlushCounter(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_console_prints_one_flushed_line_per_notification() -> None:
    out = FlushCounter()
    notifier = ConsoleNotifier(out, clock=lambda: datetime(2025, 3, 4, 9, 5, 7))
    notifier.send(POSTURE)
    notifier.send(Notification("water", "Drink\nwater", "Two\nlines  here"))
    assert out.getvalue() == (
        "[09:05:07] ergo · Sit up straight: Shoulders back, feet flat.\n[09:05:07] ergo · Drink water: Two lines here\n"
    )
    assert out.flushes == 2


def test_console_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleNotifier().send(POSTURE)
    assert capsys.readouterr().out.endswith("ergo · Sit up straight: Shoulders back, feet flat.\n")


def test_console_on_ascii_terminal_replaces_what_it_cannot_show() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    ConsoleNotifier(stream, clock=lambda: datetime(2025, 1, 1)).send(POSTURE)
    assert raw.getvalue() == b"[00:00:00] ergo ? Sit up straight: Shoulders back, feet flat.\n"


def test_console_on_closed_stream_raises_notify_error() -> None:
    stream = io.StringIO()
    stream.close()
    with pytest.raises(NotifyError, match="console stream unusable"):
        ConsoleNotifier(stream).send(POSTURE)
