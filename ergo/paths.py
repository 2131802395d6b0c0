"""Every file and socket location ergo uses, computed in one place.

platformdirs gives the per-OS defaults; ERGO_CONFIG, ERGO_STATE_DIR and
ERGO_RUNTIME_DIR override them (tests and unusual setups rely on this). The
system-wide config (an admin's defaults for every user) is found through
XDG_CONFIG_DIRS on Linux and platformdirs' site config dir elsewhere.
Only os and sys load at import: `ergo status` needs the socket path and nothing
else, so pathlib, tempfile and platformdirs load inside the functions that use them.
"""

from __future__ import annotations

import os
import stat  # already loaded by os: free
import sys

TYPE_CHECKING = False  # typing itself costs `ergo status` 3 ms
if TYPE_CHECKING:
    from pathlib import Path

APP = "ergo"
MAX_CONFIG_BYTES = 1024 * 1024


def _platformdirs():
    import platformdirs  # small, but only the commands that need paths pay for it

    return platformdirs


class Paths:
    """Resolved locations; build with `Paths.resolve()` (read-only after that)."""

    __slots__ = ("config_file", "config_from", "state_dir", "runtime_dir", "system_config_file")

    def __init__(self, config_file: Path, config_from: str, state_dir: Path, runtime_dir: Path,
                 system_config_file: Path | None = None) -> None:
        for name, value in zip(self.__slots__, (config_file, config_from, state_dir, runtime_dir, system_config_file)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Paths is read-only ({name})")

    def __repr__(self) -> str:
        return "Paths(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__) + ")"

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

    @property
    def alive_marker(self) -> Path:
        return self.runtime_dir / "ergo.alive"  # see ergo.records.store.Store.mark_alive

    @classmethod
    def resolve(cls, config: str | os.PathLike[str] | None = None) -> "Paths":
        """Locations for this user; `config` (the --config flag) beats ERGO_CONFIG beats the default."""
        from pathlib import Path

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
            system_config_file=system_config_file(),
        )


def system_config_file() -> Path:
    """The system-wide config under the user's: the first existing `DIR/ergo/config.toml` of
    $XDG_CONFIG_DIRS (default /etc/xdg) on Linux, else the first candidate; platformdirs elsewhere."""
    from pathlib import Path

    if sys.platform.startswith("linux"):
        dirs = [d for d in os.environ.get("XDG_CONFIG_DIRS", "").split(":") if d.strip() and os.path.isabs(d)]
        candidates = [Path(d) / APP / "config.toml" for d in dirs or ["/etc/xdg"]]
        # os.path.isfile, not Path.is_file: a folder we may not enter (EACCES) is "not here", not a crash.
        return next((c for c in candidates if os.path.isfile(c)), candidates[0])
    return Path(_platformdirs().site_config_dir(APP, appauthor=False)) / "config.toml"


def runtime_dir() -> Path:
    """The per-user runtime dir as a Path (see runtime_dir_name)."""
    from pathlib import Path

    return Path(runtime_dir_name())


def runtime_dir_name() -> str:
    """The per-user runtime dir, or a private temp dir when the OS offers none (e.g. root on CI)."""
    override = os.environ.get("ERGO_RUNTIME_DIR")
    if override:
        return os.path.expanduser(override)
    if sys.platform.startswith("linux"):
        xdg = os.environ.get("XDG_RUNTIME_DIR")
        if xdg and os.path.isdir(xdg):
            return os.path.join(xdg, APP)
    elif sys.platform != "win32":
        return _platformdirs().user_runtime_dir(APP, appauthor=False)
    import tempfile

    uid = os.getuid() if hasattr(os, "getuid") else os.getlogin()
    return os.path.join(tempfile.gettempdir(), f"{APP}-{uid}")


def ensure_private_dir(path: Path) -> Path:
    """Create `path` 0700, or accept it only as a real directory of ours with mode 0700.

    Another local user may have prepared the path (a /tmp fallback is guessable): ergo never
    follows a symlink there, never chmods or chowns what it did not create, and refuses in one line.
    """
    if os.name != "posix":
        path.mkdir(parents=True, exist_ok=True)
        return path
    from ergo.errors import UnsafeLocation

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        info = os.lstat(path)
    except OSError as error:
        raise UnsafeLocation(f"runtime dir {path}: cannot create it ({error.strerror or error})") from None
    check_private_dir(path, info)
    return path


