"""Small shared helpers for tests that run ergo in isolation.

    from tests.helpers import ergo_env, run_ergo  # noqa: F401

    def test_something(ergo_env):
        result = run_ergo(["config", "validate"], ergo_env)
        assert result.returncode == 0

`ergo_env` gives every test a private config file, state dir and runtime dir (in this
process *and* as a dict for subprocesses) and removes any other ERGO_* variable, so
nothing of the real user's files or settings is touched or leaks in. For a module-scoped
or hand-built environment use `isolated_env(root)`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from typing import NoReturn
from pathlib import Path

import pytest

from ergo import paths

REPO = Path(__file__).resolve().parent.parent
#: ERGO_* variables that survive the clean-up (the CI switch for desktop tests).
KEEP = frozenset({"ERGO_REQUIRE_DESKTOP"})


def isolated_env(root: Path, base: Mapping[str, str] | None = None, **settings: str) -> dict[str, str]:
    """ergo.paths.isolated_env (the one helper tests and benchmarks share), keeping ERGO_REQUIRE_DESKTOP."""
    return paths.isolated_env(root, dict(os.environ if base is None else base), keep=tuple(KEEP), **settings)


@pytest.fixture
def ergo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Isolate this test: os.environ is cleaned and pointed at tmp_path; returns the env for subprocesses.

    The config file is tmp_path/config.toml (absent until a test writes it); change the
    returned dict freely, it is a copy.
    """
    env = isolated_env(tmp_path)
    for key in list(os.environ):
        if key.startswith("ERGO_") and key not in KEEP:
            monkeypatch.delenv(key)
    for key in ("ERGO_CONFIG", "ERGO_STATE_DIR", "ERGO_RUNTIME_DIR", "XDG_CONFIG_DIRS"):
        monkeypatch.setenv(key, env[key])
    return dict(env)


def cannot_run(reason: str) -> NoReturn:
    """Skip a test that cannot run here, but fail it when ERGO_REQUIRE_DESKTOP=1 (CI must run everything)."""
    if os.environ.get("ERGO_REQUIRE_DESKTOP") == "1":
        pytest.fail(f"{reason}; ERGO_REQUIRE_DESKTOP=1 forbids skipping", pytrace=False)
    pytest.skip(reason)


def run_ergo(args: list[str], env: Mapping[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run the real `python -m ergo ARGS` with `env`; returns the finished process (text stdout/stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "ergo", *args],
        env=dict(env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
