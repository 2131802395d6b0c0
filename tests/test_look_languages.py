"""Look-tests in German: what a person reads away from the terminal, on real servers, read back with OCR.

A German reminder with its buttons on GNOME's notification-daemon (every label whole, the close box still
in the bubble) and on dunst (its menu drawn by a real dmenu, every entry whole), the line under the tip
that says how long the break is, and the timed break's countdown and end message. The language comes from
the `language` key (ERGO_LANGUAGE=de), as a person who set it would see it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ergo import i18n
from ergo.notify.buttons import ROW_BUDGET, fit, row_cost
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for
from tests.desktop import DesktopSession, desktop_session, require_desktop_tools, require_tools
from tests.look import darkest, has_words, mean, read, require_look_tools, screenshot, wayland_screenshot
# the module's Xvfb and how a notification server joins it, as for the English look-tests
from tests.test_look_notifications import NOTIFICATION_DAEMON, WIDTH, HEIGHT, _serve, screen  # noqa: F401

LANGUAGES = ("de", "es", "fr", "it", "nl", "pt_BR")
TIP = "Roll deine Schultern nach hinten."  # the reminder's own message (a user's `messages` are shown as written)


def german(duration: str) -> dict[str, str]:
    """A German stretch reminder with a timed break of `duration`, every two seconds."""
    return {"LANGUAGE": "de", "POSTURE__ENABLED": "false", "HYDRATION__ENABLED": "false", "STRETCH__ENABLED": "true",
            "STRETCH__INTERVAL": "2s", "STRETCH__DURATION": duration, "STRETCH__MESSAGES": json.dumps([TIP]),
            "NOTIFIER": "auto"}
#: dunst's bubble, big enough to read; its menu is Debian's default dmenu command, behind a tee that keeps the menu
BUBBLE = ("width = 600\nheight = 300\norigin = top-right\noffset = 10x40\nfont = DejaVu Sans 11\nword_wrap = yes\n"
          "format = \"<b>%s</b>\\n%b\"\nmarkup = full\nshow_age_threshold = -1\n")


def folded(text: str) -> str:
    """Text without accents and full stops: OCR reads "Später" as "Spater" and "Sek.)" as "Sek)" as often as not,
    and neither is a cut label (a cut one loses letters)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c) and c != ".")


def shows(text: str, phrase: str) -> bool:
    return has_words(folded(text), folded(phrase))


def _look_until(take: Callable[[], Path], box: tuple[int, int, int, int], phrase: str, *, negate: bool,
                levels: tuple[int, ...] = (50,), timeout: float = 10) -> str:
    """Screenshot and read `box` until `phrase` shows (a server draws a moment after it answers); the last text."""
    deadline = time.monotonic() + timeout
    while True:
        shot = take()
        text = "\n".join(read(shot, box, negate=negate, threshold=level) for level in levels)
        if shows(text, phrase) or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


# --- the pure rule, in German ------------------------------------------------------------------------


def german_row(duration: timedelta | None) -> tuple[tuple[tuple[str, str], ...], dict[str, str]]:
    """The buttons and short labels a German reminder carries (as ergo.daemon.delivery makes them)."""
    from ergo.daemon.delivery import ACTIONS, SHORT_LABELS
    from ergo.timing.breaks import spoken

    said = i18n.translator("de")
    i18n.use("de")
    try:
        actions = tuple((key, said(label)) for key, label in ACTIONS)
        short = {key: said(label) for key, label in SHORT_LABELS}
        if duration is not None:
            actions += (("start", said("Start %(duration)s break") % {"duration": spoken(duration)}),)
            short["start"] = said("%(duration)s break") % {"duration": spoken(duration, short=True)}
    finally:
        i18n.use("auto")
    return actions, short


