"""What installing or removing autostart does, as a plan (files and commands) read off what is installed.

Planning only reads: `ergo.service.run` carries a plan out.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ergo.service.files import (LABEL, PLATFORMS, START_ARGS, TRAY_ARGS, TRAY_UNIT, UNIT, Platform, ServiceError,
    _argv, created_folders, project_url, render_desktop_entry, render_launchd_plist, render_systemd_unit,
    render_tray_unit, render_windows_cmd, service_file, xdg_autostart_dir, xdg_files)

XDG_ALTERNATIVE = "without a systemd user session, `ergo service install --xdg` starts ergo through XDG autostart instead"



@dataclass(frozen=True)
class Command:
    """One external command of a plan; `required=False` means a failure is reported and ignored."""

    argv: tuple[str, ...]
    required: bool = True

    def __str__(self) -> str:
        return shlex.join(self.argv)



@dataclass(frozen=True)
class ServicePlan:
    """Everything an install or uninstall does, in order: before, dirs, writes, removals, after.

    `before` stops what runs (it needs the old files); `after` starts or reloads
    once the files are in place. `manual` is the one line telling how to finish
    by hand when a command fails.
    """

    platform: Platform
    action: Literal["install", "uninstall"]
    service_file: Path
    write: Mapping[Path, str] = field(default_factory=dict)
    remove: tuple[Path, ...] = ()
    make_dirs: tuple[Path, ...] = ()
    before: tuple[Command, ...] = ()
    after: tuple[Command, ...] = ()
    manual: str = ""
    notes: tuple[str, ...] = ()
    remove_dirs: tuple[Path, ...] = ()  # removed after the files, deepest first, each only when empty
    retire: tuple[Path, ...] = ()  # removed only once everything else succeeded (the old way to start at login)

    @property
    def commands(self) -> list[list[str]]:
        """Every command's argv in run order, for display and tests."""
        return [list(c.argv) for c in (*self.before, *self.after)]



def current_platform(sys_platform: str | None = None) -> Platform:
    """Map sys.platform to the service flavour, refusing the ones ergo has no autostart for."""
    name = sys.platform if sys_platform is None else sys_platform
    if name.startswith("linux"):
        return "linux"
    if name == "darwin":
        return "macos"
    if name == "win32":
        return "windows"
    raise ServiceError(
        f"ergo service supports Linux (systemd), macOS (launchd) and Windows, not {name!r}; "
        "start `python -m ergo run` from your session's autostart instead"
    )



