"""The everyday commands in the reader's language: `ergo status`, `schedule`, `plan status`, and the
one-line confirmations, against a real daemon (issue 20, item 4).

The daemon says its configured `language` in its status answer and stream; a client shows its text in
that language when it is set, otherwise in its own environment's (ergo.i18n.for_client).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from ergo import i18n
from tests.daemon_helpers import Daemon, ErgoEnv

CALM = {"POSTURE__INTERVAL": "20m", "HYDRATION__INTERVAL": "30m"}


@pytest.mark.parametrize(("value", "wanted"), [
    ("de", "de"), ("pt_BR", "pt_BR"), ("en", "en"), ("auto", "auto"), (None, "auto"), ("", "auto"),
    (3, "auto"), ("../../etc", "auto"), ("de DE", "auto"), ("x" * 40, "auto"),
])
def test_a_client_takes_the_daemons_language_key_when_set_else_its_own_environment(value, wanted) -> None:
    assert i18n.for_client(value) == wanted
    assert i18n.requested(i18n.for_client("auto"), {"LANG": "fr_FR.UTF-8"}) == ("fr_FR", "fr")
    assert i18n.requested(i18n.for_client("de"), {"LANG": "fr_FR.UTF-8"}) == ("de",)


def test_english_translation_does_not_import_gettext() -> None:
    code = ("import sys\nfrom ergo import i18n\nassert i18n.translation('en').gettext('Breathe') == 'Breathe'\n"
            "assert i18n.translation('en').ngettext('a', 'b', 2) == 'b'\nprint('gettext' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"


@pytest.fixture
def env() -> Iterator[ErgoEnv]:
    made = ErgoEnv.create(None, **CALM)
    yield made
    made.cleanup()


def _follow_first_line(env: ErgoEnv) -> dict:
    proc = subprocess.Popen([sys.executable, "-m", "ergo", "status", "--follow", "--format", "json"], env=env.env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        return json.loads(proc.stdout.readline())
    finally:
        proc.kill()
        proc.communicate(timeout=10)


def test_the_status_answer_and_stream_carry_the_configured_language(env: ErgoEnv) -> None:
    with Daemon(env) as daemon:
        assert daemon.status()["language"] == "auto"
        assert _follow_first_line(env)["language"] == "auto"
    env.config.write_text('language = "de"\n', encoding="utf-8")
    with Daemon(env) as daemon:
        assert daemon.status()["language"] == "de"
        assert _follow_first_line(env)["language"] == "de"


def test_two_checkouts_never_take_each_others_compiled_catalogs(tmp_path, monkeypatch) -> None:
    """Checkouts compile their .po into the user cache: one folder per installation, or the second one
    would read the first one's .mo (its mtime is newer than its own .po)."""
    import gettext
    import os
    import shutil

    from tests.test_i18n import ROOT

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    found = {}
    for name, word in (("one", "Atmen"), ("two", "Tief atmen")):
        locale = tmp_path / name / "locale"
        shutil.copytree(ROOT / "ergo" / "locale" / "de", locale / "de", ignore=shutil.ignore_patterns("*.mo"))
        po = locale / "de" / "LC_MESSAGES" / "ergo.po"
        po.write_text(po.read_text("utf-8").replace('msgstr "Atmen"', f'msgstr "{word}"'), "utf-8")
        os.utime(po, (1_000_000_000, 1_000_000_000))  # older than any compiled file
        monkeypatch.setattr(i18n, "locale_dir", lambda locale=locale: str(locale))
        monkeypatch.setattr(i18n, "_translations", {})
        monkeypatch.setattr(gettext, "_translations", {})
        found[name] = i18n.translator("de")("Breathe")
    assert found == {"one": "Atmen", "two": "Tief atmen"}


# --- the everyday commands against a real daemon ------------------------------------------------------


