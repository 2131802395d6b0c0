"""The two build steps pyproject.toml cannot say; everything else is in pyproject.toml.

1. Packages: every package under ergo/ is found (a module moved into a new
   package needs no edit here), and config/ ships as the package ergo.templates
   (one copy of the default config and the service templates).
2. Generated data files, made from the argparse parser at every build so they
   cannot drift from `ergo --help`: the man page by argparse-manpage, the
   completion scripts by shtab (through `ergo completion`, the same code a user
   runs). The wheel installs them at the Debian-style paths under its data
   (share/man/man1/ergo.1, share/bash-completion/completions/ergo,
   share/zsh/vendor-completions/_ergo, share/fish/vendor_completions.d/ergo.fish).

3. The translations: Babel compiles each catalog (.po) into the wheel's .mo
   (build_py_with_catalogs below).

The generators and Babel are build requirements (pyproject.toml [build-system]); they
import only ergo's light modules (the CLI, the plan catalog), never its
dependencies, so an isolated build needs nothing else.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
GENERATED = "build/generated"  # relative to ROOT, as setuptools wants data_files; .gitignore'd


def _python(code: str, *args: str) -> None:
    """Run `code` in a fresh interpreter that imports ergo from this source tree (not an installed one)."""
    # PYTHONUTF8: argparse-manpage writes with open()'s default encoding (cp1252 on Windows).
    env = dict(os.environ, PYTHONUTF8="1",
               PYTHONPATH=os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))))
    subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, check=True)


def _data_files() -> list[tuple[str, list[str]]]:
    """Write the man page and the completion scripts; return them as setup()'s data_files."""
    out = ROOT / GENERATED
    shutil.rmtree(out, ignore_errors=True)  # nothing stale from an earlier build rides along
    version = re.search(r'^__version__ = "([^"]+)"', (ROOT / "ergo" / "__init__.py").read_text("utf-8"), re.M)
    if version is None:
        raise SystemExit('setup.py: no __version__ = "..." line in ergo/__init__.py')
    man = out / "share/man/man1/ergo.1"
    man.parent.mkdir(parents=True, exist_ok=True)
    _python(
        "import sys; from argparse_manpage.cli import main; sys.argv[0] = 'argparse-manpage'; main()",
        "--module", "ergo.cli", "--function", "manpage_parser", "--prog", "ergo",
        "--project-name", "ergo-reminders", "--version", version.group(1),
        "--description", "ergonomics reminders: posture, water, stretching and movement",
        "--manual-title", "ergo manual", "--include", str(ROOT / "man" / "ergo.1.include"), "--output", str(man),
    )
    _python(
        "import sys\n"
        "from pathlib import Path\n"
        "from ergo.cli import completion_script\n"
        "from ergo.commands.completion import SYSTEM_PATHS\n"
        "for shell, path in SYSTEM_PATHS.items():\n"
        "    target = Path(sys.argv[1], path)\n"
        "    target.parent.mkdir(parents=True, exist_ok=True)\n"
        "    target.write_text(completion_script(shell), encoding='utf-8')\n",
        str(out),
    )
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    return [(p.parent.as_posix(), [f"{GENERATED}/{p.as_posix()}"]) for p in files]  # "/" on Windows too


class build_py_with_catalogs(build_py):
    """3. The translations: each ergo/locale/<lang>/LC_MESSAGES/ergo.po compiled by Babel into the
    built package's ergo.mo (a build requirement; ergo.i18n.compile_po, the code a checkout uses)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install compiles on first use instead (ergo.i18n)
            return
        sys.path.insert(0, str(ROOT))
        try:
            from ergo.i18n import compile_po  # imports only os: no dependency of ergo's is needed
        finally:
            sys.path.pop(0)
        for po in sorted((ROOT / "ergo" / "locale").glob("*/LC_MESSAGES/ergo.po")):
            target = Path(self.build_lib, po.relative_to(ROOT)).with_suffix(".mo")
            compile_po(str(po), str(target))


setup(
    cmdclass={"build_py": build_py_with_catalogs},
    packages=[*find_packages(include=["ergo", "ergo.*"]), "ergo.templates"],
    package_dir={"ergo.templates": "config"},
    data_files=_data_files(),
)
