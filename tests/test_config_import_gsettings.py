"""Workrave's live settings read in this process by the real `gsettings`, with Workrave's real schema compiled
here and GSettings' keyfile backend (a private `$XDG_CONFIG_HOME/glib-2.0/settings/keyfile`, no D-Bus): every
key, values with spaces, a settings store too large to be Workrave's, a gsettings hung on its schema cache
(a FIFO), and the one-line failures. In process, so mutation testing (benchmarks/mutation.sh) sees them;
tests/test_config_import.py runs the CLI against the real dconf service.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ergo.config_import import workrave
from ergo.errors import ConfigError, ErgoError
from ergo.paths import MAX_CONFIG_BYTES
from tests.desktop import require_tools
from tests.helpers import REPO

DATA = REPO / "tests" / "data"


def workrave_schemas(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend: str) -> None:
    """Workrave's real schema compiled into tmp_path, and GSettings' `backend` ("memory", "keyfile") for
    the real gsettings this process runs."""
    require_tools("gsettings", "glib-compile-schemas")
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    for name in ("org.workrave.gschema.xml", "org.workrave.enums.xml"):
        shutil.copy(DATA / name, schemas / name)
    subprocess.run(["glib-compile-schemas", str(schemas)], check=True)
    monkeypatch.setenv("GSETTINGS_SCHEMA_DIR", str(schemas))
    monkeypatch.setenv("GSETTINGS_BACKEND", backend)


@pytest.fixture
def keyfile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The keyfile the real gsettings reads Workrave's settings from (empty: the schema's defaults)."""
    workrave_schemas(monkeypatch, tmp_path, "keyfile")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = tmp_path / "config" / "glib-2.0" / "settings" / "keyfile"
    path.parent.mkdir(parents=True)
    return path


def _schema_keys() -> set[str]:
    """Every key of Workrave's schema as ergo names it ("timers/micro-pause/limit"), from the XML itself."""
    root = ET.parse(DATA / "org.workrave.gschema.xml").getroot()
    return {schema.get("path", "").removeprefix("/org/workrave/") + key.get("name", "")
            for schema in root.iter("schema") for key in schema.iter("key")}


def test_every_key_of_the_live_settings_is_read_with_its_value(keyfile: Path) -> None:
    """`gsettings set` values (a string with spaces too) come back whole, and no key of the schema is lost."""
    for schema, key, value in (("org.workrave.timers.micro-pause", "limit", "240"),
                               ("org.workrave.breaks.rest-break", "enabled", "false"),
                               ("org.workrave.general", "datadir", "'/home/me/My Workrave Data'")):
        subprocess.run(["gsettings", "set", schema, key, value], check=True)
    assert "limit=240" in keyfile.read_text("utf-8")  # the real keyfile backend wrote it
    flat = workrave.from_gsettings()
    assert set(flat) == _schema_keys() and len(flat) == 41
    assert flat["timers/micro-pause/limit"] == 240 and flat["breaks/rest-break/enabled"] is False
    assert flat["general/datadir"] == "/home/me/My Workrave Data"
    assert flat["timers/rest-break/limit"] == 2700 and flat["timers/daily-limit/reset-pred"] == "day/4:00"


def test_live_settings_up_to_1_mib_are_read_and_larger_ones_refused(keyfile: Path) -> None:
    """gsettings' whole output is read up to 1 MiB, like a file; more is no Workrave's, refused in one line."""
    keyfile.write_text("[org/workrave/general]\ndatadir=''\n", "utf-8")
    printed = len(subprocess.run(["gsettings", "list-recursively", "org.workrave"], capture_output=True, text=True,
                                 check=True).stdout)
    filler = "x" * (MAX_CONFIG_BYTES - printed)  # the output then has exactly MAX_CONFIG_BYTES characters
    keyfile.write_text(f"[org/workrave/general]\ndatadir='{filler}'\n", "utf-8")
    assert workrave.from_gsettings()["general/datadir"] == filler
    keyfile.write_text(f"[org/workrave/general]\ndatadir='{filler}x'\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        workrave.from_gsettings()
    assert str(caught.value) == (f"gsettings (live): gsettings printed {MAX_CONFIG_BYTES + 1} characters, more than any "
                                 "Workrave has (at most 1 MiB)")


def test_a_gsettings_that_hangs_is_given_up_on_in_one_line(keyfile: Path, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    """The real gsettings blocks opening a schema cache that is a FIFO: ergo waits GSETTINGS_TIMEOUT, then one line."""
    hung = tmp_path / "hung"
    hung.mkdir()
    os.mkfifo(hung / "gschemas.compiled")
    monkeypatch.setenv("GSETTINGS_SCHEMA_DIR", str(hung))
    monkeypatch.setattr(workrave, "GSETTINGS_TIMEOUT", 0.5)
    with pytest.raises(ErgoError) as caught:
        workrave.from_gsettings()
    tool = shutil.which("gsettings")
    assert str(caught.value) == (f"gsettings failed: Command '['{tool}', 'list-recursively', 'org.workrave']' timed "
                                 "out after 0.5 seconds")


def test_gsettings_own_reason_is_in_the_one_line(keyfile: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GSETTINGS_SCHEMA_DIR", str(tmp_path))  # no schema there
    with pytest.raises(ErgoError) as caught:
        workrave.from_gsettings()
    assert re.fullmatch(r"cannot read Workrave's settings with gsettings \(org\.workrave: No such schema .org\.workrave.\): "
                        r"is Workrave installed\? Or pass a file \(dconf dump /org/workrave/ > workrave\.txt\)",
                        str(caught.value)), str(caught.value)
