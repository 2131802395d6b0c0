"""A daemon that heals when the desktop comes up after it (issue 7, item 1).

Real parts only: private dbus-daemons (one with no service directory, so nothing is activated and
the login race is real), Xvfb, dunst and GNOME's notification-daemon as a second server.
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ergo.session.events import SessionEvent
from ergo.session.lock import LockWatcher
from ergo.session.logind import LogindWatcher
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.dbus_doubles import ServiceDouble
from tests.desktop import BUS_CONFIG, _spawn, desktop_session, require_desktop_tools, require_tools

NOTIFICATION_DAEMON = "/usr/lib/notification-daemon/notification-daemon"


class Events:
    def __init__(self) -> None:
        self.queue: queue.Queue[SessionEvent] = queue.Queue()

    def __call__(self, event: SessionEvent) -> None:
        self.queue.put(event)

    def wait_for(self, wanted: SessionEvent, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.queue.get(timeout=0.1) == wanted:
                    return True
            except queue.Empty:
                pass
        return False


@contextmanager
def bus_at(socket_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A dbus-daemon listening at a fixed path, so a restarted one has the same address."""
    conf = socket_path.with_suffix(".conf")
    conf.write_text(BUS_CONFIG.format(dir=socket_path.parent, servicedir="").replace(
        f"unix:dir={socket_path.parent}", f"unix:path={socket_path}"))
    proc = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: socket_path.exists(), timeout=5, what="the bus socket")
        yield proc
    finally:
        proc.kill()
        proc.wait()
        socket_path.unlink(missing_ok=True)


def test_session_watchers_come_back_after_the_bus_restarts() -> None:
    require_tools("dbus-daemon")
    sock = Path(tempfile.mkdtemp(prefix="e7b", dir="/tmp")) / "bus"
    address = f"unix:path={sock}"
    events = Events()
    lock, logind = LockWatcher(bus=address), LogindWatcher(bus=address)
    try:
        with bus_at(sock):
            lock.start(events)
            logind.start(events)
        # the bus is gone (a session bus restart, or the system bus restarted by an upgrade)
        time.sleep(1.0)
        with bus_at(sock):
            with ServiceDouble(address, "org.gnome.ScreenSaver") as gnome, \
                    ServiceDouble(address, "org.freedesktop.login1") as login1:
                def poke() -> bool:
                    gnome.emit("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver", "ActiveChanged", "b", (True,))
                    return events.wait_for(SessionEvent("lock", "org.gnome.ScreenSaver"), 0.5)

                wait_for(poke, timeout=15, what="the lock watcher back on the new bus")

                def sleep() -> bool:
                    login1.emit("/org/freedesktop/login1", "org.freedesktop.login1.Manager", "PrepareForSleep", "b",
                                (True,))
                    return events.wait_for(SessionEvent("suspend", "logind"), 0.5)

                wait_for(sleep, timeout=15, what="the logind watcher back on the new bus")
    finally:
        started = time.monotonic()
        lock.stop()
        logind.stop()
        assert time.monotonic() - started < 2.5
        shutil.rmtree(sock.parent, ignore_errors=True)


@pytest.mark.slow
def test_a_server_that_starts_after_ergo_start_is_used_and_status_follows_it() -> None:
    require_desktop_tools()
    require_tools(NOTIFICATION_DAEMON)
    with desktop_session(server="none") as desk:  # no service dir: nothing activates dunst
        with ErgoEnv.create(desk.env, NOTIFIER="auto", POSTURE__INTERVAL="2s", HYDRATION__ENABLED="false") as env:
            done = env.cli("start")
            assert done.returncode == 0, done.stderr
            env.started.append(env.daemon_pid() or 0)
            status = env.status()
            assert status["notifier"] == "console" and status["reminders_reach"] == "log only", status
            text = env.cli("status").stdout
            assert "reach only the log file" in text, text

            desk.start_server()
            wait_for(lambda: env.status()["notifier"] == "freedesktop", timeout=3,
                     what="the switch to the server (NameOwnerChanged, before any delivery)")
            status = env.status()
            assert "dunst" in status["notifier_reason"] and status["reminders_reach"] == "desktop", status
            assert "(dunst" in env.cli("status").stdout
            [first, *_] = desk.notifications(count=1, timeout=10)
            assert first["app_name"] == "ergo" and first["id"]
            switches = [l for l in env.log_file.read_text().splitlines() if "switched from the console" in l]
            assert len(switches) == 1, switches

            # the server is swapped for another one: status names the one that is there now
            desk.kill_server()
            desk.processes["notification-daemon"] = _spawn(
                "notification-daemon", [NOTIFICATION_DAEMON], desk.child_env, desk.workdir)
            wait_for(lambda: desk.server_pid() is not None, timeout=5, what="notification-daemon on the bus")
            # between the two servers the reason says "no notification server right now": wait for the new one
            wait_for(lambda: "dunst" not in (r := env.status()["notifier_reason"]) and "on the session bus" in r,
                     timeout=5, what="status naming the new server")
            reason = env.status()["notifier_reason"]
            assert reason.startswith("freedesktop: ") and "on the session bus" in reason, reason
            assert env.cli("stop").returncode == 0


