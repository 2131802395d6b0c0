"""The daemon stays light: pydantic (validated in a child process) and plyer never load into it.

Figures (memory, CPU, wakeups) are measured in benchmarks/, not asserted here;
this checks the structural promise that makes them possible.
"""

from __future__ import annotations

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
        assert daemon.terminate() == 0
