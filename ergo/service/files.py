"""Where ergo's autostart files go on each platform, and their text: one quoting rule per format.

Pure apart from reading the templates in config/ (ergo.templates_dir): every platform's files can be
rendered and tested on any machine.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
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



TEMPLATES: dict[Platform, str] = {
    "linux": "ergo.service",
    "macos": "io.github.ergo.plist",
    "windows": "ergo-startup.cmd",
}



class ServiceError(ErgoError):
    """Autostart cannot be planned or set up here; the message says why."""



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



def xdg_autostart_dir(*, env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """$XDG_CONFIG_HOME/autostart (default ~/.config/autostart): read by GNOME, KDE, Xfce, LXQt and most sessions."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    xdg = env.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    return base / "autostart"



def xdg_files(*, env: Mapping[str, str] | None = None, home: Path | None = None) -> tuple[Path, Path]:
    """The XDG autostart entries ergo may have written: the daemon's and the tray's."""
    folder = xdg_autostart_dir(env=env, home=home)
    return folder / "ergo.desktop", folder / "ergo-tray.desktop"



def _argv(python: str, config_path: Path | None, args: tuple[str, ...] = RUN_ARGS) -> list[str]:
    """The daemon's (or tray's) command line; --config only when the user named a file."""
    argv = [python, *args]
    if config_path is not None:
        argv += ["--config", os.path.abspath(config_path)]  # the service runs from another directory
    for arg in argv:
        if any(ch in arg for ch in "\n\r\0"):
            raise ServiceError(f"cannot put {arg!r} in a service definition: it contains a line break or NUL")
    return argv



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



CREATED_MARK = "# Folders `ergo service install` created (uninstall removes them when empty): "


def project_url() -> str | None:
    """The project's own documentation URL, from the installed package's metadata ([project.urls] in
    pyproject.toml: Documentation, else Homepage), or None when it names none."""
    from importlib import metadata

    from ergo.distribution import DIST_NAME

    try:
        urls = metadata.metadata(DIST_NAME).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    found = {}
    for item in urls:
        label, _, url = item.partition(",")
        if url.strip().startswith(("https://", "http://")):
            found.setdefault(label.strip().lower(), url.strip())
    return found.get("documentation") or found.get("homepage")


def _documentation_line(url: str | None) -> str:
    return f"Documentation={url}\n" if url and not any(ch in url for ch in " \n\r%") else ""


def created_mark(folders: tuple[Path, ...]) -> str:
    """The comment line that remembers which folders an install created, or nothing."""
    return CREATED_MARK + ", ".join(str(f) for f in folders) + "\n" if folders else ""


def created_folders(text: str) -> tuple[Path, ...]:
    """The folders a file's CREATED_MARK line names."""
    for line in text.splitlines():
        if line.startswith(CREATED_MARK):
            return tuple(Path(p.strip()) for p in line[len(CREATED_MARK):].split(", ") if p.strip())
    return ()


def render_systemd_unit(python: str, config_path: Path | None = None, created: tuple[Path, ...] = (),
                        url: str | None = None) -> str:
    """The systemd user unit text; Documentation= only when the project names its URL."""
    argv = _argv(python, config_path)
    exec_start = " ".join(_systemd_word(a, first=i == 0) for i, a in enumerate(argv))
    return read_template(TEMPLATES["linux"]).format(exec_start=exec_start, documentation=_documentation_line(url),
                                                    created=created_mark(created))


def render_tray_unit(python: str, config_path: Path | None = None, created: tuple[Path, ...] = (),
                     url: str | None = None) -> str:
    """The systemd user unit that starts `ergo tray` with the session."""
    argv = _argv(python, config_path, TRAY_ARGS)
    exec_start = " ".join(_systemd_word(a, first=i == 0) for i, a in enumerate(argv))
    return read_template("ergo-tray.service").format(exec_start=exec_start, documentation=_documentation_line(url),
                                                     created=created_mark(created))



def _desktop_exec_word(arg: str) -> str:
    """Quote one Exec= argument as the Desktop Entry spec says: reserved characters mean double quotes,
    with backslash before \" ` $ and \\; then %% for a literal percent and \\ for the value's own escape."""
    if any(ch in arg for ch in "\n\r\0"):
        raise ServiceError(f"cannot put {arg!r} in a desktop entry: it contains a line break or NUL")
    word = arg
    if any(ch in arg for ch in " \t\"'\\><~|&;$*?#()`"):
        word = '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg) + '"'
    return word.replace("%", "%%").replace("\\", "\\\\")



def render_desktop_entry(argv: list[str], name: str, comment: str, created: tuple[Path, ...] = ()) -> str:
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
        + created_mark(created)
    )



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
