"""Session watchers on private buses: logind suspend/resume from a test double, screen lock,
do-not-disturb from a real dunst (and a KDE-like double, a dconf double and a fake gsettings),
start_watchers, and what an idle watcher costs (wake-ups) and how fast it stops."""

from __future__ import annotations

import os
import queue
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from jeepney.bus_messages import message_bus

from ergo.errors import BackendUnavailable
from ergo.idle._dbus import call, connect, wake
from ergo.session import (
    SessionEvent,
    SessionWatcher,
    is_dnd_active,
    start_watchers,
    stop_watchers,
)
from ergo.session._bus_watcher import JOIN_TIMEOUT, BusSignalWatcher
from ergo.session.dnd import (
    DCONF,
    DCONF_INTERFACE,
    DCONF_PATH,
    GNOME_POLL_INTERVAL,
    DndWatcher,
    combine,
    dconf_notify_concerns_gnome_key,
    in_gnome_session,
)
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
from tests.helpers import cannot_run


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


# --- every watcher: idle cost and stopping ---------------------------------------------------


def _voluntary_switches(thread: threading.Thread) -> int:
    """voluntary_ctxt_switches of one thread of this process: each one is a wake-up."""
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("voluntary_ctxt_switches")).split()[1])


def _thread_of_or_none(watcher: BusSignalWatcher) -> threading.Thread | None:
    return watcher._thread


def _thread_of(watcher: BusSignalWatcher) -> threading.Thread:
    thread = watcher._thread
    assert thread is not None and thread.native_id is not None
    return thread


def test_idle_watchers_do_not_wake_up(bus: str, fake_gsettings: FakeGsettings) -> None:
    """Blocked on an idle bus, a watcher thread sleeps: no stop-flag polling, no gsettings polling."""
    if not Path("/proc/self/task").is_dir():
        cannot_run("needs Linux /proc to count context switches")
    with DconfDouble(bus):
        watchers: list[BusSignalWatcher] = [
            LogindWatcher(bus=bus), LockWatcher(bus=bus), DndWatcher(bus=bus, gsettings=None, gnome=False),
            DndWatcher(bus=bus, gsettings=fake_gsettings.path, gnome=True)]
        for watcher in watchers:
            watcher.start(Events())
        try:
            time.sleep(0.2)  # let each thread reach its blocking receive
            before = [_voluntary_switches(_thread_of(w)) for w in watchers]
            time.sleep(3.0)
            after = [_voluntary_switches(_thread_of(w)) for w in watchers]
            woke = {w.name + ("-gnome" if i == 3 else ""): a - b
                    for i, (w, b, a) in enumerate(zip(watchers, before, after, strict=True))}
            assert all(n <= 2 for n in woke.values()), f"wake-ups in 3 s of idle: {woke}"
            assert fake_gsettings.runs() == 1  # read once at start, never polled
        finally:
            stop_watchers(watchers)  # type: ignore[arg-type]
            assert not [w for w in watchers if _thread_of_or_none(w)]


def test_stop_right_after_start_ends_the_thread_within_a_second(bus: str) -> None:
    for delay in [0.0] * 10 + [0.0005, 0.001, 0.002, 0.005, 0.02]:
        for watcher in (LockWatcher(bus=bus), LogindWatcher(bus=bus), DndWatcher(bus=bus, gsettings=None)):
            watcher.start(Events())
            thread = _thread_of(watcher)
            if delay:
                time.sleep(delay)
            _stop_quickly(watcher)
            assert not thread.is_alive() and not watcher.running
            watcher.stop()  # twice is fine


def test_stop_while_the_thread_is_still_emitting_initial_events(bus: str) -> None:
    """stop() lands before the thread has blocked: it must not block afterwards."""
    release = threading.Event()

    class SlowStart(LockWatcher):
        def on_start(self, conn: object) -> list[SessionEvent]:
            super().on_start(conn)  # type: ignore[arg-type]
            return [SessionEvent("lock", "test")]

    def slow_emit(event: SessionEvent) -> None:
        release.wait(2)  # the thread is held here, before its first receive

    watcher = SlowStart(bus=bus)
    watcher.start(slow_emit)
    thread = _thread_of(watcher)
    threading.Timer(0.1, release.set).start()  # stop() below waits in join while the thread is held
    _stop_quickly(watcher)
    assert not thread.is_alive()


def test_stop_before_start_and_from_the_watchers_own_thread(bus: str) -> None:
    watcher = LockWatcher(bus=bus)
    watcher.stop()  # nothing started: a no-op, and it does not cancel a later start
    done = threading.Event()

    def stop_from_inside(event: SessionEvent) -> None:
        watcher.stop()  # must not try to join itself
        done.set()

    with ServiceDouble(bus, "org.gnome.ScreenSaver") as gnome:
        watcher.start(stop_from_inside)
        thread = _thread_of(watcher)
        gnome.emit("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver", "ActiveChanged", "b", (True,))
        assert done.wait(3)
        thread.join(1)
        assert not thread.is_alive()


