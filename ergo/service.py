"""Start ergo at login: one plan per platform (files and commands), then applying it.

Planning only reads what is already installed, so every platform's files can be
built and tested on any machine; only `apply` and `service_status` change or
query the system. Templates live in config/ and are read via ergo.templates_dir.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO
from xml.sax.saxutils import escape as xml_escape

from ergo.errors import ErgoError
from ergo.templates_dir import read_template

Platform = Literal["linux", "macos", "windows"]
PLATFORMS: tuple[Platform, ...] = ("linux", "macos", "windows")

LABEL = "io.github.ergo"
UNIT = "ergo.service"
TRAY_UNIT = "ergo-tray.service"
RUN_ARGS: tuple[str, ...] = ("-m", "ergo", "run")
TRAY_ARGS: tuple[str, ...] = ("-m", "ergo", "tray", "--wait", "60")  # at login the panel may come later
START_ARGS: tuple[str, ...] = ("-m", "ergo", "start")
XDG_ALTERNATIVE = "without a systemd user session, `ergo service install --xdg` starts ergo through XDG autostart instead"
TEMPLATES: dict[Platform, str] = {
    "linux": "ergo.service",
    "macos": "io.github.ergo.plist",
    "windows": "ergo-startup.cmd",
}
_COMMAND_TIMEOUT = 60.0


class ServiceError(ErgoError):
    """Autostart cannot be planned or set up here; the message says why."""


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

    @property
    def commands(self) -> list[list[str]]:
        """Every command's argv in run order, for display and tests."""
        return [list(c.argv) for c in (*self.before, *self.after)]


# --- where things go -------------------------------------------------------


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


def service_file(platform: Platform, *, env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """The one file autostart consists of, honouring XDG_CONFIG_HOME and APPDATA."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    if platform == "linux":
        xdg = env.get("XDG_CONFIG_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"  # XDG: relative = unset
        return base / "systemd" / "user" / UNIT
    if platform == "macos":
        return home / "Library" / "LaunchAgents" / f"{LABEL}.plist"
    if platform == "windows":
        appdata = Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming"
        return appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup" / "ergo.cmd"
    raise ServiceError(f"unknown service platform {platform!r}; expected one of {', '.join(PLATFORMS)}")


def service_python(platform: Platform, executable: str | None = None) -> str:
    """The interpreter the service should run: this one, or pythonw.exe beside it on Windows (no console)."""
    exe = sys.executable if executable is None else executable
    if not exe:
        raise ServiceError(
            "cannot tell which Python runs ergo (sys.executable is empty); run the install from a normal Python"
        )
    if platform == "windows":
        windowless = Path(exe).with_name("pythonw.exe")
        if windowless.is_file():
            return str(windowless)
    # Not resolved: a venv's bin/python is a symlink, and following it would leave the venv.
    return os.path.abspath(exe)


def _argv(python: str, config_path: Path | None, args: tuple[str, ...] = RUN_ARGS) -> list[str]:
    """The daemon's (or tray's) command line; --config only when the user named a file."""
    argv = [python, *args]
    if config_path is not None:
        argv += ["--config", os.path.abspath(config_path)]  # the service runs from another directory
    for arg in argv:
        if any(ch in arg for ch in "\n\r\0"):
            raise ServiceError(f"cannot put {arg!r} in a service definition: it contains a line break or NUL")
    return argv


# --- rendering, one quoting rule per format ---------------------------------

_SYSTEMD_SAFE = re.compile(r"[A-Za-z0-9_\-.:/+=,@]+")
_CMD_SAFE = re.compile(r"[A-Za-z0-9_\-.:\\/]+")


def _systemd_word(arg: str, *, first: bool) -> str:
    """Quote one ExecStart word: C-style quotes, %% for specifiers, $$ for variables (not in the path)."""
    word = arg if _SYSTEMD_SAFE.fullmatch(arg) else '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
    word = word.replace("%", "%%")
    # systemd expands $VAR in arguments only; the executable path is taken literally.
    return word if first else word.replace("$", "$$")


def _cmd_word(arg: str, *, first: bool) -> str:
    """Quote one word of a .cmd line; the executable is always quoted so `start` never takes it for a title."""
    if '"' in arg:
        raise ServiceError(f"cannot put {arg!r} in a Windows .cmd file: it contains a double quote")
    word = arg if _CMD_SAFE.fullmatch(arg) and not first else f'"{arg}"'
    return word.replace("%", "%%")


def render_systemd_unit(python: str, config_path: Path | None = None) -> str:
    """The systemd user unit text."""
    argv = _argv(python, config_path)
    exec_start = " ".join(_systemd_word(a, first=i == 0) for i, a in enumerate(argv))
    return read_template(TEMPLATES["linux"]).format(exec_start=exec_start)


def render_tray_unit(python: str, config_path: Path | None = None) -> str:
    """The systemd user unit that starts `ergo tray` with the session."""
    argv = _argv(python, config_path, TRAY_ARGS)
    exec_start = " ".join(_systemd_word(a, first=i == 0) for i, a in enumerate(argv))
    return read_template("ergo-tray.service").format(exec_start=exec_start)


def xdg_autostart_dir(*, env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """$XDG_CONFIG_HOME/autostart (default ~/.config/autostart): read by GNOME, KDE, Xfce, LXQt and most sessions."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    xdg = env.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    return base / "autostart"