@pytest.mark.parametrize(("lang", "seconds", "long", "short", "line"), [
    ("de", 60, "1 Minute", "1 Min.", "dehn dich 1 Minute lang"),
    ("de", 150, "2 Minuten 30 Sekunden", "2 Min. 30 Sek.", "dehn dich 2 Minuten 30 Sekunden lang"),
    ("fr", 90, "1 minute 30 secondes", "1 min 30 s", "étirez-vous pendant 1 minute 30 secondes"),
    ("es", 45, "45 segundos", "45 s", "estírate durante 45 segundos"),
    ("en", 90, "1 minute 30 seconds", "1 min 30 s", "stretch for 1 minute 30 seconds"),
])
def test_the_break_is_said_in_the_language(lang: str, seconds: int, long: str, short: str, line: str) -> None:
    from ergo.timing.breaks import spoken, words

    i18n.use(lang)
    try:
        length = timedelta(seconds=seconds)
        assert (spoken(length), spoken(length, short=True), words("stretch", length)) == (long, short, line)
        assert spoken(length, language="en").endswith(("second", "seconds", "minute", "minutes")), "the log: English"
    finally:
        i18n.use("auto")


@pytest.mark.parametrize("duration", [None, timedelta(minutes=1), timedelta(minutes=10, seconds=30)])
def test_a_german_row_always_fits_notification_daemon_and_keeps_done(duration: timedelta | None) -> None:
    actions, short = german_row(duration)
    narrow = fit(actions, "Notification Daemon", short)
    assert row_cost(narrow) <= ROW_BUDGET["Notification Daemon"], narrow
    assert dict(narrow)["done"] == "Erledigt" and dict(narrow)["default"] == ""
    if duration is not None:
        assert "Pause" in dict(narrow)["start"], "the break button stays while its short label fits"
    # dunst lists every button in its menu, whole: only the click on the bubble becomes the one "Erledigt"
    assert fit(actions, "dunst", short) == (("default", "Erledigt"),) + actions[2:]


# --- notification-daemon: one row of buttons in a 400 px bubble ---------------------------------------


@pytest.mark.desktop
@pytest.mark.slow
@pytest.mark.parametrize(("duration", "line", "labels"), [
    ("1m", "Dehn dich 1 Minute lang.", ["Erledigt", "Später", "Pause (1 Min.)"]),
    ("10m30s", "Dehn dich 10 Minuten 30 Sekunden lang.", ["Erledigt", "Pause (10 Min. 30 Sek.)"]),
])
def test_notification_daemon_shows_a_german_reminder_whole_with_its_close_box(
        screen: DesktopSession, tmp_path: Path, duration: str, line: str, labels: list[str]) -> None:
    """The German row is a third longer than the English one: it is fitted (ergo.notify.buttons) so every label
    it keeps is whole and the close box stays in the bubble; the line under the tip says the break in German."""
    require_tools(NOTIFICATION_DAEMON)
    stop = _serve(screen, "notification-daemon", [NOTIFICATION_DAEMON, "--replace"])
    try:
        before = len(screen.notifications())
        with ErgoEnv.create(screen.env, **german(duration)) as env, Daemon(env) as daemon:
            wait_for(lambda: daemon.delivered(), 10, what="a delivered reminder")
            env.cli("pause", "1h")  # no second bubble on top of the one being read
            note = [n for n in screen.notifications(count=before + 1)[before:] if n["id"] is not None][0]
            sent = [label for label in note["actions"][1::2] if label]
            assert sent == labels, note["actions"]
            shot = tmp_path / "notification-daemon.png"
            box = (WIDTH - 420, 0, 420, 160)
            text = _look_until(lambda: screenshot(screen.full_env(), shot), box, labels[-1], negate=False)
            for phrase in ["Dehnpause", TIP, line, *labels]:
                assert shows(text, phrase), f"{phrase!r} cut or missing in {shot}:\n{text}"
            english = re.findall(r"\b(?:Done|Snooze|Skip|Start|break|minutes?|for)\b", text)
            assert not english, f"English {english} in {shot}:\n{text}"
            # the close box: a dark cross in the bubble's top right corner (pushed out when the row is too wide)
            assert darkest(shot, (WIDTH - 40, 20, 28, 28)) < 0.45, f"no close box in {shot}"
    finally:
        stop()


# --- dunst: the buttons wait in its menu (a real dmenu), the break counts down in the bubble -----------


