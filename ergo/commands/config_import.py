"""`ergo config import --from safeeyes|stretchly|workrave [PATH] [--dry-run]`."""

from __future__ import annotations

import difflib
import os
import stat
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from ergo.errors import ConfigError, ErgoError
from ergo.paths import Paths, read_config_bytes

NAMES = {"safeeyes": "Safe Eyes", "stretchly": "Stretchly", "workrave": "Workrave"}


def read(program: str, path: str | None) -> Any:
    """The other program's settings mapped onto ergo's keys (an ergo.config_import.base.Imported)."""
    from ergo.config_import import safeeyes, stretchly, workrave

    if program == "workrave" and path is None:
        return workrave.parse(workrave.from_gsettings(), "gsettings (live)")
    readers = {"safeeyes": safeeyes, "stretchly": stretchly}
    if program == "workrave":
        source = Path(path).expanduser()  # type: ignore[arg-type]
    else:
        source = Path(path).expanduser() if path else readers[program].default_path()
    text = _read_source(source, program)
    if program == "workrave":
        return workrave.parse(workrave.from_ini_text(text, str(source)), str(source))
    return readers[program].parse(text, str(source))


def _read_source(source: Path, program: str) -> str:
    """The source's text: a regular file of at most 1 MiB, checked before it is read (a FIFO never
    blocks, /dev/zero is never read), in UTF-8."""
    try:
        raw = read_config_bytes(source)
    except ConfigError as error:
        raise ConfigError(str(error).replace("config file", "settings file")) from None
    if raw is None:
        raise ErgoError(f"{source}: no such file (where is your {NAMES[program]} config? pass its path)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{source}: cannot read the file: not UTF-8 text (byte {error.start + 1})") from None


def run(program: str, path: str | None, dry_run: bool, config: str | None, out: Any = None) -> int:
    """Print the change as a diff; write it unless --dry-run (the old file is kept as a new .bak)."""
    from ergo.templates_dir import default_config_text

    out = out or sys.stdout
    target = Paths.resolve(config).config_file
    imported = read(program, path)
    raw = read_config_bytes(target)  # the existing config: a FIFO or directory is refused, never read
    exists = raw is not None
    try:
        current = raw.decode("utf-8") if raw is not None else default_config_text()
    except UnicodeDecodeError as error:
        raise ConfigError(f"{target}: cannot read the file: not UTF-8 text (byte {error.start + 1})") from None
    updated = _merge(current, imported, target)
    label = str(target) if exists else f"{target} (new, from `ergo config init`)"
    diff = list(difflib.unified_diff(current.splitlines(keepends=True), updated.splitlines(keepends=True),
                                     fromfile=label, tofile=f"{target} (imported from {imported.program})"))
    out.write(_printable("".join(diff)) if diff else f"# {target} already has these values\n")
    _list_unmapped(imported, out)
    if dry_run:
        out.write(f"dry run: {target} not changed\n")
        return 0
    if not diff:
        return 0
    target = target.resolve() if target.is_symlink() else target  # stow, home-manager: write through the link
    target.parent.mkdir(parents=True, exist_ok=True)
    backup = _backup(target, raw) if raw is not None else None
    _write(target, updated)
    out.write(f"wrote {target}" + (f" (the previous file is {backup.name})" if backup else "") + "\n")
    return 0


def _merge(current: str, imported: Any, target: Path) -> str:
    """The user's text with the mapped keys set, checked to load as an ergo config. A value ergo's
    checks refuse (e.g. an idle time over 24h) and a key the system-wide file locks are listed and
    left out; anything else wrong (the user's own file does not load) writes nothing."""
    from ergo.config.load import load_settings
    from ergo.config_import.base import Unmapped
    from ergo.config_import.merge import NotATable, apply

    while True:
        try:
            updated = apply(current, imported.mapped)
        except NotATable as error:
            raise ConfigError(f"{target}: {error}, nothing written") from None
        except Exception as error:  # tomlkit refuses what tomllib would too: the user's file is not TOML
            raise ConfigError(f"{target}: not valid TOML, nothing written: {str(error).splitlines()[0]}") from None
        with tempfile.TemporaryDirectory() as folder:
            probe = Path(folder) / target.name
            probe.write_text(updated, "utf-8")
            try:
                loaded = load_settings(probe, {})
            except ConfigError as error:
                bad = [m for m in imported.mapped if m.key == error.key]
                message = str(error).replace(str(probe), str(target))
                if not bad:
                    raise ConfigError(f"the imported config would not load, nothing written: {message}") from None
                reason = message.split(f"{error.key}: ", 1)[-1]
                imported.mapped = [m for m in imported.mapped if m.key != error.key]
                imported.unmapped.extend(Unmapped(m.origin, f"ergo refuses it for {m.key}: {reason}") for m in bad)
                continue
        locked = [m for m in imported.mapped if m.key in loaded.locked]
        if not locked:
            return updated
        imported.mapped = [m for m in imported.mapped if m.key not in loaded.locked]
        imported.unmapped.extend(
            Unmapped(m.origin, f"{m.key} is locked by the system-wide file {loaded.system_file}") for m in locked)


def _backup(target: Path, raw: bytes) -> Path:
    """A new backup for every import, never overwriting one: NAME.bak, then NAME.bak.2, .3 ... with the
    file's own mode (a private config stays private)."""
    mode = stat.S_IMODE(os.stat(target).st_mode)
    for n in range(1, 10000):
        backup = target.with_name(target.name + (".bak" if n == 1 else f".bak.{n}"))
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), mode)
        except FileExistsError:
            continue
        except OSError as error:
            raise ErgoError(f"{backup}: cannot write the backup, nothing changed ({error.strerror or error})") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
            os.chmod(backup, mode)  # the umask narrowed O_CREAT's mode
        except OSError as error:
            backup.unlink(missing_ok=True)
            raise ErgoError(f"{backup}: cannot write the backup, nothing changed ({error.strerror or error})") from None
        return backup
    raise ErgoError(f"{target}: 9999 backups already exist beside it; remove some, nothing changed")


def _write(target: Path, text: str) -> None:
    """Atomically replace (or create) the config, keeping its mode; a new file gets the umask's."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.import-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise ErgoError(f"{target}: cannot write the file, not changed ({error.strerror or error})") from None


def _printable(text: str) -> str:
    """What another program's file says, safe for a terminal: each line masked by ergo.safetext
    (control characters, escape sequences included, and lone surrogates shown as "?")."""
    from ergo.safetext import printable

    return "".join(printable(line) + "\n" for line in text.splitlines())


def _list_unmapped(imported: Any, out: Any) -> None:
    """What has no counterpart, grouped by the reason, so nothing is dropped silently."""
    if not imported.unmapped:
        return
    out.write(f"not imported from {imported.program}:\n")
    reasons: dict[str, list[str]] = {}
    for item in imported.unmapped:
        reasons.setdefault(item.why, []).append(item.name)
    for why, names in reasons.items():
        # a file name in `why` (a locked key's system file) is never split: no break at its hyphens or inside it
        out.write(_printable(textwrap.fill(", ".join(names) + f": {why}", width=100, initial_indent="  - ",
                                           subsequent_indent="    ", break_on_hyphens=False,
                                           break_long_words=False)))