def _desktop_exec_word(arg: str) -> str:
    """Quote one Exec= argument as the Desktop Entry spec says: reserved characters mean double quotes,
    with backslash before \" ` $ and \\; then %% for a literal percent and \\ for the value's own escape."""
    if any(ch in arg for ch in "\n\r\0"):
        raise ServiceError(f"cannot put {arg!r} in a desktop entry: it contains a line break or NUL")
    word = arg
    if any(ch in arg for ch in " \t\"'\\><~|&;$*?#()`"):
        word = '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg) + '"'
    return word.replace("%", "%%").replace("\\", "\\\\")


def render_desktop_entry(argv: list[str], name: str, comment: str) -> str:
    """An XDG autostart entry (Desktop Entry Specification 1.5) running `argv`."""
    command = " ".join(_desktop_exec_word(a) for a in argv)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={name}\n"
        f"Comment={comment}\n"
        f"Exec={command}\n"
        "Terminal=false\n"
        "NoDisplay=true\n"
        "X-GNOME-Autostart-enabled=true\n"
        "# Written by `ergo service install --xdg`; `ergo service uninstall` removes it.\n"
    )


def plan_install_xdg(
    *, python: str, config_path: Path | None = None, tray: bool = False,
    env: Mapping[str, str] | None = None, home: Path | None = None,
) -> ServicePlan:
    """XDG autostart: ergo.desktop runs `ergo start` (which returns once the daemon answers), ergo-tray.desktop the tray."""
    env = os.environ if env is None else env
    folder = xdg_autostart_dir(env=env, home=home)
    path = folder / "ergo.desktop"
    write = {path: render_desktop_entry(_argv(python, config_path, START_ARGS), "ergo",
                                        "Ergonomics reminders: posture, water, stretching and movement")}
    if tray:
        write[folder / "ergo-tray.desktop"] = render_desktop_entry(_argv(python, config_path, TRAY_ARGS), "ergo tray",
                                                                   "ergo's tray icon")
    notes = ["ergo starts at your next login; to start it now, run: ergo start" + (" and ergo tray" if tray else "")]
    if config_path is None and env.get("ERGO_CONFIG"):
        notes.insert(0, "ERGO_CONFIG is set in this shell but the autostart entry will not see it; pass --config to keep it")
    return ServicePlan("linux", "install", path, write=write, notes=tuple(notes))


def render_launchd_plist(python: str, config_path: Path | None, log_file: Path) -> str:
    """The LaunchAgent plist text."""
    program_arguments = "\n".join(
        f"        <string>{xml_escape(a)}</string>" for a in _argv(python, config_path)
    )
    return read_template(TEMPLATES["macos"]).format(
        label=xml_escape(LABEL), program_arguments=program_arguments, log_file=xml_escape(str(log_file))
    )


def render_windows_cmd(python: str, config_path: Path | None = None) -> str:
    """The Startup-folder .cmd text, with the CRLF line ends cmd.exe expects."""
    command = " ".join(_cmd_word(a, first=i == 0) for i, a in enumerate(_argv(python, config_path)))
    text = read_template(TEMPLATES["windows"]).format(command=command)
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


