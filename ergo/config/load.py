"""Loading the settings: the sources in their order, the system layer's locks, and one-line errors.

Precedence (highest first): command-line flags > ERGO_* environment > the user's TOML file > the
system-wide TOML file (an admin's defaults) > built-in defaults. Keys the system file lists in
`[policy] locked` take the system value whatever the user sets, with one notice line per attempt.
A validation error names the TOML key and the environment variable a person would edit, never a
traceback. The schema itself is in model.py.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource

from ergo.errors import ConfigError
from ergo.paths import read_config_bytes

from ergo.config.model import ENV_PREFIX, NON_SETTING_ENV, REMINDER_KINDS, SECTIONS, Settings, defaults, flat_values


@dataclass
class Loaded:
    """Settings plus where each leaf value came from ("default", "file PATH", "system file PATH",
    "env ERGO_X", "flag"), the system layer, and notices (a locked key someone tried to change)."""

    settings: Settings
    config_file: Path
    file_exists: bool
    origins: dict[str, str] = field(default_factory=dict)
    system_file: Path | None = None
    system_exists: bool = False
    locked: tuple[str, ...] = ()
    notices: list[str] = field(default_factory=list)
    system_error: str | None = None  # why a broken system-wide file was left out (also in notices)


@dataclass(frozen=True)
class _Layers:
    """Every source's raw data, so an origin or an error can name the file or variable a value came from."""

    user_file: Path
    user_data: dict[str, Any]
    system_file: Path | None
    system_data: dict[str, Any]
    flags: dict[str, Any]
    locked: frozenset[str] = frozenset()
    env: dict[str, str] = field(default_factory=dict)  # _setting_env(), read once per load (not once per key)


def _env_name(loc: tuple[str, ...]) -> str:
    return ENV_PREFIX + "__".join(part.upper() for part in loc)


def _setting_env() -> dict[str, str]:
    """ERGO_* variables that name settings, keyed upper-case."""
    return {k.upper(): v for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX) and k.upper() not in NON_SETTING_ENV}


def _all_keys() -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = []
    for name, info in Settings.model_fields.items():
        model = SECTIONS.get(name)
        if model is None:
            keys.append((name,))
        else:
            keys.extend((name, sub) for sub in model.model_fields)
    return keys


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _read_toml(path: Path) -> dict[str, Any]:
    raw = read_config_bytes(path)  # FIFOs, devices and symlink loops are refused here, without blocking
    if raw is None:
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: cannot read the file ({error.__class__.__name__}: {error})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}{_toml_hint(text, str(error))}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None


def _toml_hint(text: str, message: str) -> str:
    """The commonest slip, an unquoted duration (interval = 5m), gets a pointer to the fix."""
    line = re.search(r"at line (\d+)", message)
    if line is None:
        return ""
    lines = text.splitlines()
    number = int(line.group(1))
    if 0 < number <= len(lines) and re.search(r"=\s*\d[\d.]*\s*[a-zA-Z]", lines[number - 1]):
        return ' (durations are strings: interval = "5m")'
    return ""


def _check_unknown(data: dict[str, Any], path: Path) -> None:
    """Unknown TOML keys and ERGO_* variables are errors, with a did-you-mean."""
    _check_unknown_keys(data, path)
    _check_unknown_env()


def _check_unknown_keys(data: dict[str, Any], path: Path) -> None:
    top = list(Settings.model_fields)
    for key, value in data.items():
        if key not in Settings.model_fields:
            raise ConfigError(f"{path}: unknown key \"{key}\"{_suggest(key, top)}")
        section = SECTIONS.get(key)
        if section is not None:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: {key}: must be a table ([{key}]), not {type(value).__name__}")
            for sub in value:
                if sub not in section.model_fields:
                    raise ConfigError(f"{path}: {key}.{sub}: unknown key{_suggest(sub, list(section.model_fields))}")


def _check_unknown_env() -> None:
    names = {_env_name(loc): loc for loc in _all_keys()} | {_env_name((s,)): (s,) for s in SECTIONS}
    for var in _setting_env():
        if var not in names:
            known = [n for n in names] + sorted(NON_SETTING_ENV)
            close = difflib.get_close_matches(var, known, n=1, cutoff=0.6)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise ConfigError(f"{var}: not an ergo setting{hint}")


