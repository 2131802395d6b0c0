"""Idle monitors: X11 under Xvfb, Mutter and ScreenSaver against test doubles on a private bus,
selection and its one-line reasons, and the macOS/Windows arithmetic fed by fakes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ergo.errors import BackendUnavailable
from ergo.idle import (
    BACKENDS,
    IdleError,
    IdleMonitor,
    IdleWatcher,
    macos,
    screensaver,
    select_idle_monitor,
    windows,
    x11,
)
from ergo.idle.mutter import MutterIdleMonitor
from ergo.idle.none import NoIdleMonitor
from ergo.idle.screensaver import ScreenSaverIdleMonitor
from ergo.idle.select import auto_order
from ergo.idle.x11 import X11IdleMonitor
from tests.dbus_doubles import (
    MutterDouble,
    ScreenSaverDouble,
    private_bus,
    require_tools,
    wait_for,
)
from tests.desktop import DesktopSession


@pytest.fixture
def session_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private session bus with nothing on it, and no X display: only the doubles we add exist."""
    require_tools("dbus-daemon")
    with private_bus() as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        monkeypatch.delenv("DISPLAY", raising=False)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        yield address


@pytest.fixture
def nothing_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """No session bus, no display: a headless box."""
    for var in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(var, raising=False)


# --- X11 under Xvfb ---------------------------------------------------------------------------


def _move_mouse(desk: DesktopSession, x: int, y: int) -> None:
    subprocess.run(["xdotool", "mousemove", str(x), str(y)], env=desk.full_env(), check=True, timeout=5)


def test_x11_idle_grows_then_a_mouse_move_resets_it(desktop: DesktopSession) -> None:
    require_tools("xdotool")
    monitor = X11IdleMonitor()
    try:
        _move_mouse(desk=desktop, x=10, y=10)
        time.sleep(1.5)
        assert monitor.idle_time() >= timedelta(seconds=1)
        _move_mouse(desk=desktop, x=200, y=150)
        assert monitor.idle_time() < timedelta(seconds=0.5)
    finally:
        monitor.close()


