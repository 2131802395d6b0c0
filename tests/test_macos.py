"""The macOS notifier (osascript) and how `auto` chooses on a Mac, tested here with a FAKE osascript.

This machine is not a Mac: tests/fake_osascript.py stands in for /usr/bin/osascript and compiles the
script it is given the way AppleScript does (string literals and their escapes), so a text that is
not escaped right fails or shows something else, exactly as on a real Mac. The real one runs in the
GitHub macOS job (.github/workflows/ci.yml).
"""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ergo.errors import BackendUnavailable, NotifyError
from ergo.notify import osascript
from ergo.notify import plyer as plyer_backend
from ergo.notify.base import Notification
from ergo.notify.select import select_notifier
from tests.fake_osascript import ScriptError, parse

FAKE = Path(__file__).with_name("fake_osascript.py")
TRICKY = [
    'Say "hi"',
    "back\\slash \\n not a newline",
    "two\nlines\tand a tab\r",
    '" & (do shell script "touch /tmp/ergo-pwned") & "',
    "emoji 🪑 and ümlauts",
    "",
]


@pytest.fixture
def fake_osascript(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the FAKE osascript first on PATH; returns the file it logs what it showed to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "osascript"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    wrapper.chmod(0o755)
    log = tmp_path / "shown.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_OSASCRIPT_LOG", str(log))
    monkeypatch.delenv("FAKE_OSASCRIPT_FAIL", raising=False)
    return log


def shown(log: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def visible(text: str) -> str:
    """What survives escaping: every character but the control characters a notification cannot show."""
    return "".join(c for c in text if c in "\n\r\t" or not (ord(c) < 32 or ord(c) == 127))


# --- the fake itself is strict like AppleScript ----------------------------------------------------


def test_the_fake_compiles_like_applescript() -> None:
    assert parse('display notification "a \\"b\\" c" with title "T"') == {"body": 'a "b" c', "title": "T"}
    with pytest.raises(ScriptError, match="syntax error"):
        parse('display notification "a "b" c" with title "T"')  # an unescaped quote ends the string
    with pytest.raises(ScriptError, match="syntax error"):
        parse('display notification "a \\q"')  # unknown escape


# --- escaping ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", TRICKY)
def test_every_text_reaches_the_notification_unchanged(text: str, fake_osascript: Path) -> None:
    osascript.OsascriptNotifier().send(Notification("posture", f"Title {text}", text))
    assert shown(fake_osascript) == [{"title": f"Title {visible(text)}", "body": visible(text)}]
    assert not Path("/tmp/ergo-pwned").exists()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.text(max_size=200))
def test_applescript_literals_round_trip(title: str, body: str) -> None:
    assert parse(osascript.script_for(title, body)) == {"title": visible(title), "body": visible(body)}


def test_a_failing_osascript_is_a_notify_error(fake_osascript: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_OSASCRIPT_FAIL", "Not authorized to send Apple events to System Events.")
    with pytest.raises(NotifyError, match=r"^osascript failed \(exit 1\): execution error: Not authorized"):
        osascript.OsascriptNotifier().send(Notification("posture", "T", "B"))
    assert shown(fake_osascript) == []


# --- choosing on a Mac --------------------------------------------------------------------------------


@pytest.fixture
def mac_without_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)


def test_probe_names_what_is_missing(fake_osascript: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert osascript.probe("darwin") is None
    assert osascript.probe("linux") == "needs macOS (this is linux)"
    monkeypatch.setenv("PATH", "/nonexistent")
    assert osascript.probe("darwin") == "osascript is not on PATH"


def test_auto_on_a_stock_mac_picks_osascript_and_says_why(fake_osascript: Path, mac_without_bus: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyobjus", None)  # not installed: a stock Mac
    notifier, reason = select_notifier("auto", platform="darwin")
    assert notifier.name == "osascript"
    assert reason.startswith("osascript: display notification via ") and reason.endswith(
        "; plyer unavailable: pyobjus is not installed (plyer needs it on macOS)"), reason
    notifier.send(Notification("posture", "Posture check", "Sit tall"))
    assert shown(fake_osascript) == [{"title": "Posture check", "body": "Sit tall"}]


def test_auto_keeps_plyer_where_it_works_and_not_on_macos_11_or_later(fake_osascript: Path, mac_without_bus: None,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fake_plyer = types.ModuleType("plyer")  # FAKE plyer with a FAKE pyobjus beside it
    fake_plyer.notification = types.SimpleNamespace(notify=lambda **kwargs: None)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "plyer", fake_plyer)
    monkeypatch.setitem(sys.modules, "pyobjus", types.ModuleType("pyobjus"))
    assert plyer_backend.probe("darwin", mac_version=(10, 15)) is None
    assert plyer_backend.probe("darwin", mac_version=(14, 5)) == (
        "plyer uses NSUserNotificationCenter, deprecated since macOS 11 (this is 14.5)")
    monkeypatch.setattr(plyer_backend, "macos_version", lambda: (10, 15))
    assert select_notifier("auto", platform="darwin")[0].name == "plyer"
    monkeypatch.setattr(plyer_backend, "macos_version", lambda: (14, 5))
    notifier, reason = select_notifier("auto", platform="darwin")
    assert notifier.name == "osascript" and "deprecated since macOS 11" in reason, reason


def test_naming_osascript_off_a_mac_is_one_line() -> None:
    if sys.platform == "darwin":
        pytest.skip("this is a Mac: osascript is available")
    with pytest.raises(BackendUnavailable, match=r"^notifier 'osascript' is unavailable: needs macOS \(this is "):
        select_notifier("osascript")
