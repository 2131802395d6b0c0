"""The one settings model, its sources and its one-line error messages.

Precedence (highest first): command-line flags > ERGO_* environment > the user's
TOML file > the system-wide TOML file (an admin's defaults) > built-in defaults.
Keys the system file lists in `[policy] locked` take the system value whatever
the user sets, with one notice line per attempt. Nested keys use "__" in the environment
(ERGO_HYDRATION__INTERVAL=45m). Durations go through ergo.durations, never
through pydantic's own timedelta parsing (which reads "45:00" as 45 hours).
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
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError, create_model
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ergo.durations import DurationError, format_duration, parse_duration
from ergo.errors import ConfigError
from ergo.paths import read_config_bytes
from ergo.worktime import WorkHoursError, parse_days, parse_hours

ENV_PREFIX = "ERGO_"
#: ERGO_* variables that are not settings (locations and the test harness).
NON_SETTING_ENV = frozenset({"ERGO_CONFIG", "ERGO_STATE_DIR", "ERGO_RUNTIME_DIR", "ERGO_REQUIRE_DESKTOP",
                             "ERGO_CONTROL_TRANSPORT", "ERGO_NO_SEEDS", "ERGO_SEEDS_DIR"})
MAX_INTERVAL = timedelta(hours=24)


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError(f"{format_duration(value)} is not a positive duration (try 45m or 1h30m)")
    return value


def _interval(value: timedelta) -> timedelta:
    _positive(value)
    if value > MAX_INTERVAL:
        raise ValueError(f"{format_duration(value)} is longer than 24h: at most 24h (try 45m or 1h30m)")
    if value < timedelta(seconds=1):
        raise ValueError("intervals shorter than 1s are not supported")
    return value


def _at_most(limit: timedelta) -> Any:
    """A validator for a positive duration with an upper bound that the error states."""

    def check(value: timedelta) -> timedelta:
        _positive(value)
        if value > limit:
            raise ValueError(f"{_short(value)} is too long: at most {format_duration(limit)}")
        return value

    return check


def _short(value: timedelta) -> str:
    text = format_duration(value)
    return text if len(text) <= 24 else f"{value.days} days"


def _duration(value: Any) -> timedelta:
    try:
        return parse_duration(value)
    except DurationError as error:
        raise ValueError(str(error)) from None


def _checked_by(parse: Any) -> Any:
    """A pydantic validator that keeps the text but rejects what `parse` rejects, with its message."""

    def check(value: str) -> str:
        try:
            parse(value)
        except WorkHoursError as error:
            raise ValueError(str(error)) from None
        return value

    return check


_as_text = PlainSerializer(format_duration, return_type=str)
#: Upper bounds (issue 7): a value the daemon could not schedule is refused when the config is read.
MAX_SHORT = timedelta(hours=1)  # expire, merge_window, quiet_after_resume
MAX_LONG = timedelta(hours=24)  # natural_break, idle.away_after
Duration = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_at_most(MAX_SHORT)), _as_text]
LongDuration = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_at_most(MAX_LONG)), _as_text]
MAX_RETENTION = timedelta(days=3650)


def _retention(value: timedelta) -> timedelta:
    """1 to 3650 days, said in days: a bound a person reads, and `now - retention` always a valid date."""
    if value > MAX_RETENTION:
        raise ValueError(f"{_days_text(value)} is too long: at most {_days_text(MAX_RETENTION)}")
    if value < timedelta(days=1):
        raise ValueError(f"{format_duration(value)} is too short: at least 1d")
    return value


def _days_text(value: timedelta) -> str:
    return f"{value.days}d" if value == timedelta(days=value.days) else format_duration(value)


Retention = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_retention),
                      PlainSerializer(_days_text, return_type=str)]
Interval = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_interval), _as_text]
Days = Annotated[str, AfterValidator(_checked_by(parse_days))]
Hours = Annotated[str, AfterValidator(_checked_by(parse_hours))]
Urgency = Literal["low", "normal", "critical"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class Reminder(_Section):
    """One kind of reminder; every field may be set per kind in [KIND] of the TOML file."""

    enabled: bool = True
    interval: Interval = timedelta(minutes=30)
    title: str | None = None
    messages: list[str] = []
    urgency: Urgency = "normal"
    natural_break: LongDuration | None = None
    duration: Interval | None = None  # how long the break itself lasts (a Start button counts it down)
    days: Days | None = None
    hours: Hours | None = None


def _kind(name: str, enabled: bool, interval: str, title: str, natural_break: str | None,
          duration: str | None = None, **extra: Any) -> type[Reminder]:
    """A Reminder subclass whose defaults are this kind's, so a partial [KIND] table keeps the rest."""
    return create_model(
        name,
        __base__=Reminder,
        __doc__=f"The {name.lower()} reminder.",
        enabled=(bool, enabled),
        interval=(Interval, interval),
        title=(str | None, title),
        natural_break=(LongDuration | None, natural_break),
        duration=(Interval | None, duration),
        **extra,
    )


Posture = _kind("Posture", True, "30m", "Posture check", "5m")
# daily_goal: glasses of water a day that `ergo stats` counts against (none by default)
Hydration = _kind("Hydration", True, "45m", "Drink some water", "15m",
                  daily_goal=(Annotated[int, Field(ge=1, le=100)] | None, None))
