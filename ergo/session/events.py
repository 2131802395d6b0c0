"""What the desktop session tells the daemon: suspend/resume, lock/unlock, do-not-disturb.

Threading: each SessionWatcher owns one daemon thread and calls ``emit`` from
it, so ``emit`` must be thread-safe (e.g. put the event on a queue or call
``scheduler.wakeup()``); it must not block for long.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

EventKind = Literal["suspend", "resume", "lock", "unlock", "dnd_on", "dnd_off"]


@dataclass(frozen=True)
class SessionEvent:
    """One change in the session; ``source`` names who told us (e.g. 'logind', 'dunst')."""

    kind: EventKind
    source: str


Emit = Callable[[SessionEvent], None]


@runtime_checkable
class SessionWatcher(Protocol):
    """A source of SessionEvents with its own single daemon thread."""

    name: str

    def start(self, emit: Emit) -> None:
        """Subscribe, then start the thread; called on the main thread.

        Returns once subscribed (no signal sent after it returns is missed);
        ``emit`` runs on the watcher's thread. Raises BackendUnavailable when
        the watcher cannot run here.
        """
        ...

    def stop(self) -> None:
        """Ask the thread to end and wait for it; returns within ~1 s. Safe to call twice."""
        ...