def _dmenu_entries(desk: DesktopSession, shot: Path, count: int) -> list[str]:
    """Read dmenu's one-line menu at the top of the screen entry by entry: each press of Right selects the
    next one (dmenu pages when they do not fit the line). Each read waits until dmenu has drawn the change."""
    env = desk.full_env()
    bar = (0, 0, WIDTH, 24)
    seen: list[str] = []
    drawn = [""]

    def changed() -> bool:  # the bar's pixels differ from the last read (dmenu drew it, or drew the next entry)
        picture = _pixels(screenshot(env, shot), bar)
        fresh = picture != drawn[0] and mean(shot, bar) > 0.05  # the root window is black where dmenu is not
        drawn[0] = picture
        return fresh

    for _ in range(count):
        wait_for(changed, 15, interval=0.2, what="dmenu drawing its next entry")
        seen.append(read(shot, bar, negate=True))
        subprocess.run(["xdotool", "key", "Right"], env=env, check=True, timeout=10)
    return seen


def _pixels(png: Path, box: tuple[int, int, int, int]) -> str:
    """A signature of the pixels in box=(x, y, w, h)."""
    x, y, w, h = box
    return subprocess.run(["convert", str(png), "-crop", f"{w}x{h}+{x}+{y}", "+repage", "-format", "%#", "info:"],
                          capture_output=True, text=True, check=True, timeout=20).stdout.strip()


