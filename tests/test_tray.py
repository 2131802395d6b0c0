"""`ergo tray` against real tray hosts: Debian's trayer (XEmbed) under Xvfb, and a StatusNotifierWatcher
test double (no SNI host that runs headless is packaged; the double is named as such and plays the host).

Each test runs a real daemon and the real `python -m ergo tray` process; menus are driven the way a
user does it (xdotool clicks on the X11 popup; dbusmenu "clicked" events from the host).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import DBusConnection

from ergo.tray.model import pixmap, view
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.dbus_doubles import ServiceDouble, private_bus
from tests.desktop import DesktopSession, require_tools

CALM = {"POSTURE__INTERVAL": "20m", "HYDRATION__INTERVAL": "30m"}
ROW = 18  # ergo.tray.xembed.ROW: menu row height in pixels


class Tray:
    """`python -m ergo tray` as a child, its log captured."""

    def __init__(self, env: dict[str, str], root: Path, *args: str) -> None:
        self.log = root / "tray.log"
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "ergo", "tray", *args], env=env, stdout=out, stderr=out,
                                         stdin=subprocess.DEVNULL)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)  # ends when the tray exits; long for a loaded machine


# --- XEmbed: a real trayer under Xvfb ---------------------------------------------------------------


def x(env: dict[str, str], *argv: str) -> str:
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=True, timeout=10).stdout


def ergo_window(env: dict[str, str]) -> tuple[str, str, int, int] | None:
    """(window id, name, absolute x, y) of the tray icon window, from `xwininfo -root -tree`."""
    for line in x(env, "xwininfo", "-root", "-tree").splitlines():
        match = re.match(r'\s*(0x[0-9a-f]+) "(ergo(?:: | off)[^"]*)": .* (\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)', line)
        if match:
            return match[1], match[2], int(match[5]), int(match[6])
    return None


def settled_icon(env: dict[str, str]) -> tuple[str, str, int, int]:
    """The icon window once the panel has laid it out: the same place in two reads in a row."""
    seen: list[object] = []

    def still() -> bool:
        seen.append(ergo_window(env))
        return seen[-1] is not None and len(seen) >= 2 and seen[-1] == seen[-2]

    wait_for(still, 30, what="the icon to stay in place")
    return seen[-1]  # type: ignore[return-value]


def docked_icon(env: dict[str, str], name: str = "") -> tuple[str, str, int, int]:
    """The icon, once it is in the panel (its name starting with `name`) and laid out there: where a click
    reaches it. Before that a click lands on the root window or where the icon no longer is, and no menu
    ever opens (the flake of a loaded machine: the tray docks late, the click was too early)."""
    wait_for(lambda: (w := ergo_window(env)) and w[1].startswith(name) and "panel" in parent_chain(env, w[0])
             and docked(env, w[0]), timeout=30, what=f"the icon {name!r} in the panel, shown")
    return settled_icon(env)


def parent_chain(env: dict[str, str], window: str) -> list[str]:
    """Names of the window's ancestors, nearest first ("" for unnamed ones), up to the root."""
    names = []
    while True:
        text = x(env, "xwininfo", "-children", "-id", window)
        match = re.search(r'Parent window id: (0x[0-9a-f]+)(?: "([^"]*)")?(.*)', text)
        if not match or match[1] == "0x0" or "(the root window)" in match[3]:
            return names
        window = match[1]
        names.append(match[2] or "")


def docked(env: dict[str, str], window: str) -> bool:
    """The icon window is inside the panel and mapped there (viewable): it takes clicks."""
    return bool(parent_chain(env, window)) and "IsViewable" in x(env, "xwininfo", "-id", window)


@pytest.fixture
def trayer(desktop: DesktopSession) -> Iterator[subprocess.Popen[bytes]]:
    require_tools("trayer", "xwininfo", "xprop", "xdotool")
    proc = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "100",
                             "--height", "24", "--SetDockType", "false"], env=desktop.full_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = desktop.full_env()
    wait_for(lambda: "_NET_SYSTEM_TRAY_S0" in x(env, "xprop", "-root") or _tray_owned(env), timeout=10,
             what="trayer to own the system tray selection")
    yield proc
    proc.terminate()
    proc.wait(timeout=5)


