"""Every file and socket location ergo uses, computed in one place.

platformdirs gives the per-OS defaults; ERGO_CONFIG, ERGO_STATE_DIR and
ERGO_RUNTIME_DIR override them (tests and unusual setups rely on this).
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

APP = "ergo"


def _platformdirs():
    import platformdirs  # small, but only the commands that need paths pay for it

    return platformdirs


@dataclass(frozen=True)
class Paths:
    """Resolved locations; build with `Paths.resolve()`."""

    config_file: Path
    config_from: str
    state_dir: Path
    runtime_dir: Path

    @property
    def state_db(self) -> Path:
        return self.state_dir / "state.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "ergo.log"

    @property
    def socket(self) -> Path:
        return self.runtime_dir / "ergo.sock"  # same as socket_path()

    @property
    def lock_file(self) -> Path:
        return self.runtime_dir / "ergo.lock"

    @classmethod
    def resolve(cls, config: str | os.PathLike[str] | None = None) -> "Paths":
        """Locations for this user; `config` (the --config flag) beats ERGO_CONFIG beats the default."""
        env = os.environ
        if config is not None:
            config_file, config_from = Path(config), "--config"
        elif env.get("ERGO_CONFIG"):
            config_file, config_from = Path(env["ERGO_CONFIG"]), "ERGO_CONFIG"
        else:
            config_file = Path(_platformdirs().user_config_dir(APP, appauthor=False)) / "config.toml"
            config_from = "default location"
        state_dir = Path(env["ERGO_STATE_DIR"]) if env.get("ERGO_STATE_DIR") else Path(
            _platformdirs().user_state_dir(APP, appauthor=False)
        )
        return cls(
            config_file=config_file.expanduser(),
            config_from=config_from,
            state_dir=state_dir.expanduser(),
            runtime_dir=runtime_dir(),
        )


def runtime_dir() -> Path:
    """The per-user runtime dir, or a private temp dir when the OS offers none (e.g. root on CI)."""
    override = os.environ.get("ERGO_RUNTIME_DIR")
    if override:
        return Path(override).expanduser()
    if sys.platform.startswith("linux"):
        xdg = os.environ.get("XDG_RUNTIME_DIR")
        if xdg and Path(xdg).is_dir():
            return Path(xdg) / APP
    elif sys.platform != "win32":
        return Path(_platformdirs().user_runtime_dir(APP, appauthor=False))
    uid = os.getuid() if hasattr(os, "getuid") else os.getlogin()
    return Path(tempfile.gettempdir()) / f"{APP}-{uid}"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (0700) if needed; the control socket and lock live only in such a dir."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(path, 0o700)
    return path


def socket_path() -> Path:
    """The control socket, found without platformdirs: the light path of `ergo status`."""
    return runtime_dir() / "ergo.sock"


def private_state_dir(path: Path) -> Path:
    """Create the state dir 0700 and make it and every file in it private, also files of an older ergo.

    Raises StateError (one line naming the path) when it cannot be created or is not a directory.
    """
    from ergo.errors import StateError

    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = path.stat()
    except OSError as error:
        raise StateError(f"state dir {path}: cannot create it ({error.strerror or error})") from None
    if not stat.S_ISDIR(info.st_mode):
        raise StateError(f"state dir {path} is not a directory")
    if os.name != "posix" or info.st_uid != os.getuid():
        return path  # not ours to chmod (e.g. root looking at another user's dir)
    try:
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(path, 0o700)
        for entry in os.scandir(path):
            if entry.is_file(follow_symlinks=False) and stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode) & 0o177:
                os.chmod(entry.path, 0o600)
    except OSError:
        pass  # a read-only state dir is reported by whoever writes to it, with the real reason
    return path