@pytest.mark.desktop
@pytest.mark.slow
def test_dunst_offers_the_german_buttons_in_its_menu_and_counts_the_break_down_in_german(tmp_path: Path) -> None:
    """dunst's context menu, drawn by Debian's own dmenu (`dunstctl context`), lists the German buttons, each once
    and whole; choosing "Pause starten" there starts the timed break, whose countdown and end are German too."""
    require_desktop_tools("dmenu", "xdotool")
    require_look_tools()
    menu = tmp_path / "menu.txt"
    wrapper = tmp_path / "dmenu.sh"  # what dunst runs: Debian's default dmenu command, keeping what it was offered
    wrapper.write_text(f"#!/bin/sh\ntee {menu} | /usr/bin/dmenu -p dunst:\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    with desktop_session(screen=f"{WIDTH}x{HEIGHT}x24", dunst_settings=BUBBLE + f"dmenu = {wrapper}\n") as desk, \
            ErgoEnv.create(desk.env, **german("10s")) as env, Daemon(env) as daemon:
        wait_for(lambda: daemon.delivered(), 10, what="a delivered reminder")
        env.cli("pause", "1h")
        shot = tmp_path / "dunst.png"
        bubble = (WIDTH - 620, 30, 620, 150)
        text = _look_until(lambda: screenshot(desk.full_env(), shot), bubble, "Dehnpause", negate=True)
        for phrase in ("Dehnpause", TIP, "Dehn dich 10 Sekunden lang."):
            assert shows(text, phrase), f"{phrase!r} cut or missing in {shot}:\n{text}"
        context = subprocess.Popen(["dunstctl", "context"], env=desk.full_env())
        try:
            labels = ["Erledigt", "10 Min. später", "Überspringen", "Pause starten (10 Sekunden)"]
            entries = _dmenu_entries(desk, tmp_path / "dmenu.png", len(labels))
            offered = menu.read_text().splitlines()
            assert len(offered) == len(labels), f"one entry per button, no blank one: {offered}"
            for label in labels:
                assert [line.startswith(f"#{label} (") for line in offered].count(True) == 1, (label, offered)
                assert any(shows(entry, f"#{label} (Dehnpause)") for entry in entries), \
                    f"{label!r} cut or missing in dunst's menu ({tmp_path / 'dmenu.png'}):\n" + "\n".join(entries)
            subprocess.run(["xdotool", "type", "Pause starten"], env=desk.full_env(), check=True, timeout=10)
            subprocess.run(["xdotool", "key", "Return"], env=desk.full_env(), check=True, timeout=10)
            context.wait(timeout=10)
        finally:
            if context.poll() is None:
                context.kill()
        count = _look_until(lambda: screenshot(desk.full_env(), shot), bubble, "Dehnpause: noch", negate=True,
                            levels=(50, 65))
        assert re.search(r"Dehnpause: noch 0:(10|0[1-9])", count), f"no German countdown in {shot}:\n{count}"
        assert shows(count, "Dehn dich 10 Sekunden lang"), f"the break line is not German in {shot}:\n{count}"
        end = _look_until(lambda: screenshot(desk.full_env(), shot), bubble, "Pause vorbei", negate=True,
                          levels=(50, 65), timeout=15)
        for phrase in ("Dehnpause: Pause vorbei", "Gut gemacht. Zurück an die Arbeit, wenn du so weit bist."):
            assert shows(end, phrase), f"{phrase!r} missing in {shot}:\n{end}"
        rows = wait_for(lambda: [r for r in env.history() if r["via"] == "break"], 5, what="the break recorded")
        assert rows[0]["outcome"] == "done"


# --- the tray and the bars: the status in the language the config (or the client's environment) asks for ---


def _status(language: str, now: datetime) -> dict[str, Any]:
    """A status like the daemon's: posture in 12 min, hydration snoozed for 75."""
    later = (now + timedelta(minutes=75)).isoformat()
    return {"running": True, "now": now.isoformat(), "paused": False, "paused_until": None, "hold": None,
            "language": language, "reminders": {
                "posture": {"enabled": True, "next_due": (now + timedelta(minutes=12)).isoformat(),
                            "interval_seconds": 1800, "held": None},
                "hydration": {"enabled": True, "next_due": later, "interval_seconds": 3600, "held": "snoozed",
                              "snoozed_until": later}}}


@pytest.fixture
def speaking() -> Iterator[None]:
    """A test that shows a status speaks its language in this process: English again afterwards."""
    yield
    i18n.use("auto")


def test_the_tray_and_the_bar_speak_the_configs_language_else_their_own_environment(
        monkeypatch: pytest.MonkeyPatch, speaking: None) -> None:
    from ergo.control.glance import render
    from ergo.tray.model import view

    now = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
    clock = (now + timedelta(minutes=12)).astimezone().strftime("%H:%M")
    monkeypatch.setenv("LANGUAGE", "en")
    german = view(_status("de", now), now)  # the config says German: the tray's English environment does not count
    assert german.window_title == "ergo: posture in 12 Min."
    assert german.tooltip.splitlines()[0] == f"posture in 12 Min. ({clock})"
    assert [i.label for i in german.items if i.label][1:4] == ["Jetzt Pause: posture", "Jetzt Pause: hydration",
                                                               "30 Min. pausieren"]
    assert "posture 10 Min. später" in [i.label for i in german.items] and german.items[-1].label == "Tray-Symbol beenden"
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):  # the config says "auto": the client's own environment speaks
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    bar = json.loads(render(_status("auto", now), "waybar"))
    assert bar["text"] == "posture dans 12 min" and "hydration : reporté jusqu'à" in bar["tooltip"]
    assert json.loads(render({"running": False}, "waybar"))["text"] == "ergo arrêté"
    monkeypatch.setenv("LANGUAGE", "en")
    assert json.loads(render(_status("auto", now), "waybar"))["text"] == "posture in 12 min"
    stopped = view(None, now)
    assert stopped.title == "ergo off" and [i.label for i in stopped.items if i.label][-1] == "Quit tray"


def test_every_tray_word_can_be_drawn_by_the_x11_trays_core_font(speaking: None) -> None:
    """The X11 tray draws with a Latin-1 core font (ergo.tray.xembed): a character beyond it would show as "?"."""
    from ergo.tray.model import view

    now = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
    for lang in LANGUAGES:
        shown = view(_status(lang, now), now)
        paused = view({**_status(lang, now), "paused": True, "paused_until": now.isoformat()}, now)
        for text in [shown.window_title, shown.tooltip, paused.tooltip, *(i.label for i in shown.items)]:
            text.encode("latin-1")  # raises on a character the font cannot draw


