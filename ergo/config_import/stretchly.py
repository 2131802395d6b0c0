"""Stretchly: config.json in its Electron config dir (electron-store; every time in milliseconds).

Keys as in Stretchly's app/utils/defaultSettings.js. As in its app/breaksPlanner.js, a long
break takes the place of every (`breakInterval` + 1)-th mini break, so long breaks come
every `microbreakInterval` x (`breakInterval` + 1). Known layout: Stretchly 1.x
(`__internal__.migrations.version`, when electron-store wrote one).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from ergo.config_import.base import Imported, Mapped, load_json, number, refuse

PROGRAM = "Stretchly"
KNOWN_MAJOR = "1"
BUILT_IN = {
    "monitorDnd": "ergo always holds reminders while do-not-disturb is on",
    "pauseForSuspendOrLock": "ergo always holds reminders while the screen is locked or the machine sleeps",
}
SNOOZE = "ergo has no default snooze length: `ergo snooze KIND 10m` says how long each time"
HANDLED = {"microbreak", "microbreakInterval", "microbreakDuration", "break", "breakInterval", "breakDuration", "naturalBreaks",
           "naturalBreaksInactivityResetTime", "useIdeasFromSettings", "microbreakIdeas", "breakIdeas", "__internal__"}


def default_path() -> Path:
    """Electron's userData for the app "Stretchly"."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Stretchly" / "config.json"
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", str(Path.home()))) / "Stretchly" / "config.json"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "Stretchly" / "config.json"


def _ideas(items: Any) -> list[str]:
    """Enabled ideas as one line each: mini break ideas are text, long break ideas [title, text]."""
    texts = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("enabled", True):
            data = item.get("data")
            text = ": ".join(str(x) for x in data) if isinstance(data, list) else str(data or "")
            if text.strip():
                texts.append(text.strip())
    return texts


def parse(text: str, where: str) -> Imported:
    """Map Stretchly's settings; a file of another program or an unknown version is refused."""
    data = load_json(text, where, f"{PROGRAM} config.json")
    if not isinstance(data, dict) or "microbreakInterval" not in data:
        raise refuse(where, f"no microbreakInterval: not a {PROGRAM} config.json")
    internal = data.get("__internal__")
    migrations = internal.get("migrations") if isinstance(internal, dict) else None
    version = migrations.get("version") if isinstance(migrations, dict) else None
    if version is not None and str(version).split(".")[0] != KNOWN_MAJOR:
        raise refuse(where, f"{PROGRAM} {version} is not a version ergo knows (it reads {KNOWN_MAJOR}.x)")
    out = Imported(PROGRAM, where)
    micro_ms = number(data, "microbreakInterval", where, PROGRAM)
    every = number(data, "breakInterval", where, PROGRAM) if "breakInterval" in data else 2.0
    if "microbreak" in data:
        out.mapped.append(Mapped("posture.enabled", bool(data["microbreak"]), f"{PROGRAM} microbreak = {_js(data['microbreak'])}"))
    out.interval("posture.interval", micro_ms / 1000, f"{PROGRAM} microbreakInterval = {micro_ms:g} (ms)")
    if "break" in data:
        out.mapped.append(Mapped("movement.enabled", bool(data["break"]), f"{PROGRAM} break = {_js(data['break'])}"))
    out.interval("movement.interval", micro_ms * (every + 1) / 1000,
                 f"{PROGRAM} microbreakInterval x (breakInterval + 1) = {micro_ms:g} ms x ({every:g} + 1)")
    for key, kind in (("microbreakDuration", "posture"), ("breakDuration", "movement")):
        if key in data:
            length = number(data, key, where, PROGRAM)
            out.interval(f"{kind}.duration", length / 1000, f"{PROGRAM} {key} = {length:g} (ms)")
    if data.get("naturalBreaks", True) and "naturalBreaksInactivityResetTime" in data:
        reset = number(data, "naturalBreaksInactivityResetTime", where, PROGRAM)
        for kind in ("posture", "movement"):
            out.duration(f"{kind}.natural_break", reset / 1000, f"{PROGRAM} naturalBreaksInactivityResetTime = {reset:g} (ms)")
    elif "naturalBreaks" in data:
        out.skip(["naturalBreaks = false"], "ergo keeps its own natural_break for each reminder")
    if data.get("useIdeasFromSettings"):
        for key, kind in (("microbreakIdeas", "posture"), ("breakIdeas", "movement")):
            ideas = _ideas(data.get(key))
            if ideas:
                out.mapped.append(Mapped(f"{kind}.messages", ideas, f"{PROGRAM} {key} (the {len(ideas)} enabled)"))
    else:
        out.skip([k for k in ("microbreakIdeas", "breakIdeas") if k in data],
                 "useIdeasFromSettings is false: Stretchly's built-in ideas; ergo shows its own tips")
    for key, why in BUILT_IN.items():
        if key in data:
            out.skip([f"{key} = {_js(data[key])}"], why)
    out.skip([k for k in data if k.endswith("PostponeTime")], SNOOZE)
    out.skip([k for k in data if k not in HANDLED and k not in BUILT_IN and not k.endswith("PostponeTime")],
             "no counterpart in ergo")
    return out


def _js(value: Any) -> str:
    return json.dumps(value)
