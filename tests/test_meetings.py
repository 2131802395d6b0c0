"""Never during a call, a presentation or a meeting (issue 21), each source with its real part:

- the microphone: a real PulseAudio server started here, and `parecord` from a (null) microphone as
  the call; recording only the monitor of an output (a screen recorder) is no call;
- full screen: a real Xvfb with openbox (EWMH), a window made full screen with wmctrl; and a real
  headless sway with foot started full screen;
- the camera: a character device node of the test's own (this machine has no /dev/video*) held open
  by a process, named with ERGO_CAMERA_DEVICES: the one double here;
- the calendar: .ics files with a single, a recurring, an all-day and a free event.

For each: nothing is delivered while busy, `ergo status` says why, and when it ends exactly one
merged notification (posture and hydration together) goes out `[meetings] after` later.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.desktop import desktop_session, require_tools
from tests.helpers import cannot_run

pytestmark = pytest.mark.slow

#: No source but the one under test, so each test shows what its own source does.
ONLY = {"MEETINGS__MICROPHONE": "false", "MEETINGS__CAMERA": "false", "MEETINGS__FULLSCREEN": "false",
        "MEETINGS__AFTER": "1s"}
#: For the calendar files written once the daemon answers: the first reminder falls due well after that.
LATER = {"POSTURE__INTERVAL": "4s", "HYDRATION__INTERVAL": "5s"}


def _busy(env: ErgoEnv) -> str | None:
    return env.status().get("busy")


def held_then_one_merged(env: ErgoEnv, daemon: Daemon, says: str, end: Callable[[], None] | None) -> None:
    """With the busy thing already on: both kinds fall due and are held, status says why; after `end`
    (None: it ends by itself) one notification carries both, at least `after` (1 s) later."""
    wait_for(lambda: says in (_busy(env) or ""), 15, what=f"status to say {says!r}")

    def held() -> bool:  # both held while the source still says busy (not in the grace after it)
        status = env.status()
        return bool(status.get("busy")) and all(status["reminders"][k]["held"] == "busy" for k in ("posture", "hydration"))

    wait_for(held, 15, what="posture and hydration both held for being busy")
    assert env.db_deliveries() == [], "delivered while busy"
    human = env.cli("status")
    assert f"held: {says}" in human.stdout or "held: " in human.stdout and says in human.stdout, human.stdout
    if end is not None:
        end()
    wait_for(lambda: _busy(env) is None, 30, what="the busy spell to end")
    ended = datetime.now(timezone.utc)
    wait_for(lambda: env.db_deliveries(), 15, what="the delivery after the busy spell")
    rows = env.db_deliveries()
    first_at = rows[0][0]
    assert sorted(kind for at, kind in rows if at == first_at) == ["hydration", "posture"], rows  # one, merged
    assert first_at >= ended + timedelta(seconds=0.5), (first_at, ended)  # `after` (1 s) once it ended
    assert daemon.alive()


# --- the microphone: a real PulseAudio server ----------------------------------------------------------


@pytest.fixture
def pulse() -> Iterator[dict[str, str]]:
    require_tools("pulseaudio", "parecord")
    root = Path(tempfile.mkdtemp(prefix="ergo-pulse-"))
    (root / "home").mkdir()
    (root / "run").mkdir(mode=0o700)
    env = {**os.environ, "HOME": str(root / "home"), "XDG_RUNTIME_DIR": str(root / "run")}
    argv = ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--load=module-null-sink",
            "--load=module-null-source source_name=mic", "--load=module-native-protocol-unix"]
    log = open(root / "pulse.log", "wb")
    server = subprocess.Popen(argv, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        socket = root / "run" / "pulse" / "native"
        wait_for(lambda: socket.exists() or server.poll() is not None, 15, what="pulseaudio's socket")
        assert server.poll() is None, (root / "pulse.log").read_text(errors="replace")
        yield {"PULSE_SERVER": f"unix:{socket}", "HOME": str(root / "home"), "XDG_RUNTIME_DIR": str(root / "run")}
    finally:
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _record(pulse: dict[str, str], device: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["parecord", "-d", device, "/dev/null"], env={**os.environ, **pulse},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_call_on_the_microphone_holds_reminders_and_one_merged_reminder_follows(make_env, pulse) -> None:
    env = make_env(**{**ONLY, "MEETINGS__MICROPHONE": "true"})
    env.env["PULSE_SERVER"] = pulse["PULSE_SERVER"]
    call = _record(pulse, "mic")
    try:
        with Daemon(env) as daemon:
            assert any(line.startswith("microphone: microphone") for line in env.status()["busy_sources"])
            held_then_one_merged(env, daemon, "in a call (microphone in use by pacat)", call.terminate)
    finally:
        call.kill()
        call.wait()


def test_recording_only_an_outputs_monitor_is_no_call(make_env, pulse) -> None:
    env = make_env(**{**ONLY, "MEETINGS__MICROPHONE": "true"})
    env.env["PULSE_SERVER"] = pulse["PULSE_SERVER"]
    recorder = _record(pulse, "null.monitor")  # a screen recorder taking the desktop's sound
    try:
        with Daemon(env):
            wait_for(lambda: env.db_deliveries(), 15, what="a reminder while only a monitor records")
            assert _busy(env) is None
    finally:
        recorder.kill()
        recorder.wait()


# --- full screen: openbox on Xvfb, and headless sway --------------------------------------------------


def test_a_full_screen_window_under_openbox_holds_reminders(make_env) -> None:
    require_tools("openbox", "wmctrl", "xmessage", "Xvfb", "dbus-daemon")
    with desktop_session(server="none") as desktop:
        x = {"DISPLAY": desktop.display or ""}
        run_env = {**os.environ, **x}
        wm_log = tempfile.TemporaryFile()
        # A valid, empty config: with /dev/null openbox opens an "Openbox Syntax Error" window of its own,
        # which can take the focus from the window the test makes full screen.
        rc = desktop.workdir / "openbox-rc.xml"
        rc.write_text('<openbox_config xmlns="http://openbox.org/3.4/rc"></openbox_config>\n')
        wm = subprocess.Popen(["openbox", "--config-file", str(rc)], env=run_env, stdout=wm_log, stderr=wm_log)
        title = f"ergo-call-{os.getpid()}"
        window: subprocess.Popen | None = None
        try:
            # The window is mapped once the window manager runs, so openbox manages (and may focus) it
            # like any new window, rather than adopting one mapped before it started.
            wait_for(lambda: wm.poll() is not None or subprocess.run(
                ["wmctrl", "-m"], env=run_env, capture_output=True).returncode == 0, 15, interval=0.1,
                what="openbox to take the display")
            window = subprocess.Popen(["xmessage", "-title", title, "presenting"], env=run_env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seen: list[str] = []

            def fullscreen() -> bool:
                subprocess.run(["wmctrl", "-r", title, "-b", "add,fullscreen"], env=run_env, capture_output=True)
                subprocess.run(["wmctrl", "-a", title], env=run_env, capture_output=True)
                state = subprocess.run(["xprop", "-root", "_NET_ACTIVE_WINDOW"], env=run_env, capture_output=True,
                                       text=True).stdout
                wid = state.strip().rsplit(" ", 1)[-1]
                props = subprocess.run(["xprop", "-id", wid, "_NET_WM_STATE"], env=run_env, capture_output=True,
                                       text=True).stdout
                seen[:] = [state.strip(), props.strip()]
                return "_NET_WM_STATE_FULLSCREEN" in props

            try:
                wait_for(fullscreen, 15, interval=0.3, what="openbox to make the window full screen")
            except AssertionError as error:  # say what the display looked like, for the next time it happens
                wm_log.seek(0)
                windows = subprocess.run(["wmctrl", "-l"], env=run_env, capture_output=True, text=True).stdout
                raise AssertionError(f"{error}; openbox exit {wm.poll()}, xmessage exit {window.poll()}, "
                                     f"windows {windows!r}, last seen {seen!r}, "
                                     f"openbox said {wm_log.read()[-400:]!r}") from None
            env = make_env(x, **{**ONLY, "MEETINGS__FULLSCREEN": "true"})
            with Daemon(env) as daemon:
                assert "fullscreen: fullscreen (x11)" in env.status()["busy_sources"]

                def leave_fullscreen() -> None:
                    subprocess.run(["wmctrl", "-r", title, "-b", "remove,fullscreen"], env=run_env, check=True)

                held_then_one_merged(env, daemon, "presenting or full screen (Xmessage)", leave_fullscreen)
        finally:
            for proc in (window, wm):
                if proc is not None:
                    proc.kill()
                    proc.wait()
            wm_log.close()


def test_a_full_screen_window_under_sway_holds_reminders(make_env) -> None:
    from tests.wayland import headless_sway

    require_tools("foot")
    with headless_sway() as sway:
        ipc = next(iter(sway.runtime_dir.glob("sway-ipc.*.sock")), None)
        assert ipc is not None, "sway made no IPC socket"
        foot_env = {**sway.env(), "XDG_RUNTIME_DIR": str(sway.runtime_dir)}
        app = f"ergo-call-{os.getpid()}"
        window = subprocess.Popen(["foot", "--fullscreen", "--app-id", app, "sleep", "120"], env=foot_env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            env = make_env({"SWAYSOCK": str(ipc)}, **{**ONLY, "MEETINGS__FULLSCREEN": "true"})
            with Daemon(env) as daemon:
                assert "fullscreen: fullscreen (sway)" in env.status()["busy_sources"]
                held_then_one_merged(env, daemon, f"presenting or full screen ({app})", window.terminate)
        finally:
            window.kill()
            window.wait()


def test_an_application_inhibiting_idle_holds_reminders_where_no_window_state_is_seen(make_env) -> None:
    """GNOME on Wayland shows no window states: a video player's idle inhibitor says "busy". GNOME's
    session manager is a D-Bus double here (tests/dbus_doubles.py); there is no GNOME on this machine."""
    from tests.dbus_doubles import SessionManagerDouble, private_bus

    require_tools("dbus-daemon")
    with private_bus() as address, SessionManagerDouble(address, inhibited=8) as manager:
        env = make_env({"DBUS_SESSION_BUS_ADDRESS": address}, **{**ONLY, "MEETINGS__FULLSCREEN": "true"})
        with Daemon(env) as daemon:
            assert "fullscreen: fullscreen (idle inhibitors)" in env.status()["busy_sources"]

            def stop_inhibiting() -> None:
                manager.inhibited = 0

            held_then_one_merged(env, daemon, "presenting or watching (an application asks GNOME to stay awake)",
                                 stop_inhibiting)


# --- the camera: a device node of the test's own ---------------------------------------------------


def test_a_camera_held_open_holds_reminders(make_env, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        cannot_run("making a character device node (the camera's stand-in) needs root")
    node = tmp_path / "video0"
    os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # the same device as /dev/null, by another name
    with open(node, "rb") as device:
        holder = subprocess.Popen(["sleep", "120"], stdin=device)
    try:
        env = make_env(**{**ONLY, "MEETINGS__CAMERA": "true"})
        env.env["ERGO_CAMERA_DEVICES"] = str(tmp_path / "video*")
        with Daemon(env) as daemon:
            held_then_one_merged(env, daemon, "in a call (camera in use by sleep)", holder.kill)
    finally:
        holder.kill()
        holder.wait()


# --- the calendar ---------------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _ics(*events: str) -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ergo tests//EN\r\n{body}END:VCALENDAR\r\n"


def _event(uid: str, summary: str, start: datetime, end: datetime, extra: str = "") -> str:
    lines = [f"UID:{uid}", f"DTSTAMP:{_stamp(start)}", f"SUMMARY:{summary}", f"DTSTART:{_stamp(start)}",
             f"DTEND:{_stamp(end)}"] + [line for line in extra.splitlines() if line.strip()]
    return "\r\n".join(lines)


def test_a_single_busy_event_holds_reminders_until_it_ends(make_env, tmp_path: Path) -> None:
    env = make_env(**{**ONLY, "MEETINGS__CALENDAR": f'["{tmp_path / "work.ics"}"]'}, **LATER)
    with Daemon(env) as daemon:  # the file comes once the daemon runs, so its end is 12 s after that
        now = datetime.now(timezone.utc)
        (tmp_path / "work.ics").write_text(_ics(_event("one@test", "Standup", now - timedelta(minutes=5),
                                                       now + timedelta(seconds=12))))
        held_then_one_merged(env, daemon, "in a meeting (Standup)", None)  # it ends by itself


def test_a_recurring_event_in_a_calendar_folder_holds_reminders(make_env, tmp_path: Path) -> None:
    folder = tmp_path / "synced"
    folder.mkdir()
    env = make_env(**{**ONLY, "MEETINGS__CALENDAR": f'["{folder}"]'}, **LATER)
    with Daemon(env) as daemon:  # the file comes once the daemon runs, so today's run ends 12 s after that
        now = datetime.now(timezone.utc)
        first = now - timedelta(days=3, minutes=5)  # three days ago, daily: today's runs over now
        (folder / "a1b2.ics").write_text(_ics(_event("daily@test", "Daily sync", first,
                                                     first + timedelta(minutes=5, seconds=12), "RRULE:FREQ=DAILY")))
        held_then_one_merged(env, daemon, "in a meeting (Daily sync)", None)


def test_a_calendar_is_read_again_when_it_changes(make_env, tmp_path: Path) -> None:
    """A sync that cancels the meeting (the file rewritten and renamed into place) ends the hold."""
    now = datetime.now(timezone.utc)
    path = tmp_path / "work.ics"
    path.write_text(_ics(_event("long@test", "Review", now - timedelta(minutes=5), now + timedelta(hours=1))))
    env = make_env(**{**ONLY, "MEETINGS__CALENDAR": f'["{path}"]'})

    def cancel() -> None:
        fresh = tmp_path / ".work.ics.new"
        fresh.write_text(_ics(_event("other@test", "Lunch", now + timedelta(hours=2), now + timedelta(hours=3))))
        os.replace(fresh, path)

    with Daemon(env) as daemon:
        held_then_one_merged(env, daemon, "in a meeting (Review)", cancel)


def test_all_day_and_free_events_do_not_hold(make_env, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    today = now.date().strftime("%Y%m%d")
    tomorrow = (now.date() + timedelta(days=1)).strftime("%Y%m%d")
    all_day = f"UID:day@test\r\nDTSTAMP:{_stamp(now)}\r\nSUMMARY:Conference\r\nDTSTART;VALUE=DATE:{today}\r\nDTEND;VALUE=DATE:{tomorrow}"
    free = _event("free@test", "Focus time", now - timedelta(hours=1), now + timedelta(hours=1), "TRANSP:TRANSPARENT")
    cancelled = _event("gone@test", "Cancelled sync", now - timedelta(hours=1), now + timedelta(hours=1),
                       "STATUS:CANCELLED")
    (tmp_path / "cal.ics").write_text(_ics(all_day, free, cancelled))
    env = make_env(**{**ONLY, "MEETINGS__CALENDAR": f'["{tmp_path / "cal.ics"}"]'})
    with Daemon(env):
        wait_for(lambda: env.db_deliveries(), 15, what="a reminder despite all-day and free events")
        assert _busy(env) is None
        assert any(line.startswith("calendar: calendar") for line in env.status()["busy_sources"])


# --- config ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "device", "too big"])
def test_a_calendar_path_that_is_no_file_is_refused_in_one_line(make_env, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "cal.ics"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    else:
        with open(path, "wb") as file:
            file.truncate(21 * 1024 * 1024)
    env = make_env()
    env.write_config(f'[meetings]\ncalendar = ["{path}"]\n')
    done = env.cli("config", "validate")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "meetings.calendar" in done.stderr and str(path) in done.stderr