@pytest.mark.desktop
@pytest.mark.slow
def test_the_german_tray_menu_and_tooltip_in_trayer_are_whole(screen: DesktopSession, tmp_path: Path,
                                                             speaking: None) -> None:
    """`language = "de"`: the X11 tray's title, tooltip and menu, docked in a real trayer, read back whole; the
    menu is as wide as its longest German entry ("Konfiguration bearbeiten"), so no label is cut off."""
    from ergo.tray.model import view
    from tests.test_look_tray import TRAYER, _panel, _pad, _settled, _window
    from tests.test_tray import CALM, Tray, docked, ergo_window, settled_icon, x

    require_tools("trayer", "xwininfo", "xdotool")
    env_x = screen.full_env()
    panel = _panel(screen, TRAYER, "trayer")
    try:
        with ErgoEnv.create(env_x, **CALM, LANGUAGE="de") as env, Daemon(env) as daemon:
            tray = Tray(env.env, env.root, "--backend", "xembed")
            try:
                wait_for(lambda: (w := ergo_window(env_x)) and "posture in 20 Min." in w[1] and docked(env_x, w[0]), 10,
                         what="the docked icon, titled in German")
                _id, _name, left, top = settled_icon(env_x)
                shown = view(daemon.status(), datetime.now(UTC))
                x(env_x, "xdotool", "mousemove", str(left + 11), str(top + 11))
                tip = wait_for(lambda: _window(env_x, "ergo tooltip"), 5, what="the tooltip window")
                shot = _settled(env_x, tmp_path / "tooltip.png", tip)
                text = read(shot, _pad(tip))
                for line in shown.tooltip.splitlines():
                    assert shows(text, line), f"tooltip {line!r} unreadable in {shot}:\n{text}"
                x(env_x, "xdotool", "mousemove", str(left + 11), str(top + 11), "click", "1")
                menu = wait_for(lambda: _window(env_x, "ergo menu"), 5, what="the menu window")
                shot = _settled(env_x, tmp_path / "menu.png", menu)
                text = read(shot, _pad(menu))
                greyed = "\n".join(read(shot, _pad(menu), threshold=t, crisp=c) for t, c in ((60, True), (75, False)))
                labels = [item.label for item in shown.items if item.label]
                assert {"Konfiguration bearbeiten", "Bis morgen pausieren", "Tray-Symbol beenden"} <= set(labels)
                for item in shown.items:
                    if item.label:
                        seen = text if item.enabled and item.action is not None else greyed
                        assert shows(seen, item.label), f"{item.label!r} cut or unreadable in {shot}:\n{seen}"
                english = re.findall(r"\b(?:Pause until|Quit|Edit|Resume|Break now|Snooze)\b", text)
                assert not english, f"English {english} in {shot}:\n{text}"
                x(env_x, "xdotool", "key", "Escape", "mousemove", "5", "700", "click", "1")
            finally:
                assert tray.close() == 0, tray.text()
    finally:
        panel.terminate()
        panel.wait(timeout=5)


def test_the_sni_item_gives_its_host_the_german_menu_and_tooltip() -> None:
    """StatusNotifierItem (KDE, waybar, GNOME's AppIndicator): the host draws the menu from ergo's dbusmenu labels;
    with `language = "de"` they, the title and the tooltip are German, and a German entry still steers the daemon."""
    from tests.dbus_doubles import private_bus
    from tests.test_tray import CALM, StatusNotifierWatcherDouble, Tray

    require_tools("dbus-daemon")
    with private_bus() as address, ErgoEnv.create({"DBUS_SESSION_BUS_ADDRESS": address}, **CALM, LANGUAGE="de") as env:
        with StatusNotifierWatcherDouble(address) as host, Daemon(env) as daemon:
            tray = Tray(env.env, env.root)
            try:
                wait_for(lambda: host.items, timeout=10, what="the item to register with the watcher")
                wait_for(lambda: host.prop("ToolTip")[2] == "ergo: posture in 20 Min.", timeout=5, what="the tooltip")
                assert host.prop("Title") == "ergo: posture in 20 Min."
                assert "hydration in 30 Min." in host.prop("ToolTip")[3]
                labels = [label for _, label in host.layout()]
                assert {"Jetzt Pause: posture", "1 Stunde pausieren", "Bis morgen pausieren", "Fortsetzen",
                        "posture 10 Min. später", "Heutige Statistik", "Konfiguration bearbeiten",
                        "Tray-Symbol beenden"} <= set(labels), labels
                host.click("1 Stunde pausieren")
                wait_for(lambda: daemon.status()["paused"], timeout=5, what="the pause from the German menu")
                wait_for(lambda: host.prop("ToolTip")[2] == "ergo: pausiert 1 Std.", timeout=5, what="paused, in German")
            finally:
                assert tray.close() == 0, tray.text()