def test_x11_selected_by_auto_with_its_display_named(desktop: DesktopSession, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/ergo-test-bus")
    monitor, reason = select_idle_monitor()
    try:
        assert monitor.name == "x11"
        assert reason == f"x11: XScreenSaver on {desktop.display}"
    finally:
        monitor.close()


def test_x11_server_going_away_is_an_idle_error_not_an_exit(desktop: DesktopSession) -> None:
    monitor = X11IdleMonitor()
    monitor.idle_time()
    desktop.kill_server()  # dunst would die with the display anyway
    xvfb = desktop.processes.pop("Xvfb")
    xvfb.terminate()
    xvfb.wait(timeout=5)
    with pytest.raises(IdleError, match="lost the connection"):
        monitor.idle_time()
    monitor.close()


def test_x11_refused_by_auto_on_wayland_but_allowed_when_named(desktop: DesktopSession,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/ergo-test-bus")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert "Wayland" in (x11.probe() or "")
    assert x11.probe(allow_wayland=True) is None
    auto, reason = select_idle_monitor()  # DISPLAY works (Xvfb), but XWayland idle would only see X clients
    try:
        assert auto.name == "none", reason
        assert "Wayland" in reason, reason
    finally:
        auto.close()
    named, reason = select_idle_monitor("x11")
    try:
        assert named.name == "x11" and reason.startswith("x11: "), reason
        named.idle_time()
    finally:
        named.close()


def test_x11_probe_reasons(monkeypatch: pytest.MonkeyPatch, nothing_here: None) -> None:
    assert x11.probe() == "DISPLAY is not set"
    assert x11.probe(display=":93517") == "cannot open display :93517"


# --- Mutter (GNOME) against a test double -----------------------------------------------------


def test_mutter_double_is_chosen_and_read(session_bus: str) -> None:
    with MutterDouble(session_bus, idle_ms=4321) as double:
        monitor, reason = select_idle_monitor()
        try:
            assert reason == "mutter: org.gnome.Mutter.IdleMonitor on the session bus"
            assert isinstance(monitor, MutterIdleMonitor)
            assert monitor.idle_time() == timedelta(milliseconds=4321)
            double.idle_ms = 12
            assert monitor.idle_time() == timedelta(milliseconds=12)
        finally:
            monitor.close()


def test_mutter_service_vanishing_is_an_idle_error(session_bus: str) -> None:
    with MutterDouble(session_bus):
        monitor = MutterIdleMonitor()
        monitor.idle_time()
    with pytest.raises(IdleError, match="org.gnome.Mutter.IdleMonitor is not on the session bus"):
        monitor.idle_time()
    monitor.close()


def test_mutter_watch_turns_watchfired_into_away_and_back(session_bus: str) -> None:
    events: list[str] = []
    with MutterDouble(session_bus, idle_ms=0) as double:
        monitor = MutterIdleMonitor()
        assert isinstance(monitor, IdleWatcher)
        monitor.watch(timedelta(seconds=90), lambda: events.append("away"), lambda: events.append("back"))
        assert [interval for _, interval in double.idle_watches.values()] == [90_000]
        double.go_idle()
        assert wait_for(lambda: events == ["away"])
        assert wait_for(lambda: len(double.active_watches) == 1)
        double.go_idle()  # idle watches fire again after each activity; only one "away" while away
        double.become_active()
        assert wait_for(lambda: events == ["away", "back"])
        started = time.monotonic()
        monitor.close()
        assert time.monotonic() - started < 1.0
        assert not [t for t in threading.enumerate() if t.name == "ergo-idle-mutter"]


def test_mutter_watch_reports_away_at_once_when_already_idle(session_bus: str) -> None:
    events: list[str] = []
    with MutterDouble(session_bus, idle_ms=120_000) as double:
        monitor = MutterIdleMonitor()
        try:
            monitor.watch(timedelta(minutes=1), lambda: events.append("away"), lambda: events.append("back"))
            assert wait_for(lambda: events == ["away"])
            assert wait_for(lambda: len(double.active_watches) == 1)
            double.become_active()
            assert wait_for(lambda: events == ["away", "back"])
        finally:
            monitor.close()


# --- org.freedesktop.ScreenSaver (KDE) against a test double ----------------------------------


def test_screensaver_double_on_kde_path_is_chosen_when_mutter_is_absent(session_bus: str) -> None:
    with ScreenSaverDouble(session_bus, idle_s=42, paths=("/ScreenSaver",)):
        monitor, reason = select_idle_monitor()
        try:
            assert isinstance(monitor, ScreenSaverIdleMonitor)
            assert reason == "screensaver: org.freedesktop.ScreenSaver at /ScreenSaver on the session bus"
            assert monitor.idle_time() == timedelta(seconds=42)
        finally:
            monitor.close()


def test_screensaver_that_exists_but_errors_is_unavailable(session_bus: str) -> None:
    """GNOME Shell owns the name but answers NotSupported: the probe's real call catches it."""
    with ScreenSaverDouble(session_bus, not_supported=True):
        assert "NotSupported" in (screensaver.probe() or "")
        with pytest.raises(BackendUnavailable) as info:
            select_idle_monitor("screensaver")
        message = str(info.value)
        assert message.startswith("idle backend 'screensaver' is unavailable: ") and "\n" not in message
        monitor, reason = select_idle_monitor()
        assert monitor.name == "none"
        assert "screensaver: " in reason and "NotSupported" in reason


def test_mutter_preferred_over_screensaver(session_bus: str) -> None:
    with ScreenSaverDouble(session_bus, idle_s=1), MutterDouble(session_bus, idle_ms=5):
        monitor, reason = select_idle_monitor("auto")
        monitor.close()
        assert monitor.name == "mutter" and reason.startswith("mutter: ")


# --- selection --------------------------------------------------------------------------------


def test_auto_falls_back_to_none_and_says_why(nothing_here: None) -> None:
    monitor, reason = select_idle_monitor()
    assert isinstance(monitor, NoIdleMonitor)
    assert reason == (
        "none: no idle source (mutter: no session bus (DBUS_SESSION_BUS_ADDRESS is not set); "
        "screensaver: no session bus (DBUS_SESSION_BUS_ADDRESS is not set); "
        "swayidle: not a Wayland session (WAYLAND_DISPLAY is not set); x11: DISPLAY is not set)"
    )


@pytest.mark.parametrize("name", ["mutter", "screensaver", "swayidle", "x11", "macos", "windows"])
def test_named_unavailable_backend_raises_one_line(name: str, nothing_here: None) -> None:
    with pytest.raises(BackendUnavailable) as info:
        select_idle_monitor(name)
    message = str(info.value)
    assert message.startswith(f"idle backend '{name}' is unavailable: ")
    assert "\n" not in message


def test_unknown_backend_lists_valid_names() -> None:
    with pytest.raises(BackendUnavailable) as info:
        select_idle_monitor("xscreensaver")
    assert str(info.value) == (
        "unknown idle backend 'xscreensaver'; choose one of: auto, mutter, screensaver, swayidle, x11, macos, windows, none"
    )


def test_none_always_works(nothing_here: None) -> None:
    monitor, reason = select_idle_monitor(" None ")
    assert isinstance(monitor, IdleMonitor)
    assert monitor.idle_time() == timedelta(0)
    assert reason.startswith("none: ")
    monitor.close()


def test_auto_order_per_platform() -> None:
    assert auto_order("linux") == ("mutter", "screensaver", "swayidle", "x11")
    assert auto_order("darwin") == ("macos",)
    assert auto_order("win32") == ("windows",)
    assert set(BACKENDS) >= {*auto_order("linux"), "macos", "windows", "none"}


# --- macOS and Windows: arithmetic and parsing with fakes (this machine runs neither) ---------

FAKE_IOREG_OUTPUT = """\
+-o Root  <class IORegistryEntry, id 0x100000100, retain 30>
  +-o IOResources  <class IOResources, id 0x100000111, registered, matched, active, busy 0 (0 ms), retain 54>
    +-o IOHIDSystem  <class IOHIDSystem, id 0x100000486, registered, matched, active, busy 0 (0 ms), retain 24>
        {
          "IOClass" = "IOHIDSystem"
          "HIDParameters" = {"HIDClickTime"=500000000,"HIDKeyRepeat"=83333333}
          "HIDIdleTime" = 7250123456
          "IOProviderClass" = "IOResources"
        }
"""  # a fake: hand-written in the shape of real `ioreg -c IOHIDSystem` output


def test_macos_parser_reads_hididletime_in_nanoseconds_from_fake_ioreg_output() -> None:
    assert macos.parse_ioreg(FAKE_IOREG_OUTPUT) == timedelta(seconds=7, microseconds=250123)


def test_macos_monitor_with_fake_ioreg_runner() -> None:
    monitor = macos.MacIdleMonitor(run=lambda: FAKE_IOREG_OUTPUT)
    assert monitor.idle_time() == timedelta(seconds=7, microseconds=250123)
    with pytest.raises(IdleError, match="no HIDIdleTime"):
        macos.MacIdleMonitor(run=lambda: "+-o Root\n").idle_time()


@given(st.integers(min_value=0, max_value=10**15))
def test_macos_parser_any_nanoseconds(ns: int) -> None:
    text = FAKE_IOREG_OUTPUT.replace("7250123456", str(ns))
    assert macos.parse_ioreg(text) == timedelta(microseconds=ns // 1000)


class FakeWindowsInputClock:
    """A fake of the two Win32 readings, for a machine that is not Windows."""

    def __init__(self, now: int, last: int, fail: bool = False) -> None:
        self.now, self.last, self.fail = now, last, fail

    def tick_count64(self) -> int:
        return self.now

    def last_input_tick(self) -> int:
        if self.fail:
            raise OSError(5, "Access is denied")
        return self.last & 0xFFFFFFFF


def test_windows_idle_with_fake_clock_across_the_32_bit_wrap() -> None:
    clock = FakeWindowsInputClock(now=2**32 + 5, last=2**32 - 10)
    assert windows.WindowsIdleMonitor(clock).idle_time() == timedelta(milliseconds=15)
    with pytest.raises(IdleError, match="GetLastInputInfo failed"):
        windows.WindowsIdleMonitor(FakeWindowsInputClock(0, 0, fail=True)).idle_time()


@given(st.integers(min_value=0, max_value=2**63), st.integers(min_value=0, max_value=2**32 - 1))
def test_windows_idle_ms_is_exact_within_one_wrap(last: int, idle: int) -> None:
    assert windows.idle_ms(last + idle, last & 0xFFFFFFFF) == idle


def test_platform_backends_explain_themselves_here() -> None:
    if sys.platform.startswith("linux"):  # exact: a probe that wrongly says "available" here must fail
        assert macos.probe() == "needs macOS (this is linux)"
        assert windows.probe() == "needs Windows (this is linux)"
    elif sys.platform == "darwin":
        assert macos.probe() in (None, "ioreg is not on PATH") and windows.probe() == "needs Windows (this is darwin)"
    elif sys.platform == "win32":
        assert windows.probe() is None and macos.probe() == "needs macOS (this is win32)"
