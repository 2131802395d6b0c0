"""The fallback when no idle source exists: ergo treats the person as always present."""

from __future__ import annotations

from datetime import timedelta


class NoIdleMonitor:
    """Always zero idle time, so breaks are never skipped for absence."""

    name = "none"
    source = "no idle source; the person counts as always present"

    def idle_time(self) -> timedelta:
        """Zero; any thread."""
        return timedelta(0)

    def close(self) -> None:
        """Nothing to release."""


def probe() -> str | None:
    """Always usable."""
    return None
