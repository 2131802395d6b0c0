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