@pytest.mark.slow
def test_a_session_bus_that_becomes_known_later_is_found() -> None:
    require_desktop_tools()
    with desktop_session(server="running") as desk:
        xdg = Path(tempfile.mkdtemp(prefix="e7x", dir="/tmp"))
        try:
            # no DBUS_SESSION_BUS_ADDRESS: ergo started before `systemctl --user import-environment`
            with ErgoEnv.create({"DISPLAY": desk.display or "", "XDG_RUNTIME_DIR": str(xdg)}, NOTIFIER="auto",
                                POSTURE__INTERVAL="2s", HYDRATION__ENABLED="false") as env:
                assert "DBUS_SESSION_BUS_ADDRESS" not in env.env
                with Daemon(env) as daemon:
                    assert env.status()["notifier"] == "console"
                    bus_path = desk.bus_address.split("path=", 1)[1].split(",", 1)[0]
                    (xdg / "bus").symlink_to(bus_path)  # the systemd user bus appears
                    wait_for(lambda: env.status()["notifier"] == "freedesktop", timeout=10,
                             what="the switch at the next delivery")
                    [first, *_] = desk.notifications(count=1, timeout=10)
                    assert first["app_name"] == "ergo"
                    assert any("session bus found at unix:path=" in l for l in daemon.log_lines())
        finally:
            shutil.rmtree(xdg, ignore_errors=True)


def test_the_mutter_idle_watch_comes_back_after_the_bus_restarts() -> None:
    from datetime import timedelta

    from ergo.idle.mutter import MutterIdleMonitor
    from tests.dbus_doubles import MutterDouble

    require_tools("dbus-daemon")
    sock = Path(tempfile.mkdtemp(prefix="e7m", dir="/tmp")) / "bus"
    address = f"unix:path={sock}"
    seen: list[str] = []
    try:
        with bus_at(sock), MutterDouble(address, idle_ms=0):
            monitor = MutterIdleMonitor(bus=address)
            monitor.watch(timedelta(minutes=3), lambda: seen.append("away"), lambda: seen.append("back"))
        time.sleep(1.0)
        with bus_at(sock), MutterDouble(address, idle_ms=0) as double:
            wait_for(lambda: double.idle_watches, timeout=15, what="the idle watch added again on the new bus")
            double.go_idle()
            wait_for(lambda: seen == ["away"], timeout=5, what="away from the new bus")
            double.become_active()
            wait_for(lambda: seen == ["away", "back"], timeout=5, what="back from the new bus")
        started = time.monotonic()
        monitor.close()
        assert time.monotonic() - started < 2.0
    finally:
        shutil.rmtree(sock.parent, ignore_errors=True)


@pytest.mark.slow
def test_buttons_work_on_a_server_that_came_late(tmp_path: Path) -> None:
    """Done pressed in a dunst started after ergo reaches the daemon (the answers listener is attached late)."""
    import stat as stat_module

    require_desktop_tools()
    script = tmp_path / "pick.sh"
    script.write_text(f"#!/bin/sh\ncat > {tmp_path}/menu.txt\ngrep -m1 'Done' {tmp_path}/menu.txt\n")
    script.chmod(script.stat().st_mode | stat_module.S_IXUSR)
    with desktop_session(server="none", dunst_settings=f"dmenu = {script}") as desk:
        with ErgoEnv.create(desk.env, NOTIFIER="auto", POSTURE__INTERVAL="3s", HYDRATION__ENABLED="false") as env:
            with Daemon(env):
                assert env.status()["notifier"] == "console"
                desk.start_server()
                wait_for(lambda: env.status()["notifier"] == "freedesktop", timeout=5, what="the switch")
                [note, *_] = desk.notifications(count=1, timeout=10)
                assert "Done" in note["actions"][1::2], note["actions"]  # dunst: the default action is Done
                desk._dunstctl("context")
                wait_for(lambda: [r for r in env.history() if r.get("outcome") == "done"], 5, what="the Done answer")
