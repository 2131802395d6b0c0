"""Carrying out a service plan, and asking the service manager how autostart stands: the only part that
changes or queries the system.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ergo.service.files import LABEL, TRAY_UNIT, UNIT, Platform, service_file, xdg_files
from ergo.service.plan import Command, ServicePlan, _read_or_none, _uid

_COMMAND_TIMEOUT = 60.0


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
        try:
            for path in plan.retire:
                if not dry_run:
                    path.unlink(missing_ok=True)
                out.write(f"would remove {path}\n" if dry_run else f"removed {path}\n")
            _remove_empty(plan.remove_dirs, dry_run, out)
        except OSError as exc:
            failure = f"cannot change {exc.filename or plan.service_file}: {exc.strerror or exc}"
    if failure is None:
        return 0
    there = plan.service_file.exists()
    if plan.action == "install":
        state = f"{plan.service_file} is in place" if there else f"{plan.service_file} was not written"
    else:
        state = f"{plan.service_file} is still there" if there else f"{plan.service_file} is removed"
    out.write(f"ergo: {failure}; {state}" + (f"; {plan.manual}" if plan.manual else "") + "\n")
    return 1



def _remove_empty(folders: tuple[Path, ...], dry_run: bool, out: TextIO) -> None:
    """The folders an install created, deepest first, each only when empty (anything of yours keeps it)."""
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        if dry_run:
            out.write(f"would remove the folder {folder} if it is empty then\n")
            continue
        try:
            folder.rmdir()
        except OSError:
            continue
        out.write(f"removed the empty folder {folder}\n")


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
    what = {"linux": "systemd unit", "macos": "launch agent", "windows": "Startup folder entry"}[platform]
    lines = [f"{what}: {path} ({'present' if path.exists() else 'absent'})"]
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
