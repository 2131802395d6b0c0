"""The one interface every notification backend implements, so the daemon never cares which desktop it runs on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from ergo.safetext import deliverable

URGENCIES = ("low", "normal", "critical")


@dataclass(frozen=True)
class Notification:
    """One reminder as the user should see it; `key` says which earlier one it replaces."""

    key: str
    title: str
    body: str
    urgency: str = "normal"
    expire: timedelta = timedelta(seconds=30)
    actions: tuple[tuple[str, str], ...] = ()  # (key, label) buttons; "default" is a click on the bubble
    short_labels: tuple[tuple[str, str], ...] = ()  # (key, label) for servers with a narrow row of buttons
    progress: int | None = None  # 0-100 for a countdown bar ("value" hint), where the server draws one

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a notification needs a non-empty key")
        if self.urgency not in URGENCIES:
            raise ValueError(f"urgency must be one of {', '.join(URGENCIES)}, not {self.urgency!r}")
        # 0 means "never expires" to most servers: a reminder must not pile up on screen.
        if self.expire <= timedelta(0):
            raise ValueError(f"expire must be positive, not {self.expire}")
        # Whatever the text's source (a config that skipped validation, a plan, a tip), no backend gets
        # what a notification cannot carry: a NUL makes the session bus drop ergo's connection.
        object.__setattr__(self, "title", deliverable(self.title))
        object.__setattr__(self, "body", deliverable(self.body))
        object.__setattr__(self, "actions", tuple((key, deliverable(label)) for key, label in self.actions))

    @property
    def expire_ms(self) -> int:
        """Milliseconds as D-Bus servers and notify-send want them: at least 1, never the magic 0."""
        return max(1, min(int(self.expire / timedelta(milliseconds=1)), 2**31 - 1))


@runtime_checkable
class Notifier(Protocol):
    """A way to show a notification; `send` raises NotifyError (never a foreign exception) with the reason."""

    name: str

    def send(self, notification: Notification) -> None: ...

    def close(self) -> None: ...


class ClosingContext:
    """Mixin so every backend can be used in a `with` block that closes it."""

    def close(self) -> None:  # pragma: no cover - overridden by every backend
        """Release what the backend holds."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
