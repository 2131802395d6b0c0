"""The daemon stays light: pydantic (validated in a child process) and plyer never load into it.

Figures (memory, CPU, wakeups) are measured in benchmarks/, not asserted here;
this checks the structural promise that makes them possible.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon_helpers import Daemon, ErgoEnv


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_daemon_process_never_loads_pydantic_or_plyer() -> None:
    with ErgoEnv.create() as env, Daemon(env) as daemon:
        env.write_config('[stretch]\ninterval = "7m"\n')  # a reload goes through the child too
        env.cli("reload")
        assert daemon.status()["reminders"]["stretch"]["interval"] == "7m"
        maps = Path(f"/proc/{daemon.pid}/maps").read_text()
        assert "pydantic_core" not in maps
        # nor asyncio and ssl (APScheduler would import them; ergo.daemon.apscheduler_slim), nor hashlib's libcrypto
        for library in ("_asyncio", "_ssl", "libssl", "_hashlib", "libcrypto"):
            assert library not in maps, library
        assert daemon.terminate() == 0


def test_apscheduler_loads_without_asyncio_and_asyncio_still_imports_after() -> None:
    code = ("import sys; from ergo.daemon.apscheduler_slim import load_apscheduler; load_apscheduler(); "
            "import apscheduler.schedulers.background, apscheduler.util; "
            "assert 'asyncio' not in sys.modules and 'ssl' not in sys.modules, sorted(sys.modules); "
            "import asyncio; assert asyncio.get_event_loop_policy() is not None; "
            "assert apscheduler.util.iscoroutinefunction_partial(lambda: 1) is False; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
    assert done.stdout.strip() == "ok", done.stderr


def test_an_apscheduler_that_wants_more_of_asyncio_still_loads_with_the_real_one(tmp_path) -> None:
    """A stand-in for a future APScheduler 3.x whose util imports more than iscoroutinefunction:
    the slim load must fall back to the real asyncio, never leave the daemon unable to start."""
    package = tmp_path / "apscheduler"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "util.py").write_text("from asyncio import iscoroutinefunction, get_running_loop\n")
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
            "from ergo.daemon.apscheduler_slim import load_apscheduler; load_apscheduler(); "
            "import apscheduler.util, asyncio; "
            "assert apscheduler.util.get_running_loop is asyncio.get_running_loop; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
    assert done.stdout.strip() == "ok", done.stderr