def _follow_lines(env: dict[str, str], count: int, act: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """The first `count` lines `ergo status --follow --format waybar` prints (waybar's custom module), parsed;
    `act` runs after the first one."""
    follower = subprocess.Popen([sys.executable, "-m", "ergo", "status", "--follow", "--format", "waybar"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        assert follower.stdout is not None
        lines = [json.loads(follower.stdout.readline())]
        if act is not None:
            act()
        while len(lines) < count:
            lines.append(json.loads(follower.stdout.readline()))
        return lines
    finally:
        follower.kill()
        follower.wait(timeout=5)


def test_the_waybar_module_speaks_the_configs_language_or_the_bars_own() -> None:
    """`ergo status --follow --format waybar`: with `language = "de"` German whatever the bar's environment; with
    "auto" the language of the bar's own environment (French here), not the daemon's (English)."""
    with ErgoEnv.create(None, **{"POSTURE__INTERVAL": "20m", "HYDRATION__INTERVAL": "30m", "LANGUAGE": "de"}) as env, \
            Daemon(env):
        first, paused = _follow_lines(env.env, 2, lambda: env.cli("pause", "30m"))
        assert first["text"] == "posture in 20 Min." and first["class"] == "running"
        assert first["tooltip"].splitlines()[1].startswith("hydration in 30 Min. (")
        assert paused["text"] == "pausiert 30 Min." and paused["tooltip"].startswith("pausiert bis ")
    with ErgoEnv.create(None, POSTURE__INTERVAL="20m", HYDRATION__INTERVAL="30m") as env, Daemon(env):
        bar = {k: v for k, v in env.env.items() if k not in i18n.ENV_ORDER} | {"LANG": "fr_FR.UTF-8"}
        [french] = _follow_lines(bar, 1)
        assert french["text"] == "posture dans 20 min", french
        assert "hydration dans 30 min (" in french["tooltip"]
        [english] = _follow_lines(env.env, 1)  # the suite's English environment (tests/conftest.py)
        assert english["text"] == "posture in 20 min"


@pytest.mark.desktop
@pytest.mark.slow
def test_waybar_shows_the_german_module_text(tmp_path: Path) -> None:
    """Debian's waybar under a headless sway runs the docs' `custom/ergo` block; with `language = "de"` the bar
    shows the German text, read back from a screenshot (grim) with OCR."""
    from tests.test_waybar import readme_waybar_block, start_waybar
    from tests.wayland import headless_sway

    require_tools("waybar", "grim", "dbus-daemon")
    require_look_tools()
    config = json.loads('{"layer": "top", "height": 30, "modules-right": ["custom/ergo"], '
                        + readme_waybar_block() + "}")
    with headless_sway() as sway, ErgoEnv.create(sway.env(), POSTURE__INTERVAL="20m", HYDRATION__INTERVAL="30m",
                                                  LANGUAGE="de") as env:
        with Daemon(env):
            waybar, _log = start_waybar(env, config, start_new_session=True)  # a group: waybar and its follower
            try:
                shot = tmp_path / "waybar.png"
                seen = [""]

                def shown() -> bool:
                    seen[0] = read(wayland_screenshot(sway.env(), shot), (0, 0, _width(shot), 30), negate=True)
                    return "posture in 20 Min." in seen[0]  # case matters: "min" is the English one

                wait_for(shown, 20, interval=0.5, what=f"the German module text in the bar ({shot})")
                assert not re.search(r"\b\d+ min\b", seen[0]), f"English minutes in {shot}: {seen[0]}"
            finally:
                with suppress(ProcessLookupError):
                    os.killpg(waybar.pid, 15)  # waybar and the `ergo status --follow` it runs
                waybar.wait(timeout=5)


def _width(png: Path) -> int:
    return int(subprocess.run(["convert", str(png), "-format", "%w", "info:"], capture_output=True, text=True,
                              check=True, timeout=20).stdout)