Stretch = _kind("Stretch", True, "1h", "Stretch break", "5m", "1m")
Movement = _kind("Movement", True, "50m", "Time to move", "5m", "3m")
Breathing = _kind("Breathing", False, "90m", "Breathe", "5m", "1m")
Workspace = _kind("Workspace", False, "2h", "Check your workspace", None)
Strength = _kind("Strength", False, "4h", "Core strength", None)


class Schedule(_Section):
    """When reminders may be delivered at all, in local time."""

    days: Days = "mon-sun"
    hours: Hours = "00:00-24:00"


class Idle(_Section):
    """How ergo learns that the person is away."""

    backend: Literal["auto", "mutter", "screensaver", "swayidle", "x11", "macos", "windows", "none"] = "auto"
    away_after: LongDuration = timedelta(minutes=3)


class Settings(BaseSettings):
    """Everything a user can configure; see config/ergo.toml for the documented defaults."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
        nested_model_default_partial_update=True,
        case_sensitive=False,
    )

    notifier: Literal["auto", "freedesktop", "plyer", "osascript", "console"] = "auto"
    expire: Duration = timedelta(seconds=30)
    merge_window: Duration = timedelta(minutes=2)
    quiet_after_resume: Duration = timedelta(minutes=1)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    history_retention: Retention = timedelta(days=365)
    schedule: Schedule = Schedule()
    idle: Idle = Idle()
    posture: Posture = Posture()
    hydration: Hydration = Hydration()
    stretch: Stretch = Stretch()
    movement: Movement = Movement()
    breathing: Breathing = Breathing()
    workspace: Workspace = Workspace()
    strength: Strength = Strength()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # toml_file in model_config alone is ignored: the source must be returned here.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, deep_merge=True))

    def reminders(self) -> dict[str, Reminder]:
        """Every reminder kind, enabled or not, in a stable order."""
        return {name: getattr(self, name) for name in REMINDER_KINDS}

    def enabled_reminders(self) -> dict[str, Reminder]:
        return {name: r for name, r in self.reminders().items() if r.enabled}


REMINDER_KINDS = tuple(
    name for name, info in Settings.model_fields.items() if isinstance(info.annotation, type) and issubclass(info.annotation, Reminder)
)
SECTIONS: dict[str, type[BaseModel]] = {"schedule": Schedule, "idle": Idle} | {
    kind: Settings.model_fields[kind].annotation for kind in REMINDER_KINDS  # type: ignore[misc]
}


# --- loading ---------------------------------------------------------------


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


@dataclass(frozen=True)
class _Layers:
    """Every source's raw data, so an origin or an error can name the file or variable a value came from."""

    user_file: Path
    user_data: dict[str, Any]
    system_file: Path | None
    system_data: dict[str, Any]
    flags: dict[str, Any]
    locked: frozenset[str] = frozenset()


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
        wants_json = var in {_env_name((s,)) for s in SECTIONS} or var.endswith("__MESSAGES")
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


def _env_origin(loc: tuple[str, ...]) -> str | None:
    """The ERGO_* variable that sets this key, if any."""
    env = _setting_env()
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
    env = _env_origin(loc)
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
        if (env := _env_origin(loc)) is not None:
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
    system_data = _read_toml(system_file) if system_file is not None else {}
    locked = _read_policy(system_data, system_file) if system_file is not None else frozenset()
    if system_file is not None:
        _check_unknown(system_data, system_file)
    file_data = _read_toml(config_file)
    if "policy" in file_data:
        where = f" ({system_file})" if system_file is not None else ""
        raise ConfigError(f"{config_file}: policy: [policy] is read only from the system-wide file{where}")
    _check_unknown(file_data, config_file)
    _check_flags(flags)
    layers = _Layers(config_file, file_data, system_file, system_data, flags, locked)
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
        raise ConfigError(_render_error(error.errors()[0], layers)) from None
    except (ValueError, tomllib.TOMLDecodeError) as error:  # e.g. ERGO_IDLE='x' that is not JSON
        raise ConfigError(_json_env_error() or f"environment: {error}".splitlines()[0]) from None
    except RecursionError:  # JSON in a variable nested 100k deep
        raise ConfigError(_json_env_error() or "environment: a value is nested too deeply") from None
    origins = {".".join(loc): _origin(loc, layers) for loc in _all_keys()}
    plain = Settings.model_construct(**{name: getattr(settings, name) for name in Settings.model_fields})
    return Loaded(plain, config_file, bool(file_data) or _is_file(config_file), origins, system_file,
                  system_file is not None and _is_file(system_file), tuple(sorted(locked)), notices)


def _is_file(path: Path) -> bool:
    """Whether the config file is there; a symlink loop or unreadable dir counts as absent, never raises."""
    try:
        return path.exists()
    except OSError:
        return False


def defaults() -> Settings:
    """The built-in defaults alone, ignoring file and environment."""
    return Settings.model_construct(**{name: info.get_default() for name, info in Settings.model_fields.items()})


def flat_values(settings: Settings) -> dict[str, Any]:
    """Leaf values by dotted key, durations as text: for `config show` and status."""
    data = settings.model_dump(mode="json")
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{sub}": v for sub, v in value.items()})
        else:
            flat[key] = value
    return flat


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
            "notifier": s.notifier, "expire": seconds(s.expire), "merge_window": seconds(s.merge_window),
            "quiet_after_resume": seconds(s.quiet_after_resume), "log_level": s.log_level,
            "history_retention": seconds(s.history_retention),
            "schedule": {"days": s.schedule.days, "hours": s.schedule.hours},
            "idle": {"backend": s.idle.backend, "away_after": seconds(s.idle.away_after)},
            "reminders": reminders,
        },
    }