def check_private_dir(path: str | os.PathLike[str], info: os.stat_result | None = None, *, mode: bool = True) -> None:
    """Raise UnsafeLocation unless `path` is a real directory of ours (with mode 0700 unless `mode` is False).
    A client (`ergo status`, the status stream, the tray) checks the runtime dir's owner this way, after
    the daemon's uid, before it reads a byte from a socket in it; the daemon also requires 0700.
    A missing `path` passes: then no daemon listens there, and connecting says so."""
    if os.name != "posix":
        return
    from ergo.errors import UnsafeLocation

    if info is None:
        try:
            info = os.lstat(path)
        except OSError:
            return
    owner = _owner(info.st_uid)
    fix = "remove it, or set XDG_RUNTIME_DIR or ERGO_RUNTIME_DIR to a private directory"
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeLocation(f"refusing runtime dir {path}: it is a symlink owned by {owner}; {fix}")
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeLocation(f"refusing runtime dir {path}: it is not a directory, owned by {owner}; {fix}")
    if info.st_uid != os.getuid():
        raise UnsafeLocation(f"refusing runtime dir {path}: it is owned by {owner}, not by you; {fix}")
    if mode and stat.S_IMODE(info.st_mode) & 0o077:
        raise UnsafeLocation(f"refusing runtime dir {path}: mode {stat.S_IMODE(info.st_mode):04o} lets others in, "
                             f"owned by {owner}; it must be 0700: {fix}")


def _owner(uid: int) -> str:
    """'alice (uid 1000)', or just the uid when it has no name."""
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def socket_path() -> str:
    """The control socket, found with os.path alone: the light path of `ergo status`."""
    return os.path.join(runtime_dir_name(), "ergo.sock")


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


def read_config_bytes(path: Path) -> bytes | None:
    """The config file's bytes, or None when it does not exist; a ConfigError (one line) otherwise.

    A FIFO, device, socket or directory is refused before it is opened (stat), and again after
    (fstat, opened without blocking: a path swapped in between is refused too), so nothing hangs
    and /dev/zero is never read; at most 1 MiB is read, even from a file that grows meanwhile; a
    symlink loop is named as a loop.
    """
    import errno

    from ergo.errors import ConfigError

    try:
        _refuse_special(path, os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        pass  # a loop or no permission: os.open below says which, in the same words as always
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ConfigError(f"{path}: symlink loop (the link points back at itself)") from None
        if error.errno == errno.ENOTDIR:
            return None
        raise ConfigError(f"{path}: cannot read the file ({error.strerror or error})") from None
    try:
        info = os.fstat(fd)
        _refuse_special(path, info.st_mode)
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: {info.st_size} bytes is too large for a config file (at most 1 MiB)")
        chunks, size = [], 0
        while size <= MAX_CONFIG_BYTES and (chunk := os.read(fd, 65536)):
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: more than {MAX_CONFIG_BYTES} bytes is too large for a config file (at most 1 MiB)")
        return b"".join(chunks)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the file ({error.strerror or error})") from None
    finally:
        os.close(fd)


def _refuse_special(path: Path, mode: int) -> None:
    """A ConfigError naming what `path` is, unless it is a regular file."""
    if stat.S_ISREG(mode):
        return
    from ergo.errors import ConfigError

    what = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else \
        "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "a special file"
    raise ConfigError(f"{path}: cannot read the file: it is {what}, not a regular file")


def isolated_env(root: str | os.PathLike[str], base: dict[str, str] | None = None, *, keep: tuple[str, ...] = (),
                 desktop: bool = True, **settings: str) -> dict[str, str]:
    """An environment in which ergo reads and writes nothing outside `root`: for tests, benchmarks
    and trying ergo out next to your own running copy.

    A copy of `base` (default os.environ) without any ERGO_* variable (but those in `keep`), with
    ERGO_CONFIG = root/config.toml (not created), ERGO_STATE_DIR = root/state, ERGO_RUNTIME_DIR =
    root/run (or a short /tmp dir when root is deep: a Unix socket path must stay under ~100 bytes)
    and XDG_CONFIG_DIRS = root/xdg (so /etc/xdg/ergo/config.toml stays out). `desktop=False` also
    drops DBUS_SESSION_BUS_ADDRESS, DISPLAY and WAYLAND_DISPLAY. Keyword arguments add ERGO_
    variables without the prefix: isolated_env(tmp, POSTURE__INTERVAL="20m").
    """
    root = os.fspath(root)
    drop = () if desktop else ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY")
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if (not k.startswith("ERGO_") or k in keep) and k not in drop}
    env["ERGO_CONFIG"] = os.path.join(root, "config.toml")
    env["ERGO_STATE_DIR"] = os.path.join(root, "state")
    env["XDG_CONFIG_DIRS"] = os.path.join(root, "xdg")
    if len(root) < 60:
        env["ERGO_RUNTIME_DIR"] = os.path.join(root, "run")
    else:
        import tempfile

        env["ERGO_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="er", dir="/tmp")
    env.update({f"ERGO_{key}": value for key, value in settings.items()})
    return env
