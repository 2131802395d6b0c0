"""The whole suite collects where pwd, grp, resource, fcntl and termios do not exist (Windows).

GitHub's Windows job runs `pytest -m "not desktop"`; one module-level `import pwd` stops that at
collection, and every step after it never runs. This runs `pytest --collect-only` over the whole
suite in a Python whose import system refuses those modules, so Linux CI catches the next one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


from tests.helpers import REPO

POSIX_ONLY = ("pwd", "grp", "resource", "fcntl", "termios")

COLLECT = """
import importlib.abc, sys
BLOCKED = set(sys.argv[1].split(","))
for name in BLOCKED:
    sys.modules.pop(name, None)

class Windowsish(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: as on Windows)", name=name)
        return None

sys.meta_path.insert(0, Windowsish())
import pytest
sys.exit(pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", sys.argv[2]]))
"""


def _collect(where: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", COLLECT, ",".join(POSIX_ONLY), where], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_the_suite_collects_without_the_posix_only_modules() -> None:
    done = _collect("tests")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "error" not in done.stdout.splitlines()[-1], done.stdout[-3000:]


def test_a_module_level_import_of_any_of_them_fails_to_collect(tmp_path: Path) -> None:
    """The blocker really blocks (so the test above can fail), and a guarded import passes."""
    for module in POSIX_ONLY:
        (tmp_path / f"test_bare_{module}.py").write_text(f"import {module}\n\ndef test_x():\n    pass\n")
    (tmp_path / "test_guarded.py").write_text("try:\n    import pwd\nexcept ImportError:\n    pwd = None\n\n"
                                             "def test_x():\n    pass\n")
    done = _collect(str(tmp_path))
    errors = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("ERROR ")}
    assert {Path(e).name for e in errors} == {f"test_bare_{m}.py" for m in POSIX_ONLY}, done.stdout[-3000:]
    assert "test_guarded.py::test_x" in done.stdout and "blocked: as on Windows" in done.stdout