def _speaking(env: ErgoEnv, *args: str, **lang: str) -> str:
    """`ergo ARGS` with only the given locale variables set (the rest of the environment as the daemon's)."""
    env.env = {k: v for k, v in env.env.items() if k not in i18n.ENV_ORDER} | lang
    done = env.cli(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _babel(skeleton: str, locale: str, when=None) -> str:
    from datetime import datetime

    from babel.dates import format_skeleton

    return format_skeleton(skeleton, when or datetime.now(), locale=locale)


def _heading(schedule: str, locale: str | None) -> bool:
    """Whether `ergo schedule` has today's or tomorrow's day heading (just before midnight, only
    tomorrow's) in the locale's format; None: English, ergo's own "Wed 02 Dec"."""
    from datetime import datetime, timedelta

    days = [datetime.now() + timedelta(days=n) for n in range(2)]
    shown = [d.strftime("%a %d %b") if locale is None else _babel("MMMEd", locale, d) for d in days]
    return any(line in shown for line in schedule.splitlines())


def test_status_schedule_and_plan_speak_german_with_german_times(env: ErgoEnv) -> None:
    from datetime import datetime, timedelta

    with Daemon(env):
        status = _speaking(env, "status", LANG="de_DE.UTF-8")
        assert status.startswith("ergo läuft (PID ")
        assert "  posture    alle 20m      nächste " in status and "aus: stretch" in status
        assert "Konfiguration: " in status and "every" not in status and "next" not in status
        schedule = _speaking(env, "schedule", "--hours", "30", LANG="de_DE.UTF-8")
        assert schedule.startswith("Kommende Erinnerungen in den nächsten 30 h, vom laufenden ergo")
        assert "  Arbeitszeit: jeden Tag, ganztägig" in schedule
        assert _heading(schedule, "de_DE")  # "Mi., 2. Dez."
        assert "posture + hydration  (zusammengefasst)" in schedule or "hydration + posture  (zusammengefasst)" in schedule
        started = _speaking(env, "plan", "start", "acute-back", LANG="de_DE.UTF-8")
        assert started.startswith("acute-back (Akuter Rückenkrampf) gestartet bis ")
        assert ("Erster Schritt jetzt: Kältepack (in einer Benachrichtigung)." in started  # in waking hours
                or "Nächster Schritt: cold am " in started), started
        assert "Von ergo gewählt (die Dokumente nennen keine Zahl oder nur eine Spanne):" in started
        plan = _speaking(env, "plan", "status", LANG="de_DE.UTF-8")
        assert plan.startswith("acute-back (Akuter Rückenkrampf): Tag 1, gestartet " + _babel("MMMEd", "de_DE") + ", ")
        assert "movement-Erinnerungen angehalten bis" in plan and "Plan acute-back: die eigenen" in plan
        status = _speaking(env, "status", LANG="de_DE.UTF-8")
        assert "Plan: acute-back bis " in status and "(`ergo plan status`)" in status
        assert "Plan acute-back: Kältepack" in _speaking(env, "schedule", "--hours", "30", LANG="de_DE.UTF-8")
        timeline = _speaking(env, "schedule", "--plan", LANG="de_DE.UTF-8")
        assert timeline.startswith("Plan acute-back (Akuter Rückenkrampf), Wachzeit 08:00-22:00, bis ")
        days = [_babel("MMMEd", "de_DE", datetime.now() + timedelta(days=n)) for n in range(2)]
        assert any(f"{day} (Tag {n + 1})\n" in timeline for n, day in enumerate(days)), timeline  # late at night: tomorrow
        assert "  -- der Plan endet von selbst" in timeline
        assert _speaking(env, "plan", "stop", LANG="de_DE.UTF-8") == "acute-back beendet\n"


def test_the_one_line_confirmations_speak_german(env: ErgoEnv) -> None:
    de = {"LANG": "de_DE.UTF-8"}
    with Daemon(env):
        assert _speaking(env, "snooze", "posture", "5m", **de).startswith("posture verschoben bis ")
        assert "posture    alle 20m      verschoben bis " in _speaking(env, "status", **de)
        assert _speaking(env, "done", "posture", **de).startswith("posture: erledigt, gut gemacht; nächste um ")
        assert _speaking(env, "skip", "hydration", **de).startswith(
            "hydration: übersprungen, bevor sie fällig war, ihr Countdown beginnt neu: nächste um ")
        assert _speaking(env, "pause", **de) == "pausiert bis `ergo resume`\n"
        assert "pausiert bis `ergo resume`" in _speaking(env, "status", **de)
        assert _speaking(env, "resume", **de) == "fortgesetzt\n"
        assert _speaking(env, "resume", **de) == "nicht pausiert: die Erinnerungen liefen schon\n"
        assert _speaking(env, "now", "hydration", **de).startswith("hydration: zugestellt; nächste um ")
        assert _speaking(env, "reload", **de) == "Konfiguration neu geladen: nichts geändert\n"
        assert _speaking(env, "stop", **de).startswith("ergo beendet (PID ")


def test_french_with_french_dates_and_the_clients_own_environment_not_the_daemons(env: ErgoEnv) -> None:
    env.env = {k: v for k, v in env.env.items() if k not in i18n.ENV_ORDER} | {"LANG": "de_DE.UTF-8"}
    with Daemon(env):  # the daemon runs under German; the reader is French
        status = _speaking(env, "status", LANG="fr_FR.UTF-8")
        assert status.startswith("ergo fonctionne (PID ") and "toutes les 20m prochain " in status
        schedule = _speaking(env, "schedule", "--hours", "30", LANG="fr_FR.UTF-8")
        assert schedule.startswith("Rappels à venir dans les 30 h") and _heading(schedule, "fr_FR")
        _speaking(env, "plan", "start", "acute-back", LANG="fr_FR.UTF-8")
        plan = _speaking(env, "plan", "status", LANG="fr_FR.UTF-8")
        assert plan.startswith("acute-back (Spasme aigu du dos) : jour 1, commencé " + _babel("MMMEd", "fr_FR") + " ")
        assert _speaking(env, "pause", "10m", LANG="fr_FR.UTF-8").startswith("en pause jusqu'à ")


def test_the_language_key_wins_over_lang(env: ErgoEnv) -> None:
    env.config.write_text('language = "nl"\n', encoding="utf-8")
    with Daemon(env):
        status = _speaking(env, "status", LANG="de_DE.UTF-8")
        assert status.startswith("ergo draait (PID ") and "elke 20m" in status
        assert _speaking(env, "schedule", LANG="de_DE.UTF-8").startswith("Komende herinneringen in de volgende 8 u")
        assert _speaking(env, "resume", LANG="de_DE.UTF-8") == "niet gepauzeerd: herinneringen liepen al\n"
        assert _speaking(env, "plan", "status", LANG="de_DE.UTF-8").startswith("er loopt geen plan")
    # no daemon: `ergo schedule` reads the key itself
    assert _speaking(env, "schedule", LANG="de_DE.UTF-8").startswith("Komende herinneringen in de volgende 8 u, vanaf nu")


def test_english_is_unchanged_and_loads_neither_gettext_nor_babel(env: ErgoEnv) -> None:
    with Daemon(env):
        status = _speaking(env, "status", LANG="C.UTF-8")
        assert status.startswith("ergo is running (pid ") and "  posture    every 20m     next " in status
        schedule = _speaking(env, "schedule", "--hours", "30", LANG="C.UTF-8")
        assert schedule.startswith("Coming reminders for the next 30h, from the running ergo")
        assert _heading(schedule, None) and "  work hours: every day, all day" in schedule
        assert _speaking(env, "resume", LANG="C.UTF-8") == "not paused: reminders were running already\n"
        code = ("import runpy, sys\nsys.argv = ['ergo', 'status']\ntry:\n    runpy.run_module('ergo', run_name='__main__')\n"
                "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m in ('gettext', 'babel', 'datetime')))")
        for lang in ("C.UTF-8", "en_GB.UTF-8"):
            env.env = {k: v for k, v in env.env.items() if k not in i18n.ENV_ORDER} | {"LANG": lang}
            done = subprocess.run([sys.executable, "-c", code], env=env.env, capture_output=True, text=True, timeout=60)
            assert done.stdout.startswith("ergo is running"), done.stdout + done.stderr
            assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_a_timed_break_speaks_spanish() -> None:
    env = ErgoEnv.create(None, POSTURE__INTERVAL="20m", HYDRATION__ENABLED="false", STRETCH__ENABLED="true",
                         STRETCH__INTERVAL="1h", STRETCH__DURATION="1m")
    try:
        with Daemon(env):
            started = _speaking(env, "break", "stretch", LANG="es_ES.UTF-8")
            assert started == ("stretch: pausa iniciada, 1m; cuenta como hecha cuando termina la cuenta atrás "
                               "(`ergo done` la termina antes)\n")
            status = _speaking(env, "status", LANG="es_ES.UTF-8")
            assert "pausa en curso: stretch hasta las " in status and "`ergo done` la termina antes" in status
            assert _speaking(env, "done", "stretch", LANG="es_ES.UTF-8").startswith("stretch: hecho, ¡bien hecho!; el próximo a las ")
    finally:
        env.cleanup()


def _status(**changes) -> dict:
    """A status answer as the daemon sends it (ergo.daemon.control.status), in UTC."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC).replace(microsecond=0)
    at = lambda minutes: (now + timedelta(minutes=minutes)).isoformat()  # noqa: E731
    reminder = {"enabled": True, "interval": "20m", "interval_seconds": 1200.0, "next_due": at(20),
                "snoozed_until": None, "last_fired": None, "held": None, "resumes_at": None}
    status = {"ok": True, "running": True, "pid": 4242, "now": now.isoformat(), "paused": False, "paused_until": None,
              "hold": None, "notifier": "console", "notifier_reason": "console", "idle_backend": "none",
              "config_file": "/home/x/.config/ergo/config.toml", "config_found": True, "plan": None,
              "reminders": {"posture": dict(reminder), "stretch": dict(reminder, held="plan", resumes_at=at(3000),
                                                                     held_why="acute-back plan: stretching comes back with the plan's gentle movement"),
                            "hydration": dict(reminder, held="away")}}
    status.update(changes)
    return status


def test_held_reasons_busy_reasons_and_plan_holds_in_the_readers_words(monkeypatch) -> None:
    from ergo.commands.control import render_status

    monkeypatch.setattr(i18n, "_current", "de")
    text = render_status(_status(busy="in a call (microphone in use by firefox)", hold="busy"))
    assert "angehalten: in einem Anruf (Mikrofon benutzt von firefox)" in text
    assert "hydration  alle 20m      angehalten: abwesend" in text
    assert "(Plan acute-back: das Dehnen kommt mit der sanften Bewegung des Plans zurück)" in text
    text = render_status(_status(hold="locked"))
    assert "Erinnerungen angehalten: Bildschirm gesperrt" in text
    assert "in a command's own words" in render_status(_status(busy="in a command's own words"))
    monkeypatch.setattr(i18n, "_current", "en")
    english = render_status(_status(busy="in a call (microphone in use by firefox)", hold="busy"))
    assert "held: in a call (microphone in use by firefox)" in english and "hydration  every 20m     held: away" in english
    assert "(acute-back plan: stretching comes back with the plan's gentle movement)" in english
