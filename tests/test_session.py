"""Session watchers on private buses: logind suspend/resume from a test double, screen lock,
do-not-disturb from a real dunst (and a KDE-like double and a fake gsettings), and start_watchers."""

from __future__ import annotations

import os
import queue
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ergo.errors import BackendUnavailable
from ergo.session import (
    SessionEvent,
    SessionWatcher,
    is_dnd_active,
    start_watchers,
    stop_watchers,
)
from ergo.session.dnd import DndWatcher, combine
from ergo.session.lock import LockWatcher
from ergo.session.logind import LogindWatcher
from tests.dbus_doubles import (
    InhibitingServerDouble,
    Login1Double,
    ServiceDouble,
    private_bus,
    require_tools,
    wait_for,
)
from tests.desktop import DesktopSession


class Events:
    """Collects what a watcher emits (from its own thread) for the test thread to wait on."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[SessionEvent, str]] = queue.Queue()

    def __call__(self, event: SessionEvent) -> None:
        self.queue.put((event, threading.current_thread().name))

    def next(self, timeout: float = 3.0) -> SessionEvent:
        return self.queue.get(timeout=timeout)[0]

    def none_within(self, seconds: float) -> bool:
        try:
            self.queue.get(timeout=seconds)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def bus() -> Iterator[str]:
    """A bare private dbus-daemon (used as the 'system bus' or a plain session bus)."""
    require_tools("dbus-daemon")
    with private_bus() as address:
        yield address


def _stop_quickly(watcher: SessionWatcher) -> None:
    started = time.monotonic()
    watcher.stop()
    assert time.monotonic() - started < 1.0
    assert not [t for t in threading.enumerate() if t.name == f"ergo-session-{watcher.name}"]


# --- logind: suspend / resume -----------------------------------------------------------------


def test_logind_prepare_for_sleep_becomes_suspend_then_resume(bus: str) -> None:
    events = Events()
    with Login1Double(bus) as logind:
        watcher = LogindWatcher(bus=bus)
        watcher.start(events)
        try:
            assert watcher.description == "logind: suspend/resume from PrepareForSleep on the bus " + bus
            logind.prepare_for_sleep(True)
            assert events.next() == SessionEvent("suspend", "logind")
            logind.prepare_for_sleep(False)
            event, thread_name = events.queue.get(timeout=3)
            assert event == SessionEvent("resume", "logind")
            assert thread_name == "ergo-session-logind"  # emit runs on the watcher's own thread
        finally:
            _stop_quickly(watcher)


def test_logind_ignores_prepare_for_sleep_from_an_impostor(bus: str) -> None:
    events = Events()
    with Login1Double(bus) as logind, Login1Double(bus, name=None) as impostor:
        watcher = LogindWatcher(bus=bus)
        watcher.start(events)
        try:
            impostor.prepare_for_sleep(True)
            logind.prepare_for_sleep(False)
            assert events.next() == SessionEvent("resume", "logind")
        finally:
            _stop_quickly(watcher)


def test_logind_watcher_says_when_logind_is_not_running(bus: str) -> None:
    watcher = LogindWatcher(bus=bus)
    watcher.start(Events())
    try:
        assert watcher.description.endswith("(org.freedesktop.login1 is not running yet)")
    finally:
        _stop_quickly(watcher)


def test_logind_watcher_survives_the_bus_going_away() -> None:
    require_tools("dbus-daemon")
    with private_bus() as address:
        watcher = LogindWatcher(bus=address)
        watcher.start(Events())
        assert watcher.running
    assert wait_for(lambda: not watcher.running, timeout=2)
    watcher.stop()


def test_missing_system_bus_is_unavailable_not_a_crash() -> None:
    with pytest.raises(BackendUnavailable, match="no bus unix:path=/nonexistent/ergo"):
        LogindWatcher(bus="unix:path=/nonexistent/ergo").start(Events())


# --- lock / unlock ----------------------------------------------------------------------------


def test_lock_and_unlock_from_gnome_and_freedesktop_screensavers(bus: str) -> None:
    events = Events()
    with ServiceDouble(bus, "org.gnome.ScreenSaver") as gnome, ServiceDouble(bus, "org.freedesktop.ScreenSaver") as kde:
        watcher = LockWatcher(bus=bus)
        watcher.start(events)
        try:
            gnome.emit("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver", "ActiveChanged", "b", (True,))
            assert events.next() == SessionEvent("lock", "org.gnome.ScreenSaver")
            gnome.emit("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver", "ActiveChanged", "b", (False,))
            assert events.next() == SessionEvent("unlock", "org.gnome.ScreenSaver")
            # KDE announces each change on two paths: one event per change.
            for path in ("/ScreenSaver", "/org/freedesktop/ScreenSaver"):
                kde.emit(path, "org.freedesktop.ScreenSaver", "ActiveChanged", "b", (True,))
            assert events.next() == SessionEvent("lock", "org.freedesktop.ScreenSaver")
            assert events.none_within(0.2)
        finally:
            _stop_quickly(watcher)


# --- do-not-disturb ---------------------------------------------------------------------------


def _dunstctl(desk: DesktopSession, *args: str) -> str:
    return subprocess.run(["dunstctl", *args], env=desk.full_env(), check=True, capture_output=True,
                          text=True, timeout=5).stdout.strip()


def test_dunst_paused_is_dnd_and_the_watcher_follows_dunstctl(desktop: DesktopSession) -> None:
    events = Events()
    assert is_dnd_active(gsettings=None) is False
    watcher = DndWatcher(gsettings=None)
    watcher.start(events)
    try:
        _dunstctl(desktop, "set-paused", "true")
        assert events.next() == SessionEvent("dnd_on", "dunst")
        assert is_dnd_active(gsettings=None) is True
        _dunstctl(desktop, "set-paused", "true")  # no change, no event
        _dunstctl(desktop, "set-paused", "false")
        assert events.next() == SessionEvent("dnd_off", "dunst")
        assert is_dnd_active(gsettings=None) is False
    finally:
        _stop_quickly(watcher)


def test_dnd_already_on_at_start_is_reported_once(desktop: DesktopSession) -> None:
    _dunstctl(desktop, "set-paused", "true")
    events = Events()
    watcher = DndWatcher(gsettings=None)
    watcher.start(events)
    try:
        assert events.next() == SessionEvent("dnd_on", "dunst")
        desktop.kill_server()  # the server going away ends its pause
        assert events.next() == SessionEvent("dnd_off", "org.freedesktop.Notifications")
    finally:
        _stop_quickly(watcher)


def test_inhibited_property_of_a_kde_like_server_double(bus: str) -> None:
    events = Events()
    with InhibitingServerDouble(bus) as server:
        assert is_dnd_active(bus=bus, gsettings=None) is False
        watcher = DndWatcher(bus=bus, gsettings=None)
        watcher.start(events)
        try:
            server.set_inhibited(True)
            assert events.next() == SessionEvent("dnd_on", "org.freedesktop.Notifications")
            assert is_dnd_active(bus=bus, gsettings=None) is True
            server.set_inhibited(False)
            assert events.next() == SessionEvent("dnd_off", "org.freedesktop.Notifications")
        finally:
            _stop_quickly(watcher)


@pytest.fixture
def fake_gsettings(tmp_path: Path) -> tuple[str, Path]:
    """A fake gsettings: prints show-banners from a file the test writes (real GNOME has no bus here)."""
    value = tmp_path / "show-banners"
    value.write_text("true\n")
    script = tmp_path / "fake-gsettings"
    script.write_text(f'#!/bin/sh\n[ "$2 $3" = "org.gnome.desktop.notifications show-banners" ] || exit 1\n'
                      f'cat "{value}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), value


def test_gnome_show_banners_is_polled_with_a_fake_gsettings(bus: str, fake_gsettings: tuple[str, Path]) -> None:
    gsettings, value = fake_gsettings
    events = Events()
    watcher = DndWatcher(bus=bus, gsettings=gsettings, poll_interval=0.1)
    watcher.start(events)
    try:
        assert "gsettings polled every 0.1 s" in watcher.description
        value.write_text("false\n")
        assert events.next() == SessionEvent("dnd_on", "gnome")
        assert is_dnd_active(bus=bus, gsettings=gsettings) is True
        value.write_text("true\n")
        assert events.next() == SessionEvent("dnd_off", "gnome")
    finally:
        _stop_quickly(watcher)


def test_dnd_unknown_without_any_source(bus: str) -> None:
    assert is_dnd_active(bus=bus, gsettings=None) is None
    assert combine([None, False, True]) is True
    assert combine([None, False]) is False


# --- start_watchers ---------------------------------------------------------------------------


def test_start_watchers_starts_all_three_and_explains(bus: str, desktop: DesktopSession) -> None:
    events = Events()
    watchers, reasons = start_watchers(events, system_bus=bus)
    try:
        assert [w.name for w in watchers] == ["logind", "lock", "dnd"]
        assert len(reasons) == 3 and all("\n" not in r for r in reasons)
        assert reasons[0].startswith("logind: suspend/resume from PrepareForSleep")
        assert reasons[1].startswith("lock: ActiveChanged of org.freedesktop.ScreenSaver and org.gnome.ScreenSaver")
        assert reasons[2].startswith("dnd: ")
        _dunstctl(desktop, "set-paused", "true")
        assert events.next() == SessionEvent("dnd_on", "dunst")
    finally:
        started = time.monotonic()
        stop_watchers(watchers)
        assert time.monotonic() - started < 1.0


def test_start_watchers_never_raises_without_buses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/system_bus_socket")
    watchers, reasons = start_watchers(Events())
    assert watchers == []
    assert reasons == [
        "logind: unavailable: no system bus (nothing listening at /nonexistent/system_bus_socket)",
        "lock: unavailable: no session bus (DBUS_SESSION_BUS_ADDRESS is not set)",
        "dnd: unavailable: no session bus (DBUS_SESSION_BUS_ADDRESS is not set)",
    ]
    assert os.environ.get("DBUS_SESSION_BUS_ADDRESS") is None
