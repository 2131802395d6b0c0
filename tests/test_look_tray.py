"""Look-tests: the tray icon, its tooltip and its menu as a person sees them in real tray hosts.

trayer and tint2 (under openbox) on one Xvfb; waybar's tray (StatusNotifierItem) under a headless sway.
The real daemon runs, the real `python -m ergo tray` docks, xdotool (or a virtual Wayland pointer) hovers
and clicks; a screenshot is cropped to the tooltip or menu window (its place from xwininfo), scaled 3x,
greyed and read back with tesseract.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ergo.tray.model import COLOURS, view
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.dbus_doubles import private_bus
from tests.desktop import DesktopSession, desktop_session, require_tools
from tests.look import find_word, has_words, mean, read, require_look_tools, screenshot, wayland_screenshot
from tests.test_tray import CALM, Tray, ergo_window, parent_chain, settled_icon, x
from tests.wayland import headless_sway
from tests.wayland_pointer import BUTTON_RIGHT, VirtualPointer

BoxT = tuple[int, int, int, int]


@pytest.fixture(scope="module")
def screen() -> Iterator[DesktopSession]:
    """One Xvfb and bus for the module (no notification server: the reminders here are 20 min away)."""
    require_tools("Xvfb", "dbus-daemon", "xwininfo", "xdotool", "xprop")
    require_look_tools()
    from Xlib import display

    with desktop_session(server="none", screen="1024x768x24") as desk:
        keeper = display.Display(desk.env["DISPLAY"])  # Xvfb resets (dropping X resources) when its last client goes
        try:
            yield desk
        finally:
            keeper.close()


def _window(env: dict[str, str], name: str) -> BoxT | None:
    """(x, y, w, h) of the top-level window called `name`, from xwininfo."""
    match = re.search(rf'"{re.escape(name)}":.*?(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)',
                      x(env, "xwininfo", "-root", "-tree"))
    return (int(match[3]), int(match[4]), int(match[1]), int(match[2])) if match else None


def _panel(desk: DesktopSession, argv: list[str], name: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, env=desk.full_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: _selection(desk) or proc.poll() is not None, 10, what=f"{name} to own the system tray")
    assert proc.poll() is None, f"{name} exited"
    return proc


def _selection(desk: DesktopSession) -> bool:
    from Xlib import X, display

    d = display.Display(desk.env["DISPLAY"])
    try:
        return d.get_selection_owner(d.intern_atom("_NET_SYSTEM_TRAY_S0")) != X.NONE
    finally:
        d.close()


def _look_at_tray(desk: DesktopSession, tmp: Path, *, dark: bool = False, icons: bool = True,
                  settings: dict[str, str] = CALM) -> dict[str, str]:
    """Dock the tray with a daemon running: read the tooltip, the menu, and (icons) the icon in three states."""
    env_x = desk.full_env()
    found: dict[str, str] = {}
    with ErgoEnv.create(desk.full_env(), **settings) as env, Daemon(env) as daemon:
        tray = Tray(env.env, env.root, "--backend", "xembed")
        try:
            wait_for(lambda: (w := ergo_window(env_x)) and "posture " in w[1] and parent_chain(env_x, w[0]), 10,
                     what="the icon, docked, with the status")
            _id, _name, left, top = settled_icon(env_x)
            shown = view(daemon.status(), datetime.now(UTC))
            # the tooltip, on hover
            x(env_x, "xdotool", "mousemove", str(left + 11), str(top + 11))
            tip = wait_for(lambda: _window(env_x, "ergo tooltip"), 5, what="the tooltip window")
            shot = _settled(env_x, tmp / "tooltip.png", tip)
            found["tooltip"] = read(shot, _pad(tip), negate=dark)
            found["tooltip_mean"] = str(mean(shot, tip))
            for line in shown.tooltip.splitlines():
                assert has_words(found["tooltip"], line), f"tooltip {line!r} unreadable in {shot}:\n{found['tooltip']}"
            # the menu, on a click
            x(env_x, "xdotool", "mousemove", str(left + 11), str(top + 11), "click", "1")
            menu = wait_for(lambda: _window(env_x, "ergo menu"), 5, what="the menu window")
            shot = _settled(env_x, tmp / "menu.png", menu)
            found["menu"] = read(shot, _pad(menu), negate=dark)
            found["menu_mean"] = str(mean(shot, menu))
            for item in shown.items:
                if item.label and item.enabled and item.action is not None:
                    assert has_words(found["menu"], item.label), f"{item.label!r} unreadable in {shot}:\n{found['menu']}"
            # greyed entries (the heading, Resume while not paused): dimmer, still readable
            greyed = [read(shot, _pad(menu), negate=dark, threshold=t, crisp=c) for t, c in ((60, True), (75, False))]
            for item in shown.items:
                if item.label and not (item.enabled and item.action is not None):
                    assert any(has_words(g, item.label) for g in greyed), f"{item.label!r} unreadable in {shot}:\n{greyed}"
            x(env_x, "xdotool", "key", "Escape", "mousemove", "5", "700", "click", "1")  # close the menu
            wait_for(lambda: _window(env_x, "ergo menu") is None, 5, what="the menu to close")
            if not icons:
                return found
            # every icon state a daemon can be put in here (held needs an idle or locked session): the disc or
            # ring in its colour, on the panel's own background (never a black box)
            _icon_state(env_x, tmp, shown.state, left, top)
            env.cli("pause", "30m")
            wait_for(lambda: (w := ergo_window(env_x)) and "paused" in w[1], 5, what="the paused icon")
            _icon_state(env_x, tmp, "paused", left, top)
            env.cli("resume")
            daemon.terminate()
            wait_for(lambda: (w := ergo_window(env_x)) and "ergo off" in w[1], 5, what="the stopped icon")
            _icon_state(env_x, tmp, "stopped", left, top)
        finally:
            assert tray.close() == 0, tray.text()
    return found


def _settled(env: dict[str, str], path: Path, box: BoxT) -> Path:
    """A screenshot once the window has been drawn (two shots of it in a row alike), at most 3 s."""
    deadline = time.monotonic() + 3
    last = None
    while True:
        screenshot(env, path)
        now = mean(path, box)
        if last is not None and abs(now - last) < 1e-6 or time.monotonic() > deadline:
            return path
        last = now
        time.sleep(0.1)


def _pad(box: BoxT, by: int = 6) -> BoxT:
    x0, y0, w, h = box
    return (max(0, x0 - by), max(0, y0 - by), w + 2 * by, h + 2 * by)


def _icon_state(env: dict[str, str], tmp: Path, state: str, left: int, top: int) -> None:
    shot = _settled(env, tmp / f"icon-{state}.png", (left, top, 22, 22))
    r, g, b = COLOURS[state]
    disc = state in ("running", "due-soon")
    colour = _pixel(shot, left + 11, top + 11) if disc else _ring_pixel(shot, left, top, (r, g, b))
    assert colour is not None and _close(colour, (r, g, b)), f"{state}: the icon is not {COLOURS[state]} in {shot}"
    corner = _pixel(shot, left + 1, top + 1)
    panel = _pixel(shot, left - 3 if left >= 3 else left + 25, top + 11)  # just beside the icon: the panel itself
    assert _close(corner, panel, 40), f"{state}: the icon's corner {corner} is not the panel's {panel} in {shot}"


def _pixel(png: Path, px: int, py: int) -> tuple[int, int, int]:
    done = subprocess.run(["convert", str(png), "-crop", f"1x1+{px}+{py}", "+repage", "-depth", "8", "txt:-"],
                          capture_output=True, text=True, check=True)
    match = re.search(r"\((\d+),(\d+),(\d+)", done.stdout.splitlines()[-1])
    assert match, done.stdout
    return int(match[1]), int(match[2]), int(match[3])


def _ring_pixel(png: Path, left: int, top: int, want: tuple[int, int, int]) -> tuple[int, int, int] | None:
    """Along the icon's middle row, the pixel nearest in colour to `want` (the ring crosses it twice)."""
    pixels = [_pixel(png, left + dx, top + 11) for dx in range(1, 21)]
    return min(pixels, key=lambda p: sum(abs(a - b) for a, b in zip(p, want)))


