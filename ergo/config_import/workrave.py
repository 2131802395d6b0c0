"""Workrave: its GSettings under /org/workrave/ (a `dconf dump /org/workrave/` text, or read live
with `gsettings`), or the workrave.ini it writes on Windows. Times are in seconds.

All three give the same keys (`timers/micro-pause/limit`, ...): dconf spells them with
hyphens, the ini with underscores and a dot after the first part (`[timers]`
`micro_pause.limit=180`). A micro-pause is ergo's posture check, a rest break its movement
reminder. Workrave counts only active time towards a break; ergo counts clock time and
restarts a countdown after an absence of `natural_break` (Workrave's `auto-reset`).
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
from typing import Any

from ergo.config_import.base import Imported, Mapped, check_number, refuse
from ergo.errors import ErgoError
from ergo.paths import MAX_CONFIG_BYTES

PROGRAM = "Workrave"
SCHEMA = "org.workrave"
KINDS = {"micro-pause": "posture", "rest-break": "movement"}
SNOOZE = "ergo has no default snooze length: `ergo snooze KIND 10m` says how long each time"
GSETTINGS_TIMEOUT = 20  # seconds: gsettings answers in milliseconds; one hung on its schema cache is given up on


def _value(text: str) -> Any:
    """A GVariant text value as dconf/gsettings print it (or an ini value): int, bool or string."""
    raw = text.strip()
    for prefix in ("int32 ", "uint32 ", "int64 ", "uint64 ", "int16 ", "uint16 "):
        raw = raw.removeprefix(prefix)
    if raw in ("true", "false"):
        return raw == "true"
    try:
        return int(raw)
    except ValueError:
        pass
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in ("'", '"'):
        return raw[1:-1]
    return raw


def _key(path: str) -> str:
    return path.strip("/").replace("_", "-").removeprefix("org/workrave/")


def from_ini_text(text: str, where: str) -> dict[str, Any]:
    """`dconf dump /org/workrave/` (or `dconf dump /`) text, or a workrave.ini, as {"timers/micro-pause/limit": 180}."""
    parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text, source=where)
    except configparser.Error:
        raise refuse(where, f"not a dconf dump or an ini file: not {PROGRAM}'s settings") from None
    flat: dict[str, Any] = {}
    for section in parser.sections():
        for name, value in parser.items(section):
            flat[_key(f"{section}/{name.replace('.', '/')}")] = _value(value)
    return flat


def from_gsettings(where: str = "gsettings (live)") -> dict[str, Any]:
    """The live values of every org.workrave key, through the real `gsettings` tool."""
    tool = shutil.which("gsettings")
    if tool is None:
        raise ErgoError("gsettings is not installed: pass a file instead (dconf dump /org/workrave/ > workrave.txt)")
    try:
        done = subprocess.run([tool, "list-recursively", SCHEMA], capture_output=True, timeout=GSETTINGS_TIMEOUT,
                              encoding="utf-8", errors="replace")  # an encoding: text
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ErgoError(f"gsettings failed: {error}") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise ErgoError(f"cannot read {PROGRAM}'s settings with gsettings ({SCHEMA}: {reason}): is Workrave installed? "
                        "Or pass a file (dconf dump /org/workrave/ > workrave.txt)")
    if len(done.stdout) > MAX_CONFIG_BYTES:
        raise refuse(where, f"gsettings printed {len(done.stdout)} characters, more than any Workrave has (at most 1 MiB)")
    flat: dict[str, Any] = {}
    for line in done.stdout.splitlines():  # "org.workrave.timers.micro-pause limit 180": schema, key, GVariant text
        parts = line.split(" ", 2)
        if len(parts) == 3:
            flat[_key(parts[0].replace(".", "/") + "/" + parts[1])] = _value(parts[2])
    return flat


def parse(flat: dict[str, Any], where: str) -> Imported:
    """Map Workrave's settings; without any of its timers this is not Workrave's, and is refused."""
    for key, value in flat.items():  # an int64 at its limit, a 20-digit number: a damaged file
        if isinstance(value, int) and not isinstance(value, bool):
            check_number(value, key, where, f"{PROGRAM} settings file")
    if not any(f"timers/{timer}/limit" in flat for timer in KINDS):
        raise refuse(where, f"no timers/micro-pause/limit or timers/rest-break/limit: not {PROGRAM}'s settings "
                            "(or a version ergo does not know)")
    out = Imported(PROGRAM, where)
    used: set[str] = set()
    for timer, kind in KINDS.items():
        enabled = f"breaks/{timer}/enabled"
        if isinstance(flat.get(enabled), bool):
            out.mapped.append(Mapped(f"{kind}.enabled", flat[enabled], f"{PROGRAM} {enabled} = {str(flat[enabled]).lower()}"))
            used.add(enabled)
        # auto-reset is how long Workrave's break lasts, and a pause that long resets its timer:
        # both ergo's timed break (duration) and its natural break.
        for name, target, method in (("limit", "interval", out.interval), ("auto-reset", "natural_break", out.duration),
                                     ("auto-reset", "duration", out.interval)):
            key = f"timers/{timer}/{name}"
            value = flat.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                method(f"{kind}.{target}", value, f"{PROGRAM} {key} = {value} (seconds)")
                used.add(key)
        snooze = f"timers/{timer}/snooze"
        if snooze in flat:
            out.skip([f"{snooze} = {flat[snooze]}"], SNOOZE)
            used.add(snooze)
    daily = sorted(k for k in flat if "daily-limit" in k and k not in used)
    if daily:
        out.skip(["timers/daily-limit, breaks/daily-limit"], "ergo has no daily limit on computer use")
        used.update(daily)
    out.skip([k for k in sorted(flat) if k not in used], "no counterpart in ergo")
    return out
