"""`ergo config path | show | edit | init | validate | import` (edit and import live in their own modules)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ergo.errors import ConfigError, ErgoError, one_line
from ergo.paths import Paths, read_config_bytes
from ergo.templates_dir import default_config_text


def run(action: str, config: str | None, flags: dict[str, Any], args: argparse.Namespace) -> int:
    paths = Paths.resolve(config)
    if action == "path":  # stdout is the path alone, for `$EDITOR "$(ergo config path)"`; the note goes to stderr
        state = "exists" if paths.config_file.exists() else "does not exist yet: `ergo config init` or `ergo config edit` creates it"
        print(paths.config_file)
        print(f"ergo: {paths.config_from}; {state}", file=sys.stderr)
        return 0
    if action == "init":
        return init(paths.config_file, force=args.force)
    if action == "edit":
        from ergo.commands.config_edit import edit

        return edit(paths.config_file, flags)
    if action == "import":
        from ergo.commands import config_import

        return config_import.run(args.program, args.path, args.dry_run, config)
    from ergo.config.model import defaults, flat_values
    from ergo.config.load import load_settings

    if action == "validate":
        target = Path(args.path) if args.path else paths.config_file
        if read_config_bytes(target) is None:
            if args.path:  # a file named on the command line must be there
                raise ErgoError(f"{target}: no such file")
            # No config file: check what `ergo run` would use, the defaults plus the system file and the
            # environment (ERGO_*), and exit 0 or 2 exactly as `ergo run` would.
            checked = load_settings(paths.config_file, flags)
            _print_notices(checked.notices)
            print(f"{target}: no such file; the built-in defaults with the environment and flags are ok "
                  "(`ergo config init` writes a file to edit)")
            return 0
        if paths.system_config_file is not None and target.resolve() == paths.system_config_file.resolve():
            checked = load_settings(paths.config_file, flags, target)  # the system file, under the user's
            if checked.system_error:  # ergo runs without it; validating it is the place to say why
                raise ConfigError(checked.system_error)
        else:
            checked = load_settings(target, flags)
        _print_notices(checked.notices)
        print(f"{target}: ok")
        return 0
    loaded = load_settings(paths.config_file, flags)
    found = "" if loaded.file_exists else "  (not found: built-in defaults apply)"
    print(f"# config file: {paths.config_file}{found}")
    _print_system_layer(loaded)
    values = flat_values(loaded.settings)
    built_in = flat_values(defaults())
    changed_only = getattr(args, "changed", False)
    if changed_only:
        values = {k: v for k, v in values.items() if v != built_in.get(k)}
        if not values:
            print("# everything is at its built-in default")
            return 0
    else:
        print("# a * before the comment marks a value that differs from the built-in default (`--changed` lists only those)")
    width = max(len(k) for k in values)
    for key, value in values.items():
        mark = "*" if value != built_in.get(key) else " "
        origin = loaded.origins.get(key, "default")
        if changed_only:
            origin += f"; default {_shown(built_in.get(key))}"
        print(f"{key:<{width}} = {_shown(value):<24} {mark} # {origin}")
    return 0


def _shown(value: Any) -> str:
    """A value as TOML would spell it; None (not set) as a dash."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _print_system_layer(loaded: Any) -> None:
    """The system-wide file under the user's, its locked keys, and each ignored attempt to change one."""
    if loaded.system_exists:  # absent: say nothing, most machines have none
        print(f"# system-wide file: {loaded.system_file}")
    if loaded.locked:
        print(f"# locked by the system-wide file: {', '.join(loaded.locked)}")
    _print_notices(loaded.notices)


def _print_notices(notices: list[str]) -> None:
    for notice in notices:
        print(one_line(notice), file=sys.stderr)


def init(target: Path, *, force: bool) -> int:
    if target.exists() and not force:
        raise ErgoError(f"{target} already exists; use --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(default_config_text(), "utf-8")
    tmp.replace(target)
    print(f"wrote {target}")
    return 0