def _close(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 24) -> bool:
    return all(abs(p - q) <= tolerance for p, q in zip(a, b))


TRAYER = ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "100", "--height", "24",
          "--SetDockType", "false"]


# --- the hosts --------------------------------------------------------------------------------------


@pytest.mark.desktop
@pytest.mark.slow
def test_trayer_menu_tooltip_and_icon_are_readable(screen: DesktopSession, tmp_path: Path) -> None:
    require_tools("trayer")
    panel = _panel(screen, TRAYER, "trayer")
    try:
        # the next reminder under 2 minutes away: the amber "due soon" disc (tint2's test has the green one)
        found = _look_at_tray(screen, tmp_path, settings={**CALM, "POSTURE__INTERVAL": "100s"})
        assert float(found["menu_mean"]) > 0.6, "no theme given: the menu is light (sane default)"
    finally:
        panel.terminate()
        panel.wait(timeout=5)


TINT2RC = Path("/etc/xdg/tint2/tint2rc")  # Debian's default panel (clock, task list, tray)
PANEL = "#3a4a5a"  # a slate panel instead of the default translucent black, so "the panel's colour" means something


def _tint2rc(target: Path) -> Path:
    text = TINT2RC.read_text()
    text = re.sub(r"(?m)^panel_position = .*$", "panel_position = top center horizontal", text)
    text = re.sub(r"(?m)^background_color = #000000 60$", f"background_color = {PANEL} 100", text, count=1)
    target.write_text(text)
    return target


