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
import tempfile
import sys
from collections.abc import Mapping
from typing import NoReturn
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: ERGO_* variables that survive the clean-up (the CI switch for desktop tests).
KEEP = frozenset({"ERGO_REQUIRE_DESKTOP"})


def isolated_env(root: Path, base: Mapping[str, str] | None = None, **settings: str) -> dict[str, str]:
    """A copy of `base` (default os.environ) without ERGO_* settings, pointed at files under `root`.

    ERGO_CONFIG = root/config.toml (not created), ERGO_STATE_DIR = root/state,
    ERGO_RUNTIME_DIR = root/run, XDG_CONFIG_DIRS = root/xdg (so the machine's
    /etc/xdg/ergo/config.toml stays out). Keyword arguments add ERGO_ variables
    without the prefix: isolated_env(tmp, POSTURE__INTERVAL="20m").
    """
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("ERGO_") or k in KEEP}
    env["ERGO_CONFIG"] = str(root / "config.toml")
    env["ERGO_STATE_DIR"] = str(root / "state")
    env["XDG_CONFIG_DIRS"] = str(root / "xdg")
    # Unix socket paths must stay under ~100 bytes: a deep tmp_path would break them.
    env["ERGO_RUNTIME_DIR"] = str(root / "run") if len(str(root)) < 60 else tempfile.mkdtemp(prefix="er", dir="/tmp")
    env.update({f"ERGO_{key}": value for key, value in settings.items()})
    return env


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
