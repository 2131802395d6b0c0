"""Load APScheduler without asyncio: the daemon never schedules coroutines, and asyncio (which
brings ssl, libssl and libcrypto along) would cost the long-running process about 2 MB.

APScheduler 3.11 imports `asyncio.iscoroutinefunction` when it loads, on Python < 3.14, only to
tell coroutine jobs apart; on 3.14 it takes `inspect.iscoroutinefunction` instead. While
`load_apscheduler()` imports it, `asyncio` resolves to a stand-in module that offers inspect's
function; the stand-in is removed right after, so a later `import asyncio` gets the real one.
"""

from __future__ import annotations

import inspect
import sys
import types


def load_apscheduler() -> None:
    """Import apscheduler.util (the module that wants asyncio) with the stand-in; a no-op if done."""
    if "apscheduler.util" in sys.modules or "asyncio" in sys.modules:
        return
    stand_in = types.ModuleType("asyncio", "a stand-in while APScheduler loads (see ergo.daemon.apscheduler_slim)")
    stand_in.iscoroutinefunction = inspect.iscoroutinefunction  # type: ignore[attr-defined]
    sys.modules["asyncio"] = stand_in
    try:
        import apscheduler.util  # noqa: F401
    except ImportError:
        pass  # a later APScheduler 3.x wants more of asyncio: load it for real below (2 MB, but it runs)
    finally:
        if sys.modules.get("asyncio") is stand_in:
            del sys.modules["asyncio"]
    if "apscheduler.util" not in sys.modules:
        for name in [n for n in sys.modules if n == "apscheduler" or n.startswith("apscheduler.")]:
            del sys.modules[name]  # half-imported under the stand-in
        import apscheduler.util  # noqa: F401
