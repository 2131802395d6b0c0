"""Look-tests: a reminder with a break button, as a person sees it on dunst, xfce4-notifyd, notification-daemon
and mako. The real daemon sends it to the real server; a screenshot of the desktop (`import -window root`
under Xvfb, `grim` under a headless sway) is cropped, scaled 3x, greyed and read back with tesseract.

One Xvfb and one bus serve the module's X servers, each started and stopped in turn.
"""

from __future__ import annotations

import glob
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ergo.notify.buttons import ROW_BUDGET, fit, row_cost
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.dbus_doubles import private_bus
from tests.desktop import DesktopSession, _spawn, _stop, desktop_session, require_desktop_tools, require_tools
from tests.look import darkest, find_word, has_words, read, require_look_tools, screenshot, wayland_screenshot
from tests.wayland import headless_sway

WIDTH, HEIGHT = 1024, 768
TITLE = "Stretch break"
MESSAGE = "Roll your shoulders back and reach up slowly."
NOTIFICATION_DAEMON = "/usr/lib/notification-daemon/notification-daemon"
XFCE4_NOTIFYD = next(iter(sorted(glob.glob("/usr/lib/*/xfce4/notifyd/xfce4-notifyd"))), "xfce4-notifyd (package)")
#: a stretch reminder with a timed break: Done, Snooze 10 min, Skip and "Start 1 minute break"
REMINDER = {"POSTURE__ENABLED": "false", "HYDRATION__ENABLED": "false", "STRETCH__ENABLED": "true",
            "STRETCH__INTERVAL": "2s", "STRETCH__DURATION": "1m", "STRETCH__MESSAGES": json.dumps([MESSAGE]),
            "NOTIFIER": "auto"}


@pytest.fixture(scope="module")
def screen() -> Iterator[DesktopSession]:
    """One Xvfb (laptop-sized) and one private bus for the module; each test brings its own server."""
    require_desktop_tools()
    require_look_tools()
    with desktop_session(server="none", screen=f"{WIDTH}x{HEIGHT}x24") as desk:
        yield desk


def _serve(desk: DesktopSession, name: str, argv: list[str]) -> Callable[[], None]:
    """Start a notification server on the shared bus and display; returns how to stop it (name gone from the bus)."""
    proc = _spawn(name, argv, desk.child_env, desk.workdir)
    desk.processes[name] = proc
    wait_for(lambda: desk.server_pid() == proc.pid or proc.poll() is not None, 10, what=f"{name} on the bus")
    assert proc.poll() is None, (desk.workdir / f"{name}.log").read_text(errors="replace")

    def stop() -> None:
        _stop(desk.processes.pop(name))
        wait_for(lambda: desk.server_pid() is None, 5, what=f"{name} to leave the bus")

    return stop


@contextmanager
def _reminder(desk: DesktopSession, tmp: Path, box: tuple[int, int, int, int], *, negate: bool = False
              ) -> Iterator[tuple[ErgoEnv, dict, str, Path]]:
    """Let the real daemon deliver one stretch reminder; yield once its title can be read in `box`."""
    before = len(desk.notifications())  # the module's bus has seen other tests' reminders
    with ErgoEnv.create(desk.env, **REMINDER) as env, Daemon(env) as daemon:
        wait_for(lambda: daemon.delivered(), 10, what="a delivered reminder")
        env.cli("pause", "1h")  # no second bubble on top of the one being read
        note = [n for n in desk.notifications(count=before + 1)[before:] if n["id"] is not None][0]
        shot = tmp / "desktop.png"
        text = _look(lambda: screenshot(desk.full_env(), shot), box, negate)
        yield env, note, text, shot


