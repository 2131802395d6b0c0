"""Validated settings as plain frozen data, so the long-running daemon never imports pydantic.

pydantic and pydantic-settings cost the daemon about 15 MB of memory for as long
as it runs. So `ergo run` validates the config in a short child process
(`python -m ergo.config.check`, which uses ergo.config.load) and keeps only
this plain copy; reloads do the same.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ergo.errors import ConfigError

if TYPE_CHECKING:
    import subprocess  # loaded by the two functions that start the check child: `ergo stats` never needs it

EXPORT_TIMEOUT = 30.0


def _seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


@dataclass(frozen=True)
class PlainReminder:
    enabled: bool
    interval: timedelta
    title: str | None
    messages: tuple[str, ...]
    urgency: str
    natural_break: timedelta | None
    days: str | None
    hours: str | None
    duration: timedelta | None = None
    daily_goal: int | None = None


@dataclass(frozen=True)
class PlainSchedule:
    days: str
    hours: str


@dataclass(frozen=True)
class PlainIdle:
    backend: str
    away_after: timedelta


@dataclass(frozen=True)
class PlainMeetings:
    microphone: bool = True
    camera: bool = True
    fullscreen: bool = True
    calendar: tuple[str, ...] = ()
    after: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class PlainSettings:
    """The same names the pydantic model has, for the parts the daemon reads."""

    notifier: str
    expire: timedelta
    merge_window: timedelta
    quiet_after_resume: timedelta
    log_level: str
    schedule: PlainSchedule
    idle: PlainIdle
    kinds: tuple[tuple[str, PlainReminder], ...]
    history_retention: timedelta = timedelta(days=365)
    meetings: PlainMeetings = PlainMeetings()
    language: str = "auto"  # ergo.i18n: "auto" reads LANGUAGE / LC_ALL / LC_MESSAGES / LANG

    def reminders(self) -> dict[str, PlainReminder]:
        return dict(self.kinds)

    def enabled_reminders(self) -> dict[str, PlainReminder]:
        return {kind: r for kind, r in self.kinds if r.enabled}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PlainSettings":
        """Read what ergo.config.load.export_json wrote (durations in seconds)."""
        kinds = tuple(
            (
                kind,
                PlainReminder(
                    enabled=r["enabled"], interval=timedelta(seconds=r["interval"]), title=r["title"],
                    messages=tuple(r["messages"]), urgency=r["urgency"], natural_break=_seconds(r["natural_break"]),
                    days=r["days"], hours=r["hours"], duration=_seconds(r.get("duration")),
                    daily_goal=r.get("daily_goal"),
                ),
            )
            for kind, r in data["reminders"].items()
        )
        return cls(
            notifier=data["notifier"], expire=timedelta(seconds=data["expire"]),
            merge_window=timedelta(seconds=data["merge_window"]),
            quiet_after_resume=timedelta(seconds=data["quiet_after_resume"]), log_level=data["log_level"],
            schedule=PlainSchedule(**data["schedule"]),
            idle=PlainIdle(data["idle"]["backend"], timedelta(seconds=data["idle"]["away_after"])),
            kinds=kinds, history_retention=timedelta(seconds=data.get("history_retention", 365 * 86400)),
            meetings=_meetings(data.get("meetings")), language=data.get("language", "auto"),
        )


def _meetings(data: dict[str, Any] | None) -> PlainMeetings:
    if data is None:
        return PlainMeetings()
    return PlainMeetings(bool(data["microphone"]), bool(data["camera"]), bool(data["fullscreen"]),
                         tuple(data["calendar"]), timedelta(seconds=data["after"]))


@dataclass(frozen=True)
class PlainLoaded:
    """Settings plus the file they came from, as the daemon keeps them."""

    settings: PlainSettings
    config_file: Path
    file_exists: bool
    system_file: Path | None = None
    system_exists: bool = False
    notices: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PlainLoaded":
        system = data.get("system_file")
        return cls(PlainSettings.from_json(data["settings"]), Path(data["config_file"]), data["file_exists"],
                   None if system is None else Path(system), bool(data.get("system_exists")), tuple(data.get("notices", ())))


def load_checked(config_file: Path, flags: dict[str, Any]) -> PlainLoaded:
    """Validate in a child process and return plain settings; a problem is the child's one-line ConfigError."""
    return finish_check(start_check(config_file, flags), config_file)


def start_check(config_file: Path, flags: dict[str, Any]) -> subprocess.Popen[str]:
    """Start the check child; the caller can do other work (the daemon loads its modules) meanwhile."""
    import subprocess

    argv = [sys.executable, "-m", "ergo.config.check", str(config_file), json.dumps(flags)]
    try:
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    except OSError as error:
        raise ConfigError(f"{config_file}: could not check the config ({error})") from None


def read_checked(text: str, config_file: Path) -> PlainLoaded:
    """Plain settings from the check child's output, handed over by `ergo start` (empty: the check failed)."""
    try:
        return PlainLoaded.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"{config_file}: the config check failed") from None


def finish_check(process: subprocess.Popen[str], config_file: Path) -> PlainLoaded:
    """Wait for the check child of start_check and read its answer."""
    import subprocess

    try:
        stdout, stderr = process.communicate(timeout=EXPORT_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        process.kill()
        process.communicate()
        raise ConfigError(f"{config_file}: could not check the config ({error})") from None
    if process.returncode != 0:
        lines = [line for line in stderr.splitlines() if line.strip()]
        message = lines[-1].removeprefix("ergo: ") if lines else f"config check failed (exit {process.returncode})"
        raise ConfigError(message)
    return PlainLoaded.from_json(json.loads(stdout))
