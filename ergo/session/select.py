"""Start every session watcher that can run here; report each in one line, never raise."""

from __future__ import annotations

import logging

from ergo.errors import BackendUnavailable
from ergo.session.dnd import DndWatcher
from ergo.session.events import Emit, SessionWatcher
from ergo.session.lock import LockWatcher
from ergo.session.logind import LogindWatcher

log = logging.getLogger(__name__)


def start_watchers(emit: Emit, *, system_bus: str = "SYSTEM",
                   session_bus: str = "SESSION") -> tuple[list[SessionWatcher], list[str]]:
    """Started watchers and one reason line per watcher (started, or why not).

    Called on the daemon's main thread; ``emit`` is then called from each
    watcher's own thread. A missing bus makes that watcher unavailable, logged.
    """
    candidates: list[LogindWatcher | LockWatcher | DndWatcher] = [
        LogindWatcher(system_bus), LockWatcher(session_bus), DndWatcher(session_bus)]
    started: list[SessionWatcher] = []
    reasons: list[str] = []
    for watcher in candidates:
        try:
            watcher.start(emit)
        except BackendUnavailable as e:
            reason = f"{watcher.name}: unavailable: {str(e).split(' is unavailable: ', 1)[-1]}"
            log.debug("%s", reason)
            reasons.append(reason)
            continue
        except Exception as e:  # a bug in one watcher must not stop the daemon
            log.exception("session watcher %s failed to start", watcher.name)
            reasons.append(f"{watcher.name}: failed to start: {e}")
            continue
        started.append(watcher)
        reasons.append(watcher.description)
        log.debug("%s", watcher.description)
    return started, reasons


def stop_watchers(watchers: list[SessionWatcher]) -> None:
    """Stop them all, each within ~1 s; called once at shutdown."""
    for watcher in watchers:
        watcher.stop()
