"""`ergo tray`: pick a front end, follow the daemon's status stream, carry out menu choices.

Threads: the front end's loop runs on the main thread; one daemon thread reads
the status stream (it reconnects by itself when the daemon restarts) and hands
each new view to the front end; each menu choice runs on a short-lived thread
so a slow `ergo start` never freezes the icon.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ergo.errors import BackendUnavailable

from ergo.paths import socket_path
from ergo.control.stream import statuses
from ergo.tray.actions import perform
from ergo.tray.model import Item, view
from ergo.tray.select import select_front_end

log = logging.getLogger("ergo.tray")


def _front_end(backend: str, on_action: Callable[[Item], None], wait: float) -> tuple[Any, str]:
    """Select the front end; with `wait`, try again every 2 s that long (a panel that starts after us)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return select_front_end(backend, on_action)
        except BackendUnavailable as error:
            if time.monotonic() >= deadline:
                raise
            log.info("%s; trying again for up to %.0f s", error, deadline - time.monotonic())
            time.sleep(2)


def run(backend: str = "auto", wait: float = 0.0) -> int:
    """Run the tray until "Quit tray", SIGTERM or SIGINT; exit 0."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s ergo tray: %(message)s", "%Y-%m-%d %H:%M:%S"))
    logging.getLogger("ergo").handlers[:] = [handler]
    logging.getLogger("ergo").setLevel(logging.INFO)

    holder: dict[str, Any] = {}

    def on_action(item: Item) -> None:
        assert item.action is not None
        if item.action.command == "quit":
            log.info("quit from the menu")
            holder["front"].stop()
            return
        log.info("menu: %s", item.label)
        threading.Thread(target=lambda: log.info("%s", perform(item.action)), daemon=True).start()

    front, reason = _front_end(backend, on_action, wait)
    holder["front"] = front
    log.info("tray: %s", reason)

    def follow() -> None:
        for status in statuses(socket_path()):
            if status is None:
                log.info("ergo is not running; waiting for it")
            elif status.get("refused"):
                log.warning("%s", status.get("detail") or status["refused"])
            front.show(view(status, datetime.now(timezone.utc)))

    threading.Thread(target=follow, name="ergo-tray-stream", daemon=True).start()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: front.stop())
    try:
        front.run()
    except Exception as error:  # the display or bus went away: say so in one line, let the service restart us
        log.error("the tray ended: %s: %s", error.__class__.__name__, error)
        return 1
    return 0