def plan_install(
    platform: Platform,
    *,
    python: str,
    config_path: Path | None = None,
    log_file: Path,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    uid: int | None = None,
    tray: bool = False,
    running: int | None = None,
) -> ServicePlan:
    """What installing autostart does on `platform`; reads only the currently installed files.

    `running`: the pid of an ergo running now (started by hand), which systemd must not start twice.
    """
    env = os.environ if env is None else env
    path = service_file(platform, env=env, home=home)
    notes: list[str] = []
    if config_path is None and env.get("ERGO_CONFIG"):
        notes.append("ERGO_CONFIG is set in this shell but the service will not see it; pass --config to keep it")
    if platform == "linux":
        url = project_url()
        created = _created(path.parent, path, path.with_name(TRAY_UNIT))
        text = render_systemd_unit(python, config_path, created, url)
        write = {path: text}
        enable = ("enable", UNIT) if running else ("enable", "--now", UNIT)
        after = [_systemctl("daemon-reload"), _systemctl(*enable)]
        old = _read_or_none(path)
        if old is not None and old != text and not running:
            after.append(_systemctl("try-restart", UNIT))  # a running ergo would keep the old command line
        if tray:
            tray_path = path.with_name(TRAY_UNIT)
            tray_text = render_tray_unit(python, config_path, created, url)
            write[tray_path] = tray_text
            after.append(_systemctl("enable", "--now", TRAY_UNIT))
            old_tray = _read_or_none(tray_path)
            if old_tray is not None and old_tray != tray_text:
                after.append(_systemctl("try-restart", TRAY_UNIT))
        if running:
            notes.append(f"ergo is running now (pid {running}), started by hand: systemd starts it from your next login")
        # one way to start at login: entries from `--xdg` go, or ergo would start twice
        autostart = tuple(p for p in xdg_files(env=env, home=home) if p.exists())
        if autostart:
            notes.append("the XDG autostart entries from `ergo service install --xdg` go once systemd has the unit: "
                         "one way to start at login")
        start = " && ".join(str(c) for c in after[:2])
        return ServicePlan(
            platform, "install", path, write=write, after=tuple(after), notes=tuple(notes), retire=autostart,
            remove_dirs=_recorded(*autostart),
            manual=f"start it by hand in your desktop session with: {start} "
            f"(older setups first: systemctl --user import-environment DISPLAY WAYLAND_DISPLAY); {XDG_ALTERNATIVE}",
        )
    if platform == "macos":
        domain = f"gui/{_uid(uid)}"
        before = (Command(("launchctl", "bootout", f"{domain}/{LABEL}"), required=False),) if path.exists() else ()
        bootstrap = Command(("launchctl", "bootstrap", domain, str(path)))
        return ServicePlan(
            platform, "install", path,
            write={path: render_launchd_plist(python, config_path, log_file)},
            make_dirs=(log_file.parent,), before=before, after=(bootstrap,), notes=tuple(notes),
            manual=f"load it by hand with: {bootstrap} (or log out and in again)",
        )
    if platform == "windows":
        notes.append(_start_now(running, f'"{path}"'))
        return ServicePlan(
            platform, "install", path, write={path: render_windows_cmd(python, config_path)}, notes=tuple(notes),
        )
    raise ServiceError(f"unknown service platform {platform!r}; expected one of {', '.join(PLATFORMS)}")


def _start_now(running: int | None, command: str) -> str:
    """The closing note of an install that starts nothing now: how to start ergo, unless it runs already."""
    if running:
        return f"ergo is running now (pid {running}); from your next login it starts by itself"
    return f"ergo starts at your next login; to start it now, run: {command}"


def plan_install_xdg(
    *, python: str, config_path: Path | None = None, tray: bool = False,
    env: Mapping[str, str] | None = None, home: Path | None = None, running: int | None = None,
) -> ServicePlan:
    """XDG autostart: ergo.desktop runs `ergo start` (which returns once the daemon answers), ergo-tray.desktop the tray.

    Installed systemd units (from a plain `ergo service install`) are disabled and removed: ergo
    starts one way at login, never twice.
    """
    env = os.environ if env is None else env
    folder = xdg_autostart_dir(env=env, home=home)
    path = folder / "ergo.desktop"
    created = _created(folder, *xdg_files(env=env, home=home))
    write = {path: render_desktop_entry(_argv(python, config_path, START_ARGS), "ergo",
                                        "Ergonomics reminders: posture, water, stretching and movement", created)}
    if tray:
        write[folder / "ergo-tray.desktop"] = render_desktop_entry(_argv(python, config_path, TRAY_ARGS), "ergo tray",
                                                                   "ergo's tray icon", created)
    notes = [_start_now(running, "ergo start" + (" and ergo tray" if tray else ""))]
    if config_path is None and env.get("ERGO_CONFIG"):
        notes.insert(0, "ERGO_CONFIG is set in this shell but the autostart entry will not see it; pass --config to keep it")
    unit = service_file("linux", env=env, home=home)
    units = [p for p in (unit, unit.with_name(TRAY_UNIT)) if p.exists()]
    if not units:
        return ServicePlan("linux", "install", path, write=write, notes=tuple(notes))
    notes.append("the systemd units from `ergo service install` are disabled and removed: XDG autostart starts ergo now; "
                 "an ergo systemd started keeps running until you log out")
    links = _links(units)
    return ServicePlan("linux", "install", path, write=write, notes=tuple(notes), remove=(*links, *units),
                       before=tuple(_systemctl("disable", p.name, required=False) for p in units),
                       after=(_systemctl("daemon-reload", required=False),),
                       remove_dirs=_wants_dirs(links) + _recorded(*units))


def _missing(folder: Path) -> tuple[Path, ...]:
    """`folder` and those of its parents that do not exist yet: what writing into it creates."""
    missing: list[Path] = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    return tuple(missing)