def test_a_receive_that_starts_after_wake_returns_at_once(bus: str) -> None:
    """What stop() relies on: a shut-down socket stays readable (EOF), so no wake-up can be lost."""
    conn = connect(bus)
    try:
        wake(conn)
        wake(conn)  # idempotent
        started = time.monotonic()
        with pytest.raises(OSError):
            for _ in range(10):  # what was queued before the shutdown (NameAcquired) still comes first
                conn.recv_messages(timeout=None)
        assert time.monotonic() - started < 0.5
    finally:
        conn.close()
    wake(conn)  # after close: quietly nothing
    assert JOIN_TIMEOUT < 1.0


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
    """It keeps trying to reconnect (tests/test_late_desktop.py sees it come back), and still stops at once."""
    require_tools("dbus-daemon")
    with private_bus() as address:
        watcher = LogindWatcher(bus=address)
        watcher.start(Events())
        assert watcher.running
    time.sleep(1.0)
    assert watcher.running
    _stop_quickly(watcher)


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


@dataclass
class FakeGsettings:
    """A fake gsettings: ``path`` to run; prints show-banners from ``value``; logs each run to ``log``."""

    path: str
    value: Path
    log: Path

    def runs(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


@pytest.fixture
def fake_gsettings(tmp_path: Path) -> FakeGsettings:
    """A fake gsettings: prints show-banners from a file the test writes (real GNOME has no bus here)."""
    value, log = tmp_path / "show-banners", tmp_path / "gsettings-runs"
    value.write_text("true\n")
    script = tmp_path / "fake-gsettings"
    script.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\n'
                      f'[ "$2 $3" = "org.gnome.desktop.notifications show-banners" ] || exit 1\n'
                      f'cat "{value}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return FakeGsettings(str(script), value, log)


class DconfDouble(ServiceDouble):
    """Test double of dconf's writer service: owns ca.desrt.dconf and emits Notify like dconf-service."""

    def __init__(self, address: str, name: str | None = DCONF) -> None:
        super().__init__(address, name)

    def notify(self, prefix: str, paths: list[str], tag: str = ":1.0:user:0") -> None:
        self.emit(DCONF_PATH, DCONF_INTERFACE, "Notify", "sass", (prefix, paths, tag))


def test_gnome_show_banners_is_reread_on_dconf_notify(bus: str, fake_gsettings: FakeGsettings) -> None:
    events = Events()
    with DconfDouble(bus) as dconf, DconfDouble(bus, name=None) as impostor:
        watcher = DndWatcher(bus=bus, gsettings=fake_gsettings.path, gnome=True)
        watcher.start(events)
        try:
            assert watcher.description.endswith("; GNOME show-banners re-read on dconf's Notify")
            assert watcher.tick_interval is None  # no polling
            assert fake_gsettings.runs() == 1  # the initial read
            fake_gsettings.value.write_text("false\n")
            dconf.notify("/org/gnome/desktop/notifications/show-banners", [""])  # what `gsettings set` sends
            assert events.next() == SessionEvent("dnd_on", "gnome")
            assert fake_gsettings.runs() == 2
            fake_gsettings.value.write_text("true\n")
            dconf.notify("/org/gnome/desktop/interface/", ["clock-show-seconds"])  # unrelated: dropped by the bus
            dconf.notify("/org/gnome/desktop/notificationsX/", ["a"])  # a look-alike directory
            impostor.notify("/org/gnome/desktop/notifications/show-banners", [""])  # not from dconf
            assert events.none_within(0.2)
            assert fake_gsettings.runs() == 2
            dconf.notify("/org/gnome/desktop/", ["interface/clock-show-seconds", "notifications/show-banners"])
            assert events.next() == SessionEvent("dnd_off", "gnome")
            dconf.notify("/", [""])  # a reset of everything
            assert events.none_within(0.2)  # re-read once, but nothing changed
            assert fake_gsettings.runs() == 4
        finally:
            _stop_quickly(watcher)


DCONF_SERVICE = next((p for p in ("/usr/libexec/dconf-service", "/usr/lib/dconf/dconf-service")
                      if os.access(p, os.X_OK)), None)


def test_real_dconf_service_and_gsettings_when_installed(bus: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Optional end-to-end check of the Notify format with the real dconf-service and gsettings.

    Skipped where they are missing, failed instead under ERGO_REQUIRE_DESKTOP=1 (.ci/run installs them).
    """
    if DCONF_SERVICE is None or shutil.which("gsettings") is None:
        cannot_run("dconf-service or gsettings not installed (apt-get install dconf-service libglib2.0-bin)")
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {"DBUS_SESSION_BUS_ADDRESS": bus, "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_RUNTIME_DIR": str(runtime), "GSETTINGS_BACKEND": "dconf", "XDG_CURRENT_DESKTOP": "GNOME"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if subprocess.run(["gsettings", "get", "org.gnome.desktop.notifications", "show-banners"],
                      check=False, capture_output=True, timeout=5).returncode != 0:
        cannot_run("GNOME's org.gnome.desktop.notifications schema is not installed (apt-get install gsettings-desktop-schemas)")
    service = subprocess.Popen([DCONF_SERVICE], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    events = Events()
    watcher = DndWatcher(bus=bus)
    try:
        probe = connect(bus)
        try:
            assert wait_for(lambda: call(probe, message_bus.NameHasOwner(DCONF))[0], timeout=5)
        finally:
            probe.close()
        watcher.start(events)
        assert watcher.description.endswith("re-read on dconf's Notify")

        def gsettings_set(value: str) -> None:
            subprocess.run(["gsettings", "set", "org.gnome.desktop.notifications", "show-banners", value],
                           check=True, timeout=5)

        gsettings_set("false")
        assert events.next() == SessionEvent("dnd_on", "gnome")
        gsettings_set("true")
        assert events.next() == SessionEvent("dnd_off", "gnome")
    finally:
        _stop_quickly(watcher)
        service.terminate()
        service.wait(timeout=5)


def test_no_gsettings_at_all_outside_a_gnome_session(bus: str, fake_gsettings: FakeGsettings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fake_gsettings.value.write_text("false\n")  # GNOME would say DND: must not be asked
    events = Events()
    with DconfDouble(bus) as dconf:
        for desktop in ("KDE", "XFCE", None):
            if desktop is None:
                monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)
            else:
                monkeypatch.setenv("XDG_CURRENT_DESKTOP", desktop)
            assert is_dnd_active(bus=bus, gsettings=fake_gsettings.path) is None
            watcher = DndWatcher(bus=bus, gsettings=fake_gsettings.path)
            watcher.start(events)
            try:
                assert "GNOME" not in watcher.description and watcher.tick_interval is None
                dconf.notify("/org/gnome/desktop/notifications/show-banners", [""])
                assert events.none_within(0.1)
            finally:
                _stop_quickly(watcher)
    assert fake_gsettings.runs() == 0


def test_gnome_session_is_read_from_xdg_current_desktop(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in [("GNOME", True), ("ubuntu:GNOME", True), ("gnome-flashback:GNOME", True),
                            ("Unity", False), ("KDE", False), ("", False)]:
        assert in_gnome_session({"XDG_CURRENT_DESKTOP": value}) is expected, value
    assert in_gnome_session({}) is False
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "Pop:GNOME")
    assert DndWatcher(gsettings=None)._gnome is True
    assert DndWatcher(gsettings=None, gnome=False)._gnome is False


def test_dconf_notify_paths_that_concern_show_banners() -> None:
    concerns = dconf_notify_concerns_gnome_key
    assert concerns("/org/gnome/desktop/notifications/show-banners", [""])
    assert concerns("/org/gnome/desktop/notifications/show-banners", [])
    assert concerns("/org/gnome/desktop/notifications/", ["show-banners", "application-children"])
    assert concerns("/org/gnome/desktop/", ["interface/x", "notifications/show-banners"])
    assert concerns("/org/gnome/", [""])  # recursive reset above the directory
    assert not concerns("/org/gnome/desktop/interface/", ["clock-show-seconds"])
    assert not concerns("/org/gnome/desktop/notificationsX/", ["a"])
    assert not concerns("/org/gnome/desktop/notifications", [""])  # a key, not the directory
    assert not concerns(None, [""])


def test_gnome_show_banners_is_polled_when_no_dconf_can_signal(bus: str, fake_gsettings: FakeGsettings) -> None:
    events = Events()
    watcher = DndWatcher(bus=bus, gsettings=fake_gsettings.path, gnome=True, poll_interval=0.1)
    watcher.start(events)
    try:
        assert "GNOME show-banners polled every 0.1 s (no dconf service)" in watcher.description
        fake_gsettings.value.write_text("false\n")
        assert events.next() == SessionEvent("dnd_on", "gnome")
        assert is_dnd_active(bus=bus, gsettings=fake_gsettings.path, gnome=True) is True
        fake_gsettings.value.write_text("true\n")
        assert events.next() == SessionEvent("dnd_off", "gnome")
    finally:
        _stop_quickly(watcher)
    assert DndWatcher(gsettings=None, gnome=True)._poll_interval == GNOME_POLL_INTERVAL == 60.0


def test_dnd_unknown_without_any_source(bus: str) -> None:
    assert is_dnd_active(bus=bus, gsettings=None) is None
    assert combine([None, False, True]) is True
    assert combine([None, False]) is False


# --- start_watchers ---------------------------------------------------------------------------


def test_start_watchers_starts_all_three_and_explains(bus: str, desktop: DesktopSession,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)  # a developer's GNOME must not leak in
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