def _tray_owned(env: dict[str, str]) -> bool:
    from ergo.tray.xembed import probe

    saved = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = env["DISPLAY"]
    try:
        return probe() is None
    finally:
        if saved is not None:
            os.environ["DISPLAY"] = saved


def test_the_icon_embeds_in_trayer_its_menu_pauses_and_it_survives_a_daemon_restart(
        desktop: DesktopSession, trayer: subprocess.Popen[bytes]) -> None:
    with ErgoEnv.create(desktop.full_env(), **CALM) as env:
        env.env["DISPLAY"] = desktop.env["DISPLAY"]
        xenv = desktop.full_env()
        with Daemon(env) as daemon:
            tray = Tray(env.env, env.root, "--backend", "xembed")
            try:
                wait_for(lambda: (w := ergo_window(xenv)) and w[1] == "ergo: posture in 20 min",
                         timeout=30, what="the icon window with the status as its name")
                # embedded: reparented out of the root into trayer's panel (through trayer's socket window)
                window, _name, left, top = docked_icon(xenv, "ergo: posture in 20 min")
                assert "reparented into" in tray.text()
                assert "_XEMBED_INFO(_XEMBED_INFO) = 0x0, 0x1" in x(xenv, "xprop", "-id", window, "_XEMBED_INFO")
                # the menu: click the icon, then the "Pause 30 min" row
                x(xenv, "xdotool", "mousemove", str(left + 11), str(top + 11), "click", "1")
                menu = wait_for(lambda: re.search(r'(0x[0-9a-f]+) "ergo menu".*\+(\d+)\+(\d+)\s*$',
                                                  x(xenv, "xwininfo", "-root", "-tree"), re.M), timeout=30,
                                what="the popup menu")
                labels = [item.label for item in view(daemon.status(), datetime.now(UTC)).items]
                row = labels.index("Pause 30 min")
                x(xenv, "xdotool", "mousemove", str(int(menu[2]) + 20), str(int(menu[3]) + row * ROW + ROW // 2), "click", "1")
                wait_for(lambda: daemon.status()["paused"], timeout=30, what="the daemon to be paused from the menu")
                until = datetime.fromisoformat(daemon.status()["paused_until"])
                assert abs((until - datetime.now(UTC)) - timedelta(minutes=30)) < timedelta(seconds=10)
                wait_for(lambda: (w := ergo_window(xenv)) and w[1] == "ergo: paused 30 min", timeout=30,
                         what="the icon to show the pause")
                env.cli("resume")
                assert daemon.terminate() == 0
                wait_for(lambda: (w := ergo_window(xenv)) and w[1] == "ergo off", timeout=30,
                         what="the icon to show that ergo stopped")
                with Daemon(env, name="second") as second:
                    wait_for(lambda: (w := ergo_window(xenv)) and w[1] == "ergo: posture in 20 min", timeout=30,
                             what="the icon to follow the restarted daemon")
                    assert tray.proc.poll() is None
                    assert second.alive()
            finally:
                assert tray.close() == 0, tray.text()


def test_a_tray_started_before_the_panel_docks_once_the_panel_comes(desktop: DesktopSession) -> None:
    require_tools("trayer", "xwininfo")
    with ErgoEnv.create(desktop.full_env(), **CALM) as env:
        xenv = desktop.full_env()
        tray = Tray(env.env, env.root, "--backend", "xembed", "--wait", "30")  # as `service install --tray` writes it
        panel = None
        try:
            wait_for(lambda: "trying again" in tray.text(), timeout=10, what="the tray to wait for a panel")
            panel = subprocess.Popen(["trayer", "--edge", "top", "--width", "10", "--SetDockType", "false"], env=xenv,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            window = wait_for(lambda: ergo_window(xenv), timeout=10, what="the icon")[0]
            wait_for(lambda: "panel" in parent_chain(xenv, window), timeout=5, what="the icon to embed")
        finally:
            assert tray.close() == 0, tray.text()
            if panel is not None:
                panel.terminate()
                panel.wait(timeout=5)


def test_quit_tray_from_the_menu_ends_the_process(desktop: DesktopSession, trayer: subprocess.Popen[bytes]) -> None:
    with ErgoEnv.create(desktop.full_env(), **CALM) as env:
        xenv = desktop.full_env()
        tray = Tray(env.env, env.root, "--backend", "xembed")  # no daemon: the "ergo off" menu
        try:
            # clicked only once docked and shown: a click before trayer maps the icon goes to the panel
            window, name, left, top = docked_icon(xenv)
            assert name == "ergo off"
            x(xenv, "xdotool", "mousemove", str(left + 11), str(top + 11), "click", "1")
            menu = wait_for(lambda: re.search(r'"ergo menu".*\+(\d+)\+(\d+)\s*$', x(xenv, "xwininfo", "-root", "-tree"), re.M),
                            timeout=30, what="the popup menu")
            labels = [item.label for item in view(None, datetime.now(UTC)).items]
            x(xenv, "xdotool", "mousemove", str(int(menu[1]) + 20),
              str(int(menu[2]) + labels.index("Quit tray") * ROW + ROW // 2), "click", "1")
            assert tray.proc.wait(timeout=30) == 0
            assert "quit from the menu" in tray.text()
        finally:
            tray.close()


# --- StatusNotifierItem: a watcher test double on a private bus ---------------------------------


class StatusNotifierWatcherDouble(ServiceDouble):
    """Test double of org.kde.StatusNotifierWatcher: records registrations and reads items like a host."""

    def __init__(self, address: str) -> None:
        super().__init__(address, "org.kde.StatusNotifierWatcher")
        self.items: list[tuple[str, str]] = []  # (sender, service argument)
        self.handle("org.kde.StatusNotifierWatcher", "RegisterStatusNotifierItem", self._register)

    def _register(self, msg: Any) -> tuple[str | None, tuple[Any, ...]]:
        from jeepney import HeaderFields

        self.items.append((str(msg.header.fields[HeaderFields.sender]), str(msg.body[0])))
        return None, ()

    def ask(self, path: str, interface: str, member: str, signature: str | None = None, body: tuple = ()) -> tuple:
        """Call the registered item like a host does; returns the reply body."""
        service = self.items[-1][1]

        def go(conn: DBusConnection) -> tuple:
            reply = conn.send_and_get_reply(new_method_call(DBusAddress(path, service, interface), member, signature, body),
                                            timeout=3)
            return tuple(reply.body)

        return self.run(go)

    def prop(self, name: str) -> Any:
        (value,) = self.ask("/StatusNotifierItem", "org.freedesktop.DBus.Properties", "Get", "ss",
                            ("org.kde.StatusNotifierItem", name))
        return value[1]

    def layout(self) -> list[tuple[int, str]]:
        _revision, (_root, _props, children) = self.ask("/MenuBar", "com.canonical.dbusmenu", "GetLayout", "iias",
                                                        (0, -1, []))
        return [(child[1][0], child[1][1].get("label", ("s", ""))[1]) for child in children]

    def click(self, label: str) -> None:
        item_id = next(i for i, text in self.layout() if text == label)
        self.ask("/MenuBar", "com.canonical.dbusmenu", "Event", "isvu", (item_id, "clicked", ("s", ""), 0))


def test_sni_registers_shows_the_status_and_its_menu_steers_the_daemon() -> None:
    require_tools("dbus-daemon")
    with private_bus() as address, ErgoEnv.create({"DBUS_SESSION_BUS_ADDRESS": address}, **CALM) as env:
        with StatusNotifierWatcherDouble(address) as host, Daemon(env) as daemon:
            tray = Tray(env.env, env.root)  # auto: a watcher runs, so SNI
            try:
                wait_for(lambda: host.items, timeout=10, what="the item to register with the watcher")
                assert host.items[0][1].startswith("org.kde.StatusNotifierItem-")
                wait_for(lambda: host.prop("ToolTip")[2] == "ergo: posture in 20 min", timeout=5, what="the tooltip")
                assert "hydration in 30 min" in host.prop("ToolTip")[3]
                assert host.prop("Menu") == "/MenuBar" and host.prop("Status") == "Active"
                icons = host.prop("IconPixmap")
                assert [(w, h) for w, h, _ in icons] == [(16, 16), (22, 22), (32, 32)]
                assert all(len(data) == 4 * w * h for w, h, data in icons)
                labels = [label for _, label in host.layout()]
                assert "Break now: posture" in labels and "Pause 1 hour" in labels and "Quit tray" in labels
                host.click("Pause 1 hour")
                wait_for(lambda: daemon.status()["paused"], timeout=5, what="the pause from the SNI menu")
                wait_for(lambda: host.prop("ToolTip")[2] == "ergo: paused 1 h", timeout=5, what="the paused tooltip")
                host.click("Resume")
                wait_for(lambda: not daemon.status()["paused"], timeout=5, what="resume from the SNI menu")
                host.click("Break now: hydration")
                wait_for(lambda: daemon.status()["reminders"]["hydration"]["last_fired"], timeout=5,
                         what="a hydration break from the menu")
                assert "sni: StatusNotifierItem" in tray.text()
            finally:
                assert tray.close() == 0, tray.text()


def test_sni_registers_again_when_the_watcher_restarts() -> None:
    require_tools("dbus-daemon")
    with private_bus() as address, ErgoEnv.create({"DBUS_SESSION_BUS_ADDRESS": address}, **CALM) as env:
        with StatusNotifierWatcherDouble(address) as first:
            tray = Tray(env.env, env.root, "--backend", "sni")
            try:
                wait_for(lambda: first.items, timeout=10, what="the first registration")
            except BaseException:
                tray.close()
                raise
        try:
            with StatusNotifierWatcherDouble(address) as second:  # the panel came back
                wait_for(lambda: second.items, timeout=5, what="registration with the new watcher")
                wait_for(lambda: second.prop("ToolTip")[2] == "ergo off", timeout=5, what="the tooltip")
        finally:
            assert tray.close() == 0, tray.text()


def test_without_any_tray_host_the_tray_says_why_in_one_line() -> None:
    with ErgoEnv.create() as env:
        done = env.cli("tray")
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("ergo: no tray to show an icon in (sni: no session bus") and "xembed: DISPLAY is not set" in line


# --- the pure model ---------------------------------------------------------------------------------


def _status(paused: bool = False) -> dict[str, Any]:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    entry = {"enabled": True, "interval": "20m", "interval_seconds": 1200, "next_due": (now + timedelta(minutes=12)).isoformat(),
             "snoozed_until": None, "last_fired": None, "held": "paused" if paused else None, "resumes_at": None}
    return {"running": True, "now": now.isoformat(), "paused": paused, "paused_until": None, "hold": "paused" if paused else None,
            "reminders": {"posture": entry, "stretch": {**entry, "enabled": False}}}


def test_menu_offers_breaks_per_enabled_kind_and_resume_only_when_paused() -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    running = view(_status(), now)
    labels = {item.label: item for item in running.items}
    assert running.title == "posture in 12 min" and running.state == "running"
    assert "Break now: posture" in labels and "Break now: stretch" not in labels
    assert not labels["Resume"].enabled and labels["Snooze posture 10 min"].enabled
    paused = {item.label: item for item in view(_status(paused=True), now).items}
    assert paused["Resume"].enabled
    stopped = [item.label for item in view(None, now).items]
    assert stopped[0] == "ergo off" and "Start ergo" in stopped and "Break now: posture" not in stopped


def test_icon_pixmaps_are_a_disc_or_a_ring() -> None:
    disc, ring = pixmap((255, 0, 0), 16), pixmap((255, 0, 0), 16, ring=True)
    centre = (8 * 16 + 8) * 4
    assert disc[centre:centre + 4] == b"\xff\xff\x00\x00"  # opaque red, ARGB
    assert ring[centre:centre + 4] == b"\0\0\0\0"  # hollow: paused or held
    assert disc[0:4] == b"\0\0\0\0"  # the corner is transparent


def test_todays_stats_opens_the_stats_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from ergo.tray.actions import perform
    from ergo.tray.model import Action

    with ErgoEnv.create(**CALM) as env:
        for key in ("ERGO_CONFIG", "ERGO_STATE_DIR", "ERGO_RUNTIME_DIR"):
            monkeypatch.setenv(key, env.env[key])
        monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # no xdg-open: the tray says where the file is
        target = env.runtime_dir / "today.txt"
        assert perform(Action("open_stats")) == f"no xdg-open here: read {target}"
        text = target.read_text()
        assert text.splitlines()[0] == "$ ergo stats --day" and "kind" in text and "Traceback" not in text
        assert perform(Action("pause", (("minutes", 30),))).startswith("pause: not running")


def test_edit_config_creates_the_documented_file_and_opens_it_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tray has no terminal for $EDITOR: it hands the file to the desktop's opener (absent here: it says where)."""
    from ergo.tray.actions import perform
    from ergo.tray.model import Action

    with ErgoEnv.create(**CALM) as env:
        for key in ("ERGO_CONFIG", "ERGO_STATE_DIR", "ERGO_RUNTIME_DIR"):
            monkeypatch.setenv(key, env.env[key])
        monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
        config = Path(env.env["ERGO_CONFIG"])
        config.unlink(missing_ok=True)
        assert perform(Action("edit_config")) == f"no xdg-open here: read {config}"
        assert "[posture]" in config.read_text()  # the documented default file, from `ergo config init`
        config.write_text('[posture]\ninterval = "20m"  # mine\n')
        assert perform(Action("edit_config")) == f"no xdg-open here: read {config}"
        assert "# mine" in config.read_text()  # an existing file is opened as it is


def test_the_icon_docks_again_when_the_panel_restarts_and_hovering_shows_the_tooltip(
        desktop: DesktopSession, trayer: subprocess.Popen[bytes]) -> None:
    with ErgoEnv.create(desktop.full_env(), **CALM) as env:
        xenv = desktop.full_env()
        with Daemon(env):
            tray = Tray(env.env, env.root, "--backend", "xembed")
            second = None
            try:
                wait_for(lambda: (w := ergo_window(xenv)) and "posture" in w[1] and "panel" in parent_chain(xenv, w[0]),
                         timeout=10, what="the icon, docked")
                window, _name, left, top = settled_icon(xenv)  # where trayer put it, not where it was
                x(xenv, "xdotool", "mousemove", str(left + 11), str(top + 11))
                wait_for(lambda: '"ergo tooltip"' in x(xenv, "xwininfo", "-root", "-tree"), timeout=5,
                         what="the tooltip window on hover")
                x(xenv, "xdotool", "mousemove", "5", "400")
                wait_for(lambda: '"ergo tooltip"' not in x(xenv, "xwininfo", "-root", "-tree"), timeout=5,
                         what="the tooltip to go when the pointer leaves")
                trayer.terminate()  # the panel goes away (the icon window survives, back on the root) ...
                trayer.wait(timeout=5)
                second = subprocess.Popen(["trayer", "--edge", "bottom", "--width", "10", "--SetDockType", "false"],
                                          env=xenv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                # ... and a new one announces itself (MANAGER): the icon asks to be docked again
                wait_for(lambda: tray.text().count("asked the system tray") >= 2, timeout=10, what="a second dock request")
                window = wait_for(lambda: ergo_window(xenv), timeout=5, what="the icon")[0]
                wait_for(lambda: "panel" in parent_chain(xenv, window), timeout=5, what="the icon in the new panel")
                assert tray.proc.poll() is None
            finally:
                assert tray.close() == 0, tray.text()
                if second is not None:
                    second.terminate()
                    second.wait(timeout=5)


def test_the_tray_names_ergo_once() -> None:
    """Issue 17: never "ergo: ergo off"; a glance that does not say ergo gets the name in front."""
    from ergo.tray.model import TrayView

    assert TrayView("stopped", "ergo off", "").window_title == "ergo off"
    assert TrayView("running", "posture in 20 min", "").window_title == "ergo: posture in 20 min"
    assert TrayView("refused", "ergo: not your daemon", "").window_title == "ergo: not your daemon"