def _recorded(*files: Path) -> tuple[Path, ...]:
    """The folders an earlier install created, as its files remember them."""
    found: list[Path] = []
    for path in files:
        for folder in created_folders(_read_or_none(path) or ""):
            if folder not in found:
                found.append(folder)
    return tuple(found)


def _created(folder: Path, *files: Path) -> tuple[Path, ...]:
    """The folders to remember in a file written into `folder`: those this install creates, plus those an
    earlier install created (a reinstall keeps the record, and an unchanged unit stays unchanged)."""
    recorded = _recorded(*files)
    return recorded + tuple(f for f in _missing(folder) if f not in recorded)


def _links(units: list[Path]) -> tuple[Path, ...]:
    return tuple(sorted(link for unit in units for link in unit.parent.glob(f"*.wants/{unit.name}")))


def _wants_dirs(links: tuple[Path, ...]) -> tuple[Path, ...]:
    """The `*.wants` folders `systemctl enable` made for ergo's links: removed once they are empty."""
    return tuple(sorted({link.parent for link in links}))



def plan_uninstall(
    platform: Platform,
    *,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    uid: int | None = None,
) -> ServicePlan:
    """What removing autostart does on `platform`; an absent file on Linux or Windows means nothing to do."""
    path = service_file(platform, env=env, home=home)
    if platform == "macos":
        # Unload by label even without the file: an agent can outlive its plist.
        bootout = Command(("launchctl", "bootout", f"gui/{_uid(uid)}/{LABEL}"), required=False)
        return ServicePlan(
            platform, "uninstall", path, remove=(path,) if path.exists() else (), before=(bootout,),
        )
    if platform == "linux":
        return _plan_uninstall_linux(path, env=env, home=home)
    if not path.exists():
        return ServicePlan(platform, "uninstall", path, notes=(f"nothing to remove: {path} does not exist",))
    return ServicePlan(
        platform, "uninstall", path, remove=(path,),
        notes=("an ergo already running keeps running until you log out",),
    )



def _plan_uninstall_linux(path: Path, *, env: Mapping[str, str] | None, home: Path | None) -> ServicePlan:
    """Remove every way ergo starts at login here: the systemd units and the XDG autostart entries,
    and the folders the install created, once they are empty."""
    tray_path = path.with_name(TRAY_UNIT)
    autostart = [p for p in xdg_files(env=env, home=home) if p.exists()]
    units = [p for p in (path, tray_path) if p.exists()]
    if not units and not autostart:
        return ServicePlan("linux", "uninstall", path, notes=(f"nothing to remove: {path} does not exist",))
    # The units go even when no user systemd answers (containers, SSH, a broken session): disabling
    # is tried, and the links `systemctl enable` made are removed by hand as well.
    before = tuple(_systemctl("disable", "--now", p.name, required=False) for p in units)
    after = (_systemctl("daemon-reload", required=False),) if units else ()
    links = _links(units)
    notes = ("if systemd cannot be reached, an ergo it started keeps running until you log out or run `ergo stop`",) if units else ()
    return ServicePlan("linux", "uninstall", units[0] if units else autostart[0], remove=(*links, *units, *autostart),
                       before=before, after=after, notes=notes,
                       remove_dirs=_wants_dirs(links) + _recorded(*units, *autostart))


def plan_uninstall_xdg(*, env: Mapping[str, str] | None = None, home: Path | None = None) -> ServicePlan:
    """`ergo service uninstall --xdg`: only the XDG autostart entries, and the folder the install created."""
    files = xdg_files(env=env, home=home)
    present = tuple(p for p in files if p.exists())
    notes = () if present else (f"nothing to remove: {files[0]} does not exist",)
    return ServicePlan("linux", "uninstall", files[0], remove=present, notes=notes, remove_dirs=_recorded(*present))



def _read_or_none(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None



def _systemctl(*args: str, required: bool = True) -> Command:
    return Command(("systemctl", "--user", *args), required)



def _uid(uid: int | None) -> int:
    if uid is not None:
        return uid
    return os.getuid() if hasattr(os, "getuid") else 0