def _check_flags(flags: dict[str, Any]) -> None:
    """Unknown --set keys are errors, with a did-you-mean, like unknown file keys."""
    for key, value in flags.items():
        if key not in Settings.model_fields:
            raise ConfigError(f"--set {key}: unknown key{_suggest(key, list(Settings.model_fields))}")
        section = SECTIONS.get(key)
        if section is not None and isinstance(value, dict):
            for sub in value:
                if sub not in section.model_fields:
                    raise ConfigError(f"--set {key}.{sub}: unknown key{_suggest(sub, list(section.model_fields))}")


def _json_env_error() -> str | None:
    """Name the ERGO_ variable whose value should be JSON (a whole section or a list) and is not."""
    for var, value in _setting_env().items():
        wants_json = var in {_env_name((s,)) for s in SECTIONS} or var.endswith(("__MESSAGES", "__CALENDAR"))
        if wants_json:
            try:
                json.loads(value)
            except RecursionError:
                return f"{var}: JSON nested too deeply"
            except json.JSONDecodeError:
                example = "'[\"Sit tall\"]'" if var.endswith("__MESSAGES") else "'{\"interval\": \"20m\"}'"
                return f"{var}: {value!r} is not JSON (write e.g. {var}={example})"
    return None


def _lookup(data: dict[str, Any], loc: tuple[str, ...]) -> Any:
    node: Any = data
    for part in loc:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _env_origin(loc: tuple[str, ...], env: dict[str, str] | None = None) -> str | None:
    """The ERGO_* variable that sets this key, if any (`env`: _setting_env(), when the caller has it)."""
    env = _setting_env() if env is None else env
    if _env_name(loc) in env:
        return _env_name(loc)
    if len(loc) == 2 and _env_name(loc[:1]) in env:
        try:
            section = json.loads(env[_env_name(loc[:1])])
        except json.JSONDecodeError:
            section = None
        if isinstance(section, dict) and loc[1] in section:
            return _env_name(loc[:1])
    return None


def _origin(loc: tuple[str, ...], layers: _Layers) -> str:
    if ".".join(loc) in layers.locked:
        return f"system file {layers.system_file} (locked)"
    if _lookup(layers.flags, loc) is not None:
        return "flag"
    env = _env_origin(loc, layers.env)
    if env is not None:
        return f"env {env}"
    if _lookup(layers.user_data, loc) is not None:
        return f"file {layers.user_file}"
    if _lookup(layers.system_data, loc) is not None:
        return f"system file {layers.system_file}"
    return "default"


def _where(loc: tuple[str, ...], layers: _Layers) -> str:
    origin = _origin(loc, layers)
    dotted = ".".join(loc)
    if origin.startswith("env "):
        return origin[4:]
    if origin == "flag":
        return "--notifier" if loc == ("notifier",) else f"--set {dotted}"
    if origin.startswith("file "):
        return f"{layers.user_file}: {dotted}"
    if origin.startswith("system file "):
        return f"{layers.system_file}: {dotted}"
    return f"built-in default {dotted}"