# --- plans -------------------------------------------------------------------


def _systemctl(*args: str, required: bool = True) -> Command:
    return Command(("systemctl", "--user", *args), required)


def _uid(uid: int | None) -> int:
    if uid is not None:
        return uid
    return os.getuid() if hasattr(os, "getuid") else 0


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
) -> ServicePlan:
    """What installing autostart does on `platform`; reads only the currently installed file."""
    env = os.environ if env is None else env
    path = service_file(platform, env=env, home=home)
    notes: list[str] = []
    if config_path is None and env.get("ERGO_CONFIG"):
        notes.append("ERGO_CONFIG is set in this shell but the service will not see it; pass --config to keep it")
    if platform == "linux":
        text = render_systemd_unit(python, config_path)
        write = {path: text}
        after = [_systemctl("daemon-reload"), _systemctl("enable", "--now", UNIT)]
        old = _read_or_none(path)
        if old is not None and old != text:
            after.append(_systemctl("try-restart", UNIT))  # a running ergo would keep the old command line
        if tray:
            tray_path = path.with_name(TRAY_UNIT)
            tray_text = render_tray_unit(python, config_path)
            write[tray_path] = tray_text
            after.append(_systemctl("enable", "--now", TRAY_UNIT))
            old_tray = _read_or_none(tray_path)
            if old_tray is not None and old_tray != tray_text:
                after.append(_systemctl("try-restart", TRAY_UNIT))
        start = " && ".join(str(c) for c in after[:2])
        return ServicePlan(
            platform, "install", path, write=write, after=tuple(after), notes=tuple(notes),
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
        notes.append(f"ergo starts at your next login; to start it now, run: \"{path}\"")
        return ServicePlan(
            platform, "install", path, write={path: render_windows_cmd(python, config_path)}, notes=tuple(notes),
        )
    raise ServiceError(f"unknown service platform {platform!r}; expected one of {', '.join(PLATFORMS)}")


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
    """Remove every way ergo starts at login here: the systemd units and the XDG autostart entries."""
    tray_path = path.with_name(TRAY_UNIT)
    autostart = [p for p in xdg_files(env=env, home=home) if p.exists()]
    units = [p for p in (path, tray_path) if p.exists()]
    if not units and not autostart:
        return ServicePlan("linux", "uninstall", path, notes=(f"nothing to remove: {path} does not exist",))
    # The units go even when no user systemd answers (containers, SSH, a broken session): disabling
    # is tried, and the links `systemctl enable` made are removed by hand as well.
    before = tuple(_systemctl("disable", "--now", p.name, required=False) for p in units)
    after = (_systemctl("daemon-reload", required=False),) if units else ()
    links = tuple(sorted(link for unit in units for link in unit.parent.glob(f"*.wants/{unit.name}")))
    notes = ("if systemd cannot be reached, an ergo it started keeps running until you log out or run `ergo stop`",) if units else ()
    return ServicePlan("linux", "uninstall", units[0] if units else autostart[0], remove=(*links, *units, *autostart),
                       before=before, after=after, notes=notes)


def xdg_files(*, env: Mapping[str, str] | None = None, home: Path | None = None) -> tuple[Path, Path]:
    """The XDG autostart entries ergo may have written: the daemon's and the tray's."""
    folder = xdg_autostart_dir(env=env, home=home)
    return folder / "ergo.desktop", folder / "ergo-tray.desktop"


def _read_or_none(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


# --- doing it ----------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    stdout: str  # first line of what the command printed
    detail: str  # why it failed, one line; empty on success


def _run(argv: tuple[str, ...]) -> _Outcome:
    """Run one command quietly; a missing program or a timeout is a failure, not an exception."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=_COMMAND_TIMEOUT
        )
    except FileNotFoundError:
        return _Outcome(False, "", f"{argv[0]} not found on PATH")
    except subprocess.TimeoutExpired:
        return _Outcome(False, "", f"no answer after {_COMMAND_TIMEOUT:.0f} s")
    except OSError as exc:
        return _Outcome(False, "", exc.strerror or str(exc))
    stdout = _first_line(done.stdout)
    if done.returncode == 0:
        return _Outcome(True, stdout, "")
    reason = _first_line(done.stderr) or stdout
    return _Outcome(False, stdout, f"exit {done.returncode}" + (f": {reason}" if reason else ""))


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def apply(plan: ServicePlan, dry_run: bool, out: TextIO) -> int:
    """Carry out `plan` (or, with dry_run, print it and change nothing); 0, or 1 after one error line."""
    def run(commands: tuple[Command, ...]) -> str | None:
        for cmd in commands:
            if dry_run:
                out.write(f"would run: {cmd}" + ("" if cmd.required else "  (a failure is ignored)") + "\n")
                continue
            result = _run(cmd.argv)
            if result.ok:
                out.write(f"ran: {cmd}\n")
            elif not cmd.required:
                out.write(f"ran: {cmd}  (failed, ignored: {result.detail})\n")
            else:
                return f"`{cmd}` failed ({result.detail})"
        return None

    for note in plan.notes:
        out.write(f"note: {note}\n")
    failure = run(plan.before)
    if failure is None:
        try:
            for folder in plan.make_dirs:
                if dry_run:
                    if not folder.is_dir():
                        out.write(f"would create {folder}\n")
                else:
                    folder.mkdir(parents=True, exist_ok=True)
            for path, text in plan.write.items():
                if dry_run:
                    out.write(f"would write {path}:\n{text.replace(chr(13), '')}")
                    out.write("" if text.endswith("\n") else "\n")
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "w", encoding="utf-8", newline="") as fh:  # keep the .cmd's CRLF as rendered
                    fh.write(text)
                out.write(f"wrote {path}\n")
            for path in plan.remove:
                if not dry_run:
                    path.unlink(missing_ok=True)
                out.write(f"would remove {path}\n" if dry_run else f"removed {path}\n")
        except OSError as exc:
            failure = f"cannot change {exc.filename or plan.service_file}: {exc.strerror or exc}"
        else:
            failure = run(plan.after)
    if failure is None:
        return 0
    there = plan.service_file.exists()
    if plan.action == "install":
        state = f"{plan.service_file} is in place" if there else f"{plan.service_file} was not written"
    else:
        state = f"{plan.service_file} is still there" if there else f"{plan.service_file} is removed"
    out.write(f"ergo: {failure}; {state}" + (f"; {plan.manual}" if plan.manual else "") + "\n")
    return 1


def _systemd_status() -> str:
    """One line from systemd. Whether the manager answers is asked first, so the same state always
    gives the same line (is-enabled alone reads unit files and works even with no manager running)."""
    active = _run(("systemctl", "--user", "is-active", UNIT))  # prints "inactive" and exits 3 when stopped
    if not active.stdout:
        if "bus" in active.detail.lower() or "connect" in active.detail.lower():
            return (f"systemd: no user service manager reachable ({active.detail}); "
                    "normal in containers and CI, where nothing starts at login")
        return f"systemd: cannot tell ({active.detail})"
    enabled = _run(("systemctl", "--user", "is-enabled", UNIT))
    state = enabled.stdout or ("not installed" if "no such file" in enabled.detail.lower() else "unknown")
    return f"systemd: {state}, {active.stdout}"


def service_status(
    platform: Platform,
    *,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    uid: int | None = None,
) -> str:
    """A few human lines: is the autostart file there, and what the service manager says about it."""
    path = service_file(platform, env=env, home=home)
    lines = [f"autostart file: {path} ({'present' if path.exists() else 'absent'})"]
    extra: list[str] = []
    if platform == "linux":
        tray_unit = path.with_name(TRAY_UNIT)
        if tray_unit.exists():
            extra.append(f"tray unit: {tray_unit} (present)")
        for entry in xdg_files(env=env, home=home):
            if entry.exists():
                extra.append(f"xdg autostart: {entry} (present; runs: {_desktop_exec(entry)})")
        lines.append(_systemd_status())
    elif platform == "macos":
        loaded = _run(("launchctl", "print", f"gui/{_uid(uid)}/{LABEL}"))
        lines.append("launchd: loaded" if loaded.ok else f"launchd: not loaded ({loaded.detail})")
    return "\n".join(lines + extra)


def _desktop_exec(path: Path) -> str:
    text = _read_or_none(path) or ""
    return next((line[5:] for line in text.splitlines() if line.startswith("Exec=")), "no Exec line")