def _look(take: Callable[[], Path], box: tuple[int, int, int, int], negate: bool) -> str:
    """Screenshot and read until the title shows (a server draws a moment after it answered), at most 10 s."""
    deadline = time.monotonic() + 10
    while True:
        text = read(take(), box, negate=negate)
        if has_words(text, TITLE) or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def _click(desk: DesktopSession, where: tuple[int, int] | None) -> None:
    assert where is not None, "the word to click was not found on the screen"
    subprocess.run(["xdotool", "mousemove", str(where[0]), str(where[1]), "click", "1"], env=desk.full_env(), check=True,
                   timeout=10)


def _labels(note: dict) -> list[str]:
    """The button labels sent (the `default` action's empty label is a click on the bubble, never drawn)."""
    actions = note["actions"]
    return [label for label in actions[1::2] if label]


def _assert_whole(text: str, labels: list[str], shot: Path) -> None:
    assert has_words(text, TITLE), f"title not readable in {shot}:\n{text}"
    assert has_words(text, "Roll your shoulders back"), f"body cut or unreadable in {shot}:\n{text}"
    for label in labels:
        assert has_words(text, label), f"button {label!r} cut or missing in {shot}:\n{text}"
    dones = [w for w in text.split() if w.strip(".,|[]()").lower() == "done"]
    wanted = 1 if labels else 0  # a server that draws buttons shows exactly one Done
    assert len(dones) == wanted, f"{len(dones)} Done (not {wanted}) in {shot}:\n{text}"


# --- the pure rule ----------------------------------------------------------------------------------


def test_a_narrow_row_gets_short_labels_then_fewer_buttons_and_other_servers_everything() -> None:
    actions = (("default", ""), ("done", "Done"), ("snooze", "Snooze 10 min"), ("skip", "Skip"),
               ("start", "Start 1 minute break"))
    short = {"snooze": "Snooze", "start": "1 min break"}
    assert fit(actions, "Xfce Notify Daemon", short) == actions and fit(actions, "mako", short) == actions
    # dunst's menu lists the default action by its label: it becomes the one Done there
    assert fit(actions, "dunst", short) == (("default", "Done"),) + actions[2:]
    narrow = fit(actions, "Notification Daemon", short)
    assert narrow == (("default", ""), ("done", "Done"), ("snooze", "Snooze 10 min"), ("start", "1 min break"))
    assert row_cost(narrow) <= ROW_BUDGET["Notification Daemon"]
    three = actions[:4]
    assert fit(three, "Notification Daemon", short) == three  # no break button: all three fit as they are
    long_break = actions[:4] + (("start", "Start 10 minutes 30 seconds break"),)
    fitted = fit(long_break, "Notification Daemon", {**short, "start": "10 min 30 s break"})
    assert [k for k, _ in fitted] == ["default", "done", "snooze", "start"] and dict(fitted)["snooze"] == "Snooze"


# --- X11 servers under one Xvfb ---------------------------------------------------------------------


@pytest.mark.desktop
@pytest.mark.slow
def test_notification_daemon_shows_the_reminder_whole_and_a_click_on_it_is_done(screen: DesktopSession,
                                                                                tmp_path: Path) -> None:
    """GNOME's notification-daemon: one row in a 400 px bubble at the top right; the close box is its last thing."""
    require_tools(NOTIFICATION_DAEMON, "xdotool")
    stop = _serve(screen, "notification-daemon", [NOTIFICATION_DAEMON, "--replace"])
    try:
        box = (WIDTH - 420, 0, 420, 160)
        with _reminder(screen, tmp_path, box) as (env, note, text, shot):
            _assert_whole(text, _labels(note), shot)
            assert any("break" in label for label in _labels(note)), "the break button went"
            # the close box: a dark cross in the bubble's top right corner (gone when the row is too wide)
            assert darkest(shot, (WIDTH - 40, 20, 28, 28)) < 0.45, f"no close box in {shot}"
            # a click on the bubble's text (no button there) is its default action: the reminder counts as done
            _click(screen, find_word(shot, box, "shoulders"))
            rows = wait_for(lambda: [r for r in env.history() if r["outcome"] == "done"], 5, what="Done by a click")
            assert rows[0]["via"] == "button"
    finally:
        stop()


