"""How this ergo was installed, and the command that adds an extra to *that* installation.

The distribution is called `ergo-reminders` (on PyPI, `ergo` is another project: a
hint naming the extra of plain `ergo` would install that one). The import package and the
command stay `ergo`. A hint is only useful if it works where it is read, so it is
built from what this interpreter shows, cheaply (a stat per sys.path entry, no
importlib.metadata): pipx's venv has a pipx_metadata.json, pip and uv write an
INSTALLER file into the dist-info, and a checkout run without installing has none.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ergo import __version__

DIST_NAME = "ergo-reminders"
# The dist-info of this very version, as pip, uv and pipx write it (the name normalised with "_").
DIST_INFO = f"{DIST_NAME.replace('-', '_')}-{__version__}.dist-info"

# What each extra adds, for `pipx inject` (which takes packages, not extras).
EXTRAS: dict[str, tuple[str, ...]] = {"tray": ("python-xlib",)}

# From a checkout, before anything is installed (the README's first step).
CHECKOUT_HINT = "from a checkout of ergo: pipx install '.[{extra}]' (or pip install '.[{extra}]')"
# Where the way of installing is unknown (the man page, built once for every installation).
GENERIC_HINT = "pipx inject {dist} {packages} (pipx) or pip install '{dist}[{extra}]' (pip)"


class InstallWay:
    """`kind` is pipx, pip, uv, checkout (not installed) or other (a distro package, conda...).

    A plain class, not a dataclass: dataclasses imports inspect, about 8 ms on every `ergo --help`.
    """

    __slots__ = ("kind", "python", "pipx_venv", "installer")

    def __init__(self, kind: str, python: str, pipx_venv: str = "", installer: str = "") -> None:
        self.kind = kind
        self.python = python
        self.pipx_venv = pipx_venv  # the name pipx knows this installation by (`pipx list`)
        self.installer = installer  # the INSTALLER file's word, for kind "other"

    def _fields(self) -> tuple[str, str, str, str]:
        return (self.kind, self.python, self.pipx_venv, self.installer)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InstallWay) and self._fields() == other._fields()

    def __repr__(self) -> str:
        return "InstallWay(%r, %r, pipx_venv=%r, installer=%r)" % self._fields()


def _dist_info(entries: list[str]) -> Path | None:
    """This version's dist-info on the path: one stat per entry, no directory listing."""
    for entry in entries:
        candidate = Path(entry or ".", DIST_INFO)
        if candidate.is_dir():
            return candidate
    return None


def install_way(python: str | None = None, prefix: str | None = None, path: list[str] | None = None) -> InstallWay:
    """How the running ergo was installed (parameters for tests: the interpreter, sys.prefix, sys.path)."""
    python = python or sys.executable or "python3"
    prefix = prefix if prefix is not None else sys.prefix
    if Path(prefix, "pipx_metadata.json").is_file():
        return InstallWay("pipx", python, pipx_venv=Path(prefix).name)
    info = _dist_info(sys.path if path is None else path)
    if info is None:
        return InstallWay("checkout", python)
    try:
        installer = (info / "INSTALLER").read_text(encoding="utf-8", errors="replace").strip().splitlines()[0]
    except (OSError, IndexError):
        installer = ""
    if installer in ("pip", "uv"):
        return InstallWay(installer, python)
    return InstallWay("other", python, installer=installer)


def _quote(word: str) -> str:
    """shlex.quote without importing shlex on the CLI path: quote only what a shell would split or expand."""
    if word and all((c.isascii() and c.isalnum()) or c in "@%+=:,./-_" for c in word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


def extra_hint(extra: str, way: InstallWay | None = None) -> str:
    """The command that adds `extra` (e.g. "tray") to this installation, as one phrase for a message."""
    way = way or install_way()
    packages = " ".join(EXTRAS[extra])
    python = _quote(way.python)
    if way.kind == "pipx":
        return f"pipx inject {_quote(way.pipx_venv)} {packages}"
    if way.kind == "pip":
        return f"{python} -m pip install '{DIST_NAME}[{extra}]'"
    if way.kind == "uv":
        return f"uv pip install --python {python} '{DIST_NAME}[{extra}]'"
    if way.kind == "checkout":
        return CHECKOUT_HINT.format(extra=extra)
    by = f" with the tool that installed ergo ({way.installer})" if way.installer else ""
    return f"install {packages} for {python}{by}"


def generic_hint(extra: str) -> str:
    """The hint for text that outlives one installation (the man page): both common ways."""
    return GENERIC_HINT.format(dist=DIST_NAME, packages=" ".join(EXTRAS[extra]), extra=extra)
