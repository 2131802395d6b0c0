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
sys.exit(pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[2:]]))
"""


def test_the_suite_collects_without_the_posix_only_modules(tmp_path: Path) -> None:
    """One collection (it imports every test module: the slow part) of the suite and of six small files:
    one importing each module bare, which must fail (so the blocker really blocks), one guarded, which
    must pass."""
    for module in POSIX_ONLY:
        (tmp_path / f"test_bare_{module}.py").write_text(f"import {module}\n\ndef test_x():\n    pass\n")
    (tmp_path / "test_guarded.py").write_text("try:\n    import pwd\nexcept ImportError:\n    pwd = None\n\n"
                                             "def test_x():\n    pass\n")
    done = subprocess.run([sys.executable, "-c", COLLECT, ",".join(POSIX_ONLY), "tests", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    errors = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("ERROR ")}
    bare = {f"test_bare_{m}.py" for m in POSIX_ONLY}
    assert {Path(e).name for e in errors if Path(e).name in bare} == bare, done.stdout[-3000:] + done.stderr[-2000:]
    assert not [e for e in errors if Path(e).name not in bare], done.stdout[-6000:] + done.stderr[-2000:]
    assert "blocked: as on Windows" in done.stdout and "test_guarded.py::test_x" in done.stdout
    assert "tests/test_collect_without_posix.py::test_the_suite_collects_without_the_posix_only_modules" in done.stdout
