"""Text the desktop cannot carry (issue 16, item 2).

A NUL in `messages` used to pass `ergo config validate`, and then every Notify call made the
session bus drop ergo's connection: a traceback per reminder, a false "no D-Bus session bus"
reason and every reminder on the console. Here: validate, run and import refuse such text naming
key, message and position; the notifiers never send it (a real private dbus-daemon with dunst
receives every reminder); a failure of the bus connection is never reported as "no session bus";
the console never passes an escape sequence through.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path
import pytest

from ergo.notify import freedesktop
from ergo.notify.base import Notification
from ergo.notify.console import ConsoleNotifier
from ergo.safetext import printable
from tests.desktop import DesktopSession
from tests.helpers import REPO, ergo_env, run_ergo  # noqa: F401 (fixture)

BAD = [
    ("\\u0000", "U+0000 (NUL)"),
    ("\\u0007", "U+0007 (a control character)"),
    ("\\u001b[2J", "U+001B (ESC"),
    ("\\u009b", "U+009B (CSI"),
    ("\\u007f", "U+007F (DEL)"),
]


@pytest.mark.parametrize(("escape", "named"), BAD)
def test_validate_and_run_refuse_undeliverable_text_naming_key_message_and_position(
        ergo_env: dict[str, str], escape: str, named: str) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    config.write_text(f'[posture]\nmessages = ["sit tall", "ok{escape}then"]\n\n[hydration]\ntitle = "Water"\n')
    for args in (["config", "validate"], ["run"]):
        done = run_ergo(args, ergo_env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert f"{config}: posture.messages: message 2: character 3 is {named}" in lines[0], lines[0]
        assert "\x1b" not in done.stderr and "\x00" not in done.stderr


def test_a_title_and_an_env_list_with_a_lone_surrogate_are_refused(ergo_env: dict[str, str]) -> None:
    config = Path(ergo_env["ERGO_CONFIG"])
    config.write_text('[hydration]\ntitle = "Drink\\u001b]0;owned\\u0007"\n')
    done = run_ergo(["config", "validate"], ergo_env)
    assert done.returncode == 2 and "hydration.title: character 6 is U+001B" in done.stderr, done.stderr
    config.write_text("")
    env = {**ergo_env, "ERGO_STRETCH__MESSAGES": json.dumps(["reach up", "a\ud800b"])}  # JSON may hold one, TOML not
    done = run_ergo(["config", "validate"], env)
    assert done.returncode == 2, done.stderr
    assert "ERGO_STRETCH__MESSAGES: message 2: character 2 is U+D800 (a lone surrogate)" in done.stderr, done.stderr


def test_tabs_newlines_and_any_printable_script_are_accepted(ergo_env: dict[str, str]) -> None:
    Path(ergo_env["ERGO_CONFIG"]).write_text(
        '[posture]\nmessages = ["line one\\nline two\\tend", "Rücken gerade — 背筋を伸ばす 🙂", "a\u00a0b"]\n')
    done = run_ergo(["config", "validate"], ergo_env)
    assert done.returncode == 0, done.stderr


def test_config_import_never_writes_a_nul_into_the_config(ergo_env: dict[str, str], tmp_path: Path) -> None:
    source = json.loads((REPO / "tests" / "data" / "stretchly-config.json").read_text())
    source["microbreakIdeas"] = [{"data": "look away\u0000 now", "enabled": True}]
    path = tmp_path / "stretchly.json"
    path.write_text(json.dumps(source))
    done = run_ergo(["config", "import", "--from", "stretchly", str(path)], ergo_env)
    assert "Traceback" not in done.stderr, done.stderr
    assert "U+0000" in done.stdout + done.stderr and "posture.messages" in done.stdout + done.stderr
    config = Path(ergo_env["ERGO_CONFIG"])
    assert not config.exists() or ("\\u0000" not in config.read_text() and "\x00" not in config.read_text())
    assert run_ergo(["config", "validate"], ergo_env).returncode in (0, 1)  # what was written (if anything) loads


def test_the_desktop_gets_every_reminder_whatever_its_text(desktop: DesktopSession) -> None:
    """ergo's own freedesktop notifier with the answer listener (as the daemon runs it), on a real private
    dbus-daemon with dunst: text with a NUL, an escape sequence and a lone surrogate still arrives."""
    from ergo.notify.select import FallbackNotifier, select_notifier

    notifier, reason = select_notifier("freedesktop", answers=True)
    console = io.StringIO()
    fallback = FallbackNotifier(notifier, ConsoleNotifier(console), reason)
    try:
        for body in ("plain", "bad\x00nul", "red \x1b[31mtext\x1b[0m", "half \ud800 pair", "after"):
            fallback.send(Notification("posture", "Posture", body, expire=timedelta(seconds=5)))
            assert fallback.last_error is None, (body, fallback.last_error)
        sent = desktop.notifications(count=5)
    finally:
        fallback.close()
    assert console.getvalue() == "", "a reminder fell back to the console"
    assert [n["body"] for n in sent] == ["plain", "badnul", "red [31mtext[0m", "half  pair", "after"]
    assert all(n["id"] for n in sent)


def test_a_connection_the_bus_drops_is_never_called_no_session_bus(desktop: DesktopSession) -> None:
    """Make the real bus drop the connection mid-call (a raw Notify with a NUL, past ergo's filter): the
    error is a lost connection, never "no D-Bus session bus", and the next send reconnects."""
    from jeepney import new_method_call

    from ergo.notify.answers import AnswerListener

    listener = AnswerListener()
    conn = listener.connect()
    message = new_method_call(freedesktop._server(), "Notify", "susssasa{sv}i",
                              ("ergo", 0, "", "Posture", "bad\x00nul", [], {}, 5000))
    try:
        with pytest.raises(Exception) as caught:
            conn.send_and_get_reply(message, timeout=5)
        assert isinstance(caught.value, (ConnectionError, EOFError)), repr(caught.value)
        reason = freedesktop.describe_error(caught.value)
        assert reason != freedesktop.NO_BUS and "DBUS_SESSION_BUS_ADDRESS" not in reason, reason
    finally:
        conn.close()
    assert freedesktop.describe_error(KeyError("x")) != freedesktop.NO_BUS  # an address is set: not "no bus"
    notifier = freedesktop.FreedesktopNotifier(answers=listener)
    try:
        notifier.send(Notification("posture", "Posture", "after the drop", expire=timedelta(seconds=5)))
    finally:
        notifier.close()


def test_the_console_never_passes_an_escape_sequence_through() -> None:
    out = io.StringIO()
    console = ConsoleNotifier(out, clock=lambda: datetime(2026, 1, 1, 9, 0))
    console.send(Notification("posture", "Pos\x1b]0;title\x07ture", "clear \x1b[2J\x9b2J screen \u202eevil",
                              expire=timedelta(seconds=5)))
    line = out.getvalue()
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7f <= ord(c) <= 0x9f or c == "\u202e" for c in line), repr(line)
    assert line.startswith("[09:00:00] ergo · Pos]0;titleture: clear [2J2J screen ?evil"), repr(line)


def test_printable_masks_what_a_terminal_would_obey() -> None:
    assert printable("ok 🙂 Rücken") == "ok 🙂 Rücken"
    assert printable("a\x1b[31mb\nc\x00d\ud800e\u202ef") == "a?[31mb?c?d?e?f"
    assert printable(42) == "42"
