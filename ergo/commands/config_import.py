"""`ergo config import --from safeeyes|stretchly|workrave [PATH] [--dry-run]`."""

from __future__ import annotations

import difflib
import os
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from ergo.errors import ConfigError, ErgoError
from ergo.paths import Paths

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
    try:
        text = source.read_text("utf-8")
    except FileNotFoundError:
        raise ErgoError(f"{source}: no such file (where is your {NAMES[program]} config? pass its path)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{source}: cannot read the file ({error.__class__.__name__}: {error})") from None
    if program == "workrave":
        return workrave.parse(workrave.from_ini_text(text, str(source)), str(source))
    return readers[program].parse(text, str(source))


def run(program: str, path: str | None, dry_run: bool, config: str | None, out: Any = None) -> int:
    """Print the change as a diff; write it unless --dry-run (the old file is kept as .bak)."""
    from ergo.config.load import load_settings
    from ergo.config_import.merge import apply
    from ergo.templates_dir import default_config_text

    out = out or sys.stdout
    target = Paths.resolve(config).config_file
    imported = read(program, path)
    exists = target.exists()
    current = target.read_text("utf-8") if exists else default_config_text()
    updated = apply(current, imported.mapped)
    _check(updated, target, load_settings)
    label = str(target) if exists else f"{target} (new, from `ergo config init`)"
    diff = list(difflib.unified_diff(current.splitlines(keepends=True), updated.splitlines(keepends=True),
                                     fromfile=label, tofile=f"{target} (imported from {imported.program})"))
    out.write("".join(diff) if diff else f"# {target} already has these values\n")
    _list_unmapped(imported, out)
    if dry_run:
        out.write(f"dry run: {target} not changed\n")
        return 0
    if not diff:
        return 0
    target = target.resolve() if target.is_symlink() else target  # stow, home-manager: write through the link
    target.parent.mkdir(parents=True, exist_ok=True)
    if exists:
        backup = target.with_name(target.name + ".bak")
        backup.write_bytes(target.read_bytes())
    fd, tmp = tempfile.mkstemp(prefix=target.name, dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(updated)
    os.replace(tmp, target)
    out.write(f"wrote {target}" + (f" (the previous file is {target.name}.bak)" if exists else "") + "\n")
    return 0


def _check(text: str, target: Path, load_settings: Any) -> None:
    """The result must load as an ergo config, or nothing is written."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / target.name
        probe.write_text(text, "utf-8")
        try:
            load_settings(probe, {}, system_layer=False)
        except ConfigError as error:
            raise ConfigError(f"the imported config would not load, nothing written: {str(error).replace(str(probe), str(target))}") from None


def _list_unmapped(imported: Any, out: Any) -> None:
    """What has no counterpart, grouped by the reason, so nothing is dropped silently."""
    if not imported.unmapped:
        return
    out.write(f"not imported from {imported.program} (no counterpart in ergo):\n")
    reasons: dict[str, list[str]] = {}
    for item in imported.unmapped:
        reasons.setdefault(item.why, []).append(item.name)
    for why, names in reasons.items():
        out.write(textwrap.fill(", ".join(names) + f": {why}", width=100, initial_indent="  - ", subsequent_indent="    ") + "\n")