def _quoted(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def _render_error(error: dict[str, Any], layers: _Layers) -> str:
    loc = tuple(str(p) for p in error["loc"] if not isinstance(p, int))
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if error["type"] == "extra_forbidden":
        origin = _origin(loc, layers)
        where = origin[4:] if origin.startswith("env ") else "--set" if origin == "flag" else \
            str(layers.system_file) if origin.startswith("system file ") else str(layers.user_file)
        return f"{where}: {'.'.join(loc)}: unknown key"
    if error["type"] == "literal_error":
        message = f'"{value}" is not one of {message.removeprefix("Input should be ")}'
    elif error["type"] in ("bool_parsing", "bool_type"):
        message = f'{_quoted(value)} is not true or false'
    elif error["type"] in ("model_type", "dict_type"):
        message = f"must be a table, not {type(value).__name__}"
    elif error["type"].startswith(("string_", "list_")):
        message = f"{value!r}: {message[0].lower()}{message[1:]}"
    return f"{_where(loc, layers)}: {message}"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, one level of sections deep (the shape of ergo's TOML)."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


#: A lock covers every key that can change what it governs: `schedule.hours` is the delivery window
#: of every reminder only while no reminder has its own `hours` (a per-kind value replaces the
#: schedule's), so locking it locks each kind's `hours` too (to the system file's value, or unset).
GOVERNED: dict[str, tuple[str, ...]] = {
    f"schedule.{part}": tuple(f"{kind}.{part}" for kind in REMINDER_KINDS) for part in ("days", "hours")
}


def _read_policy(data: dict[str, Any], path: Path) -> frozenset[str]:
    """`[policy] locked = [...]` of the system file, as dotted leaf keys (a section name locks all of it)."""
    policy = data.pop("policy", None)
    if policy is None:
        return frozenset()
    if not isinstance(policy, dict):
        raise ConfigError(f"{path}: policy: must be a table ([policy]), not {type(policy).__name__}")
    for key in policy:
        if key != "locked":
            raise ConfigError(f"{path}: policy.{key}: unknown key{_suggest(key, ['locked'])}")
    locked = policy.get("locked", [])
    if not isinstance(locked, list) or not all(isinstance(k, str) for k in locked):
        raise ConfigError(f'{path}: policy.locked: must be a list of keys, e.g. ["hydration.interval"]')
    leaves = [".".join(loc) for loc in _all_keys()]
    keys: set[str] = set()
    for name in locked:
        matched = [leaf for leaf in leaves if leaf == name or leaf.startswith(name + ".")]
        if not matched:
            raise ConfigError(f'{path}: policy.locked: "{name}" is not a setting{_suggest(name, leaves + list(SECTIONS))}')
        keys.update(matched)
    for key in list(keys):
        keys.update(GOVERNED.get(key, ()))
    return frozenset(keys)


def _locked_values(layers: _Layers) -> tuple[dict[str, Any], list[str]]:
    """The system's value (or the built-in default) of each locked key, and one notice per attempt to change it."""
    values: dict[str, Any] = {}
    notices: list[str] = []
    if not layers.locked:
        return values, notices
    fallback = flat_values(defaults())
    who = f"locked by {layers.system_file}: your value is ignored (ask whoever manages this computer)"
    for dotted in sorted(layers.locked):
        loc = tuple(dotted.split("."))
        value = _lookup(layers.system_data, loc)
        value = fallback[dotted] if value is None else value
        node = values
        for part in loc[:-1]:
            node = node.setdefault(part, {})
        node[loc[-1]] = value
        if _lookup(layers.flags, loc) is not None:
            notices.append(f"--set {dotted}: {who}")
        if (env := _env_origin(loc, layers.env)) is not None:
            notices.append(f"{env}: {dotted} is {who}")
        if _lookup(layers.user_data, loc) is not None:
            notices.append(f"{layers.user_file}: {dotted}: {who}")
    return values, notices


def load_settings(config_file: Path, flags: dict[str, Any] | None = None, system_file: Path | None = None, *,
                  system_layer: bool = True) -> Loaded:
    """Build the effective settings; any problem is one ConfigError line naming file or variable and key.

    `system_file` defaults to ergo.paths.system_config_file(); `system_layer=False` leaves it out.
    """
    flags = flags or {}
    if system_layer and system_file is None:
        from ergo.paths import system_config_file

        system_file = system_config_file()
    system_data, locked, system_error = _system_layer(system_file)
    file_data = _read_toml(config_file)
    if "policy" in file_data:
        where = f" ({system_file})" if system_file is not None else ""
        raise ConfigError(f"{config_file}: policy: [policy] is read only from the system-wide file{where}")
    _check_unknown(file_data, config_file)
    _check_flags(flags)
    layers = _Layers(config_file, file_data, system_file, system_data, flags, locked, _setting_env())
    forced, notices = _locked_values(layers)
    init = _merge(flags, forced)
    file_layer = _merge(system_data, file_data)

    class BoundSettings(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                       env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                       file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, InitSettingsSource(settings_cls, file_layer))

    try:
        settings = BoundSettings(**init)
    except ValidationError as error:
        first = error.errors()[0]
        problem = ConfigError(_render_error(first, layers))
        problem.key = ".".join(str(p) for p in first["loc"] if not isinstance(p, int))
        raise problem from None
    except (ValueError, tomllib.TOMLDecodeError) as error:  # e.g. ERGO_IDLE='x' that is not JSON
        raise ConfigError(_json_env_error() or f"environment: {error}".splitlines()[0]) from None
    except RecursionError:  # JSON in a variable nested 100k deep
        raise ConfigError(_json_env_error() or "environment: a value is nested too deeply") from None
    origins = {".".join(loc): _origin(loc, layers) for loc in _all_keys()}
    plain = Settings.model_construct(**{name: getattr(settings, name) for name in Settings.model_fields})
    return Loaded(plain, config_file, bool(file_data) or _is_file(config_file), origins, system_file,
                  system_file is not None and _is_file(system_file), tuple(sorted(locked)),
                  [f"system-wide file ignored, your own settings apply: {system_error}"] * bool(system_error) + notices,
                  system_error)


def _system_layer(system_file: Path | None) -> tuple[dict[str, Any], frozenset[str], str | None]:
    """The system file's values, its locked keys, and what is wrong with it when it is broken.

    A broken system file (unreadable, a FIFO or directory, too big, not TOML, an unknown key, a bad
    value or policy) is left out whole, with one notice for the log and `ergo status`: every user's
    ergo keeps running on their own config, since none of them can fix the file. Its locks go with
    it (a lock ergo cannot read locks nothing)."""
    if system_file is None:
        return {}, frozenset(), None
    try:
        data = _read_toml(system_file)
        locked = _read_policy(data, system_file)
        _check_unknown_keys(data, system_file)
        _validate_alone(data, system_file)
    except ConfigError as error:
        return {}, frozenset(), _one_line(str(error))
    return data, locked, None


def _validate_alone(data: dict[str, Any], path: Path) -> None:
    """The system file's values, each checked by its own section model or field type: no environment
    and no pydantic-settings class built per call (a few ms instead of 20)."""
    from pydantic import TypeAdapter

    for key, value in data.items():
        try:
            model = SECTIONS.get(key)
            if model is not None:
                model.model_validate(value)
            else:
                info = Settings.model_fields[key]
                kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation  # type: ignore[valid-type]
                TypeAdapter(kind).validate_python(value)
        except ValidationError as error:
            first = error.errors()[0]
            loc = ".".join([key, *(str(p) for p in first["loc"] if not isinstance(p, int))])
            raise ConfigError(f"{path}: {loc}: {first['msg'].removeprefix('Value error, ')}") from None


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 300 else line[:297] + "..."


def _is_file(path: Path) -> bool:
    """Whether the config file is there; a symlink loop or unreadable dir counts as absent, never raises."""
    try:
        return path.exists()
    except OSError:
        return False


def export_json(loaded: Loaded) -> dict[str, Any]:
    """The effective settings as JSON (durations in seconds), read by ergo.config.frozen."""

    def seconds(value: timedelta | None) -> float | None:
        return None if value is None else value.total_seconds()

    s = loaded.settings
    reminders = {
        kind: {
            "enabled": r.enabled, "interval": seconds(r.interval), "title": r.title, "messages": list(r.messages),
            "urgency": r.urgency, "natural_break": seconds(r.natural_break), "days": r.days, "hours": r.hours,
            "duration": seconds(r.duration), "daily_goal": getattr(r, "daily_goal", None),
        }
        for kind, r in s.reminders().items()
    }
    return {
        "config_file": str(loaded.config_file),
        "file_exists": loaded.file_exists,
        "system_file": None if loaded.system_file is None else str(loaded.system_file),
        "system_exists": loaded.system_exists,
        "notices": list(loaded.notices),
        "origins": loaded.origins,
        "settings": {
            "notifier": s.notifier, "language": s.language, "expire": seconds(s.expire), "merge_window": seconds(s.merge_window),
            "quiet_after_resume": seconds(s.quiet_after_resume), "log_level": s.log_level,
            "history_retention": seconds(s.history_retention),
            "schedule": {"days": s.schedule.days, "hours": s.schedule.hours},
            "idle": {"backend": s.idle.backend, "away_after": seconds(s.idle.away_after)},
            "meetings": {"microphone": s.meetings.microphone, "camera": s.meetings.camera,
                         "fullscreen": s.meetings.fullscreen, "calendar": list(s.meetings.calendar),
                         "after": seconds(s.meetings.after)},
            "reminders": reminders,
        },
    }