@pytest.mark.desktop
@pytest.mark.slow
def test_xfce4_notifyd_shows_one_done_button_that_counts(screen: DesktopSession, tmp_path: Path) -> None:
    require_tools(XFCE4_NOTIFYD, "xdotool")
    stop = _serve(screen, "xfce4-notifyd", [XFCE4_NOTIFYD])
    try:
        box = (WIDTH - 640, 0, 640, 160)
        with _reminder(screen, tmp_path, box) as (env, note, text, shot):
            _assert_whole(text, _labels(note), shot)
            assert has_words(text, "Start 1 minute break") and has_words(text, "Skip")  # room for every button
            # xfce4-notifyd runs no action on a click on the bubble (it closes it): its one Done button counts
            _click(screen, find_word(shot, box, "Done"))
            rows = wait_for(lambda: [r for r in env.history() if r["outcome"] == "done"], 5, what="Done by its button")
            assert rows[0]["via"] == "button"
    finally:
        stop()


@pytest.mark.desktop
@pytest.mark.slow
def test_dunst_shows_the_reminder_whole(screen: DesktopSession, tmp_path: Path) -> None:
    """dunst draws no buttons (they wait in its context menu); title and body must still be whole."""
    screen.start_server()
    try:
        box = (WIDTH - 360, 0, 360, 160)
        with _reminder(screen, tmp_path, box, negate=True) as (_env, _note, text, shot):
            _assert_whole(text, [], shot)
    finally:
        screen.kill_server()


# --- mako under a headless sway ---------------------------------------------------------------------


@pytest.mark.desktop
@pytest.mark.slow
def test_mako_shows_the_reminder_whole() -> None:
    require_tools("mako", "grim", "dbus-daemon", "tesseract")
    with headless_sway() as sway, private_bus() as bus:
        desktop = {**sway.env(), "DBUS_SESSION_BUS_ADDRESS": bus}
        with ErgoEnv.create(desktop, **REMINDER) as env:
            log = open(env.root / "mako.log", "wb")
            mako = subprocess.Popen(["mako"], env={**env.env, "XDG_CONFIG_HOME": str(env.root / "config")},
                                    stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            try:
                wait_for(lambda: _owner(bus) or mako.poll() is not None, 10, what="mako on the bus")
                assert mako.poll() is None, (env.root / "mako.log").read_text(errors="replace")
                with Daemon(env) as daemon:
                    wait_for(lambda: daemon.delivered(), 10, what="a delivered reminder")
                    env.cli("pause", "1h")
                    shot = env.root / "mako.png"
                    width = int(subprocess.run(["convert", str(wayland_screenshot(sway.env(), shot)), "-format", "%w",
                                                "info:"], capture_output=True, text=True, check=True).stdout)
                    box = (width - 400, 0, 400, 200)
                    text = _look(lambda: wayland_screenshot(sway.env(), shot), box, True)
                    try:
                        _assert_whole(text, [], shot)
                        # mako's left click and `makoctl invoke` run the default action (a headless sway has no
                        # pointer to click with): the reminder counts as done
                        subprocess.run(["makoctl", "invoke"], env=env.env, check=True, timeout=10)
                        rows = wait_for(lambda: [r for r in env.history() if r["outcome"] == "done"], 5,
                                        what="Done by a click")
                        assert rows[0]["via"] == "button"
                    except AssertionError as error:
                        said = (env.root / "mako.log").read_text()[-1500:]
                        raise AssertionError(f"{error}\nmako said: {said}\nergo said: {daemon.stderr()[:6000]}") from None
            finally:
                mako.terminate()
                mako.wait(timeout=5)
                log.close()


def _owner(bus: str) -> bool:
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection(bus=bus) as conn:
        reply = conn.send_and_get_reply(message_bus.NameHasOwner("org.freedesktop.Notifications"), timeout=3)
        return bool(reply.body[0])
