"""What every idle monitor offers the daemon, and the one error it may raise.

Threading: the daemon builds a monitor on its main thread, then calls
``idle_time()`` from its scheduler thread only, and ``close()`` once from the
main thread at shutdown. A backend that needs a thread of its own (an event
watch) owns exactly one daemon thread and stops it in ``close()``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol, runtime_checkable

from ergo.errors import ErgoError


class IdleError(ErgoError):
    """An idle source that used to work failed (e.g. the session bus went away)."""


@runtime_checkable
class IdleMonitor(Protocol):
    """How long the person has been away from keyboard and mouse."""

    name: str

    def idle_time(self) -> timedelta:
        """Time since the last user input; called from the scheduler thread.

        Raises IdleError when the source fails; never a foreign exception.
        """
        ...

    def close(self) -> None:
        """Release the connection or display; called once, from the main thread."""
        ...


@runtime_checkable
class IdleWatcher(Protocol):
    """Optional extra of a monitor: events instead of polling (GNOME's Mutter)."""

    def watch(
        self,
        away_after: timedelta,
        on_away: Callable[[], None],
        on_back: Callable[[], None],
    ) -> None:
        """Start the monitor's single daemon thread; callbacks run on that thread.

        ``on_away`` fires once idle time reaches ``away_after``; ``on_back`` at
        the next input after that. ``close()`` stops the thread within ~1 s.
        """
        ...