@pytest.mark.desktop
@pytest.mark.slow
def test_tint2_under_openbox_menu_tooltip_and_icon_are_readable(screen: DesktopSession, tmp_path: Path) -> None:
    require_tools("tint2", "openbox")
    wm = subprocess.Popen(["openbox", "--sm-disable"], env=screen.full_env(), stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    rc = _tint2rc(tmp_path / "tint2rc")
    try:
        panel = _panel(screen, ["tint2", "-c", str(rc)], "tint2")
        try:
            _look_at_tray(screen, tmp_path)
        finally:
            panel.terminate()
            panel.wait(timeout=5)
    finally:
        wm.terminate()
        wm.wait(timeout=5)


@pytest.mark.desktop
@pytest.mark.slow
def test_the_desktops_dark_colours_from_xresources_are_used(screen: DesktopSession, tmp_path: Path) -> None:
    """A desktop that says its colours in X resources (xrdb): the menu and tooltip take them."""
    require_tools("trayer", "xrdb")
    panel = _panel(screen, TRAYER, "trayer")
    try:
        subprocess.run(["xrdb", "-nocpp", "-load"], input="*background: #1e1e1e\n*foreground: #e8e8e8\n", text=True,
                       env=screen.full_env(), check=True, timeout=10)
        found = _look_at_tray(screen, tmp_path, dark=True, icons=False)
        assert float(found["menu_mean"]) < 0.35 and float(found["tooltip_mean"]) < 0.35, "the dark theme was not used"
    finally:
        panel.terminate()
        panel.wait(timeout=5)
        subprocess.run(["xrdb", "-remove"], env=screen.full_env(), check=False, timeout=10)


@pytest.mark.desktop
@pytest.mark.slow
def test_the_tray_hosts_own_colours_win(screen: DesktopSession, tmp_path: Path) -> None:
    """A host that sets _NET_SYSTEM_TRAY_COLORS (a light foreground here): the tooltip is drawn dark, in it."""
    require_tools("trayer")
    panel = _panel(screen, TRAYER, "trayer")
    try:
        owner = _owner_id(screen)
        light = ",".join(["65535", "60395", "15163"] + ["0"] * 9)  # foreground #ffeb3b, then error/warning/success
        x(screen.full_env(), "xprop", "-id", hex(owner), "-f", "_NET_SYSTEM_TRAY_COLORS", "32c", "-set",
          "_NET_SYSTEM_TRAY_COLORS", light)
        env_x = screen.full_env()
        with ErgoEnv.create(screen.full_env(), **CALM) as env:
            tray = Tray(env.env, env.root, "--backend", "xembed")  # no daemon: "ergo off"
            try:
                window = wait_for(lambda: (w := ergo_window(env_x)) and parent_chain(env_x, w[0]) and w, 10,
                                  what="the docked icon")
                _id, _name, left, top = settled_icon(env_x)
                x(env_x, "xdotool", "mousemove", str(left + 11), str(top + 11))
                tip = wait_for(lambda: _window(env_x, "ergo tooltip"), 5, what="the tooltip window")
                shot = _settled(env_x, tmp_path / "tooltip.png", tip)
                text = read(shot, _pad(tip), negate=True)
                assert has_words(text, "ergo is not running (start it with"), f"{shot}:\n{text}"  # OCR: quotes vary
                assert mean(shot, tip) < 0.35, f"not the dark ground a light foreground needs: {shot}"
                assert window and "the tray's _NET_SYSTEM_TRAY_COLORS" in tray.text(), tray.text()
            finally:
                assert tray.close() == 0, tray.text()
    finally:
        panel.terminate()
        panel.wait(timeout=5)


def _owner_id(desk: DesktopSession) -> int:
    from Xlib import display

    d = display.Display(desk.env["DISPLAY"])
    try:
        return int(d.get_selection_owner(d.intern_atom("_NET_SYSTEM_TRAY_S0")).id)
    finally:
        d.close()


# --- the pure rule ----------------------------------------------------------------------------------


def test_theme_comes_from_the_host_then_the_desktop_then_a_light_default() -> None:
    from ergo.tray.theme import DEFAULT, from_resources, parse_colour, pick

    assert parse_colour("#1e1e1e") == (30, 30, 30) and parse_colour("#fff") == (255, 255, 255)
    assert parse_colour("rgb:ff/80/0") == (255, 128, 0) and parse_colour("#ffff00000000") == (255, 0, 0)
    assert parse_colour("red") is None and parse_colour("#12345") is None
    assert pick(None, None) == DEFAULT and pick([], "") == DEFAULT
    dark = from_resources("*background:\t#1e1e1e\n*foreground:\t#e8e8e8\nXTerm*faceName: Mono\n")
    assert dark and dark.background == (30, 30, 30) and dark.foreground == (232, 232, 232)
    mine = from_resources("*background: #1e1e1e\nergo*background: #fafafa\n")
    assert mine and mine.background == (250, 250, 250) and mine.foreground[0] < 64  # ergo's own key wins; text dark
    clash = from_resources("*background: #202020\n*foreground: #303030\n")
    assert clash and clash.foreground[0] > 200  # unreadable pair: the background is kept, the text made light
    host = pick([0xFFFF, 0xEBEB, 0x3B3B] + [0] * 9, "*background: #ffffff\n")
    assert host.foreground == (255, 235, 59) and host.background[0] < 64 and "_NET_SYSTEM_TRAY_COLORS" in host.source
    for theme in (DEFAULT, dark, host):  # greyed entries stay apart from both the text and the ground
        assert theme.disabled not in (theme.foreground, theme.background)


# --- StatusNotifierItem: waybar's tray under a headless sway -------------------------------------


@pytest.mark.desktop
@pytest.mark.slow
def test_waybar_shows_the_sni_menu_readable_and_its_entries_work() -> None:
    """waybar (a real SNI host) draws ergo's dbusmenu in its GTK theme: right-click the icon, read the menu,
    click "Pause 30 min". A headless sway has no pointer: tests/wayland_pointer.py brings a virtual one."""
    require_tools("waybar", "grim", "dbus-daemon")
    require_look_tools()
    with headless_sway() as sway, private_bus() as bus:
        desktop = {**sway.env(), "DBUS_SESSION_BUS_ADDRESS": bus}
        with ErgoEnv.create(desktop, **CALM) as env:
            config = {"layer": "top", "height": 30, "modules-right": ["tray"], "tray": {"icon-size": 22, "spacing": 4}}
            (env.root / "waybar.json").write_text(json.dumps(config))
            runtime = Path(tempfile.mkdtemp(prefix="wb", dir=env.root))
            os.chmod(runtime, 0o700)
            log = env.root / "waybar.log"
            with Daemon(env) as daemon, open(log, "w") as out:
                waybar = subprocess.Popen(["waybar", "-c", str(env.root / "waybar.json")],
                                          env={**env.env, "XDG_RUNTIME_DIR": str(runtime)}, stdout=out,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
                tray = None
                try:
                    wait_for(lambda: "Bar configured" in log.read_text(errors="replace"), 15, what="waybar's bar")
                    tray = Tray(env.env, env.root)  # a watcher runs now: SNI
                    wait_for(lambda: "a tray host" in tray.text(), 15, what="waybar's tray to read the icon")
                    shot = env.root / "waybar.png"
                    icon = wait_for(lambda: _find_colour(wayland_screenshot(sway.env(), shot), COLOURS["running"], 30),
                                    10, what="the green icon in the bar")
                    width, height = _size(shot)
                    shown = view(daemon.status(), datetime.now(UTC))
                    with VirtualPointer(sway.display, width, height) as pointer:
                        box = (max(0, icon[0] - 300), 0, min(width, icon[0] + 40) - max(0, icon[0] - 300), 340)
                        pointer.move(*icon)  # hovering shows the SNI tooltip: GTK has seen the pointer arrive
                        tip = _read_until(lambda: wayland_screenshot(sway.env(), shot), box, "hydration in 30 min")
                        assert has_words(tip, shown.tooltip.splitlines()[0]), f"tooltip unreadable in {shot}:\n{tip}"
                        pointer.click(*icon, BUTTON_RIGHT)
                        text = _read_until(lambda: wayland_screenshot(sway.env(), shot), box, "Quit tray")
                        for item in shown.items:
                            if item.label and item.enabled and item.action is not None:
                                assert has_words(text, item.label), f"{item.label!r} unreadable in {shot}:\n{text}"
                        greyed = read(shot, box, threshold=75)  # GTK's greyed text, anti-aliased
                        for item in shown.items:
                            if item.label and not (item.enabled and item.action is not None):
                                assert has_words(greyed, item.label), f"{item.label!r} unreadable in {shot}:\n{greyed}"
                        where = find_word(shot, box, "30")  # "Pause 30 min"
                        assert where is not None, text
                        pointer.click(*where)
                        wait_for(lambda: daemon.status()["paused"], 5, what="the pause chosen in waybar's menu")
                finally:
                    if tray is not None:
                        assert tray.close() == 0, tray.text()
                    waybar.terminate()
                    waybar.wait(timeout=5)


def _size(png: Path) -> tuple[int, int]:
    done = subprocess.run(["convert", str(png), "-format", "%w %h", "info:"], capture_output=True, text=True,
                          check=True)
    w, h = done.stdout.split()
    return int(w), int(h)


def _find_colour(png: Path, rgb: tuple[int, int, int], rows: int) -> tuple[int, int] | None:
    """The middle of the pixels of colour `rgb` in the top `rows` rows (the bar), or None."""
    width, _ = _size(png)
    done = subprocess.run(["convert", str(png), "-crop", f"{width}x{rows}+0+0", "+repage", "-depth", "8", "txt:-"],
                          capture_output=True, text=True, check=True)
    hits = []
    for line in done.stdout.splitlines()[1:]:
        match = re.match(r"(\d+),(\d+): \((\d+),(\d+),(\d+)", line)
        if match and _close((int(match[3]), int(match[4]), int(match[5])), rgb, 12):
            hits.append((int(match[1]), int(match[2])))
    if len(hits) < 20:
        return None
    xs, ys = sorted(h[0] for h in hits), sorted(h[1] for h in hits)
    return xs[len(xs) // 2], ys[len(ys) // 2]


def _read_until(take: Callable[[], Path], box: BoxT, word: str) -> str:
    """Screenshot and read `box` until `word` shows (a menu opens a moment after the click), at most 10 s."""
    deadline = time.monotonic() + 10
    while True:
        text = read(take(), box, threshold=60)  # GTK's anti-aliased text on a light menu
        if has_words(text, word) or time.monotonic() > deadline:
            return text
        time.sleep(0.2)
