"""Checked settings remembered between commands, so `ergo stats` and `ergo report` start without pydantic.

Loading the settings through pydantic costs a command well over 100 ms before it reads a single
row. The checked settings (the JSON of ergo.config.load.export_json, as the daemon's check child
makes it) are kept in the private runtime dir beside a fingerprint of everything they came from:
ergo's version, the config file and the system-wide file (path, size, times in ns, inode), every
ERGO_* variable but the three locations, XDG_CONFIG_DIRS and the command-line flags. A command whose fingerprint matches
reads that JSON; any other loads the settings as before (a bad config is the same one-line
ConfigError, exit 2) and refreshes the file. Nothing is trusted from a runtime dir that is not
ours (ergo.paths.ensure_private_dir).
"""

from __future__ import annotations

import json
import os
from typing import Any

from ergo.config.frozen import PlainLoaded
from ergo.paths import Paths

CACHE_NAME = "settings.json"
#: ERGO_* variables that are locations, not settings (the config file itself is marked by its stat)
LOCATIONS = frozenset({"ERGO_CONFIG", "ERGO_STATE_DIR", "ERGO_RUNTIME_DIR"})


def _file_mark(path: Any) -> list[Any] | None:
    if path is None:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return [str(path), None]
    return [str(path), info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev]


def fingerprint(paths: Paths, flags: dict[str, Any]) -> str:
    """Everything the checked settings depend on, as one string."""
    from ergo import __version__

    env = sorted((k, v) for k, v in os.environ.items()
                 if (k.startswith("ERGO_") and k not in LOCATIONS) or k == "XDG_CONFIG_DIRS")
    return json.dumps([__version__, _file_mark(paths.config_file), _file_mark(paths.system_config_file), env, flags],
                      sort_keys=True)


def plain_loaded(paths: Paths, flags: dict[str, Any]) -> PlainLoaded:
    """The checked settings: remembered ones when nothing they came from changed, else loaded now."""
    mark = fingerprint(paths, flags)
    cached = _read(paths, mark)
    if cached is not None:
        return cached
    from ergo.config.load import export_json, load_settings

    data = export_json(load_settings(paths.config_file, flags))
    _write(paths, mark, data)
    return PlainLoaded.from_json(data)


def _read(paths: Paths, mark: str) -> PlainLoaded | None:
    from ergo.errors import ErgoError
    from ergo.paths import check_private_dir

    try:
        check_private_dir(paths.runtime_dir)
        with open(paths.runtime_dir / CACHE_NAME, encoding="utf-8") as handle:
            saved = json.load(handle)
        if saved.get("fingerprint") != mark:
            return None
        return PlainLoaded.from_json(saved["loaded"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ErgoError):
        return None


def _write(paths: Paths, mark: str, data: dict[str, Any]) -> None:
    """Atomically, 0600; a runtime dir that cannot be made or written just means no shortcut next time."""
    from ergo.errors import ErgoError
    from ergo.paths import ensure_private_dir

    try:
        folder = ensure_private_dir(paths.runtime_dir)
        temporary = folder / f".{CACHE_NAME}.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"fingerprint": mark, "loaded": data}, handle)
        os.replace(temporary, folder / CACHE_NAME)
    except (OSError, ErgoError):
        pass


def language(paths: Paths, flags: dict[str, Any]) -> str:
    """The `language` setting (ergo.i18n) for the commands that speak the reader's language: `ergo tips`
    and `ergo plan`, from the checked settings remembered between runs."""
    return plain_loaded(paths, flags).settings.language
