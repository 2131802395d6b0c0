"""Safe Eyes: ~/.config/safeeyes/safeeyes.json (intervals in minutes, break durations in seconds).

Known layout: `meta.config_version` 6.x (Safe Eyes 2.x, as Debian ships it). A short
break is a brief pause every `short_break_interval` minutes: ergo's posture check. A long
break comes every `long_break_interval` minutes and means getting up: ergo's movement.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ergo.config_import.base import Imported, Mapped, load_json, number, refuse

PROGRAM = "Safe Eyes"
KNOWN_MAJOR = "6"
HANDLED = {"meta", "short_break_interval", "long_break_interval", "short_break_duration", "long_break_duration",
           "postpone_duration", "allow_postpone", "plugins", "short_breaks", "long_breaks"}


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "safeeyes" / "safeeyes.json"


def parse(text: str, where: str) -> Imported:
    """Map Safe Eyes' settings; a file of another program or an unknown version is refused."""
    data = load_json(text, where, f"{PROGRAM} safeeyes.json")
    if not isinstance(data, dict) or "short_break_interval" not in data:
        raise refuse(where, f"no short_break_interval: not a {PROGRAM} safeeyes.json")
    meta = data.get("meta")
    version = str(meta.get("config_version", "")) if isinstance(meta, dict) else ""
    if version.split(".")[0] != KNOWN_MAJOR:
        raise refuse(where, f"{PROGRAM} config version {version or 'unknown'} is not one ergo knows (it reads {KNOWN_MAJOR}.x)")
    out = Imported(PROGRAM, where)
    short = number(data, "short_break_interval", where, PROGRAM)
    long = number(data, "long_break_interval", where, PROGRAM)
    out.interval("posture.interval", short * 60, f"{PROGRAM} short_break_interval = {short:g} (minutes)")
    out.interval("movement.interval", long * 60, f"{PROGRAM} long_break_interval = {long:g} (minutes)")
    for key, kind in (("short_break_duration", "posture"), ("long_break_duration", "movement")):
        if key in data:
            seconds = number(data, key, where, PROGRAM)
            out.interval(f"{kind}.duration", seconds, f"{PROGRAM} {key} = {seconds:g} (seconds)")
    listed = data.get("plugins")  # JSON of any shape: a plugins that is no list, an id that is a list, settings null
    plugins = {str(p.get("id")): p for p in (listed if isinstance(listed, list) else []) if isinstance(p, dict)}
    smart = plugins.get("smartpause")
    if smart is not None and smart.get("enabled"):
        settings: Any = smart.get("settings")
        settings = settings if isinstance(settings, dict) else {}
        idle = settings.get("idle_time")
        if isinstance(idle, (int, float)) and not isinstance(idle, bool):
            out.duration("idle.away_after", idle * 60, f"{PROGRAM} smartpause idle_time = {idle:g} (minutes)")
        if settings.get("interpret_idle_as_break"):
            for key, kind in (("short_break_duration", "posture"), ("long_break_duration", "movement")):
                seconds = number(data, key, where, PROGRAM)
                out.duration(f"{kind}.natural_break", seconds,
                             f"{PROGRAM} {key} = {seconds:g} (seconds), smartpause interpret_idle_as_break = true")
        else:
            out.skip(["smartpause interpret_idle_as_break = false"],
                     "ergo keeps its own natural_break for each reminder (an absence that long counts as the break)")
    elif smart is not None:
        out.mapped.append(Mapped("idle.backend", "none", f"{PROGRAM} smartpause plugin disabled (no idle detection)"))
    out.skip([k for k in ("postpone_duration", "allow_postpone") if k in data],
             "ergo has no default snooze length: `ergo snooze KIND 10m` says how long each time")
    out.skip([k for k in ("short_breaks", "long_breaks") if k in data],
             "ergo shows its own tips from the documents; write your own texts in messages = [...]")
    if "donotdisturb" in plugins:
        out.skip(["donotdisturb plugin"], "ergo always holds reminders while do-not-disturb is on")
    out.skip([f"{name} plugin" for name in plugins if name not in ("smartpause", "donotdisturb")], "no counterpart in ergo")
    out.skip([k for k in data if k not in HANDLED], "no counterpart in ergo")
    return out

