"""The one settings model, its sources and its one-line error messages.

Precedence (highest first): command-line flags > ERGO_* environment > the user's
TOML file > the system-wide TOML file (an admin's defaults) > built-in defaults.
Keys the system file lists in `[policy] locked` take the system value whatever
the user sets, with one notice line per attempt. Nested keys use "__" in the environment
(ERGO_HYDRATION__INTERVAL=45m). Durations go through ergo.timing.durations, never
through pydantic's own timedelta parsing (which reads "45:00" as 45 hours).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    create_model,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ergo.safetext import undeliverable
from ergo.timing.durations import DurationError, format_duration, parse_duration
from ergo.timing.worktime import WorkHoursError, parse_days, parse_hours

ENV_PREFIX = "ERGO_"
#: ERGO_* variables that are not settings (locations and the test harness).
NON_SETTING_ENV = frozenset({"ERGO_CONFIG", "ERGO_STATE_DIR", "ERGO_RUNTIME_DIR", "ERGO_REQUIRE_DESKTOP",
                             "ERGO_CONTROL_TRANSPORT", "ERGO_SEEDS_DIR",
                             "ERGO_CAMERA_DEVICES"})
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


def _deliverable(value: str | None) -> str | None:
    """Refuse what a notification cannot carry (ergo.safetext), naming the character and its position."""
    found = None if value is None else undeliverable(value)
    if found is not None:
        position, what = found
        raise ValueError(f"character {position} is {what}, which a notification cannot carry: remove it")
    return value


def _deliverable_each(values: list[str]) -> list[str]:
    for number, value in enumerate(values, 1):
        try:
            _deliverable(value)
        except ValueError as error:
            raise ValueError(f"message {number}: {error}") from None
    return values


Text = Annotated[str | None, AfterValidator(_deliverable)]


def _language(value: str) -> str:
    from ergo.i18n import check_setting

    return check_setting(value)


Language = Annotated[str, AfterValidator(_language)]
Messages = Annotated[list[str], AfterValidator(_deliverable_each)]
Urgency = Literal["low", "normal", "critical"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class Reminder(_Section):
    """One kind of reminder; every field may be set per kind in [KIND] of the TOML file."""

    enabled: bool = True
    interval: Interval = timedelta(minutes=30)
    title: Text = None
    messages: Messages = []
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
        title=(Text, title),
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


MAX_CALENDAR_FILE = 20 * 1024 * 1024  # bytes: larger .ics files are refused (a calendar export is far smaller)


def _calendar_path(value: str) -> str:
    """A .ics file or a folder of them; refused: FIFOs, devices, sockets and files over MAX_CALENDAR_FILE.
    A path that does not exist (yet) is accepted: `ergo status` says it is missing."""
    import stat

    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise ValueError("a calendar path must be a non-empty file or folder name")
    path = os.path.expanduser(value)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return value
    except OSError as error:
        raise ValueError(f"{value}: cannot be read ({error.strerror or error})") from None
    if stat.S_ISDIR(info.st_mode):
        return value
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{value} is not a regular file or a folder (a FIFO, socket or device is never read)")
    if info.st_size > MAX_CALENDAR_FILE:
        raise ValueError(f"{value} is {info.st_size // (1024 * 1024)} MB: at most {MAX_CALENDAR_FILE // (1024 * 1024)} MB")
    return value


CalendarPath = Annotated[str, AfterValidator(_calendar_path)]


class Meetings(_Section):
    """Hold reminders while you are busy: in a call, presenting or watching full screen, or in a meeting."""

    microphone: bool = True  # a recording stream on PulseAudio / PipeWire (monitors of outputs excepted)
    camera: bool = True  # a process of yours holds a video device open
    fullscreen: bool = True  # the focused window is full screen (X11, sway), or the desktop inhibits idle
    calendar: list[CalendarPath] = []  # .ics files or folders; events marked busy hold reminders
    after: Duration = timedelta(minutes=1)  # how long after the end before what is due goes out


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
    # "auto": LANGUAGE / LC_ALL / LC_MESSAGES / LANG like any GNU program; or "de", "pt_BR", "en" (ergo.i18n)
    language: Language = "auto"
    expire: Duration = timedelta(seconds=30)
    merge_window: Duration = timedelta(minutes=2)
    quiet_after_resume: Duration = timedelta(minutes=1)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    history_retention: Retention = timedelta(days=365)
    schedule: Schedule = Schedule()
    idle: Idle = Idle()
    meetings: Meetings = Meetings()
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
SECTIONS: dict[str, type[BaseModel]] = {"schedule": Schedule, "idle": Idle, "meetings": Meetings} | {
    kind: Settings.model_fields[kind].annotation for kind in REMINDER_KINDS  # type: ignore[misc]
}


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
