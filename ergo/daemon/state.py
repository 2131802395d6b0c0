"""Keeping state: every write the daemon makes to the Store goes through a StateKeeper.

A write that fails (a full disk, a read-only home) never stops reminders: the reason is logged
once and shown in `ergo status`, history rows wait in memory, and everything is retried at the
next change or housekeeping. Callers hold the daemon's lock; nothing here takes it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Callable

from ergo.timing.durations import format_duration
from ergo.errors import StateError
from ergo.records.store import Store
from ergo.timing.decisions import Outcome

log = logging.getLogger("ergo")

#: The daemon's `apply(outcomes, now)`, handed to the parts that make decisions happen.
Apply = Callable[[list[Outcome], datetime], None]
MAX_UNSAVED_ROWS = 10_000  # history rows kept in memory while the disk is full

Row = tuple[datetime, str, str, str, int | None]  # at, kind, event, detail, ref


class StateKeeper:
    """Store writes that remember their failure instead of raising it, so a full disk costs no reminder."""

    def __init__(self, store: Store, snapshot: Callable[[], dict]) -> None:
        self.store = store
        self._snapshot = snapshot  # the Engine's state as plain data
        self.error: str | None = None  # why the latest save failed (full disk...); None when saved
        self.saved: dict | None = None  # the snapshot last written, so unchanged state is not written again
        self.unsaved_rows: list[Row] = []
        self.unsaved_plan: tuple[dict | None] | None = None  # (plan,) while the running plan waits for space
        self._pruned_at: datetime | None = None

    def save(self, now: datetime, sending: list[tuple[datetime, str, str]] | None = None) -> list[int]:
        """Write the Engine's state when it changed (idle polls mostly change nothing); [] when saving failed.

        A failed save keeps the state in memory and is retried at the next change or housekeeping.
        """
        snapshot = self._snapshot()
        if snapshot == self.saved and not sending:
            return []
        try:
            ids = self.store.save_engine(snapshot, now, sending or ())
        except StateError as error:
            self.failed(str(error))
            return []
        self.saved = snapshot
        self.ok()
        return ids

    def call(self, method: Callable[..., Any], *args: Any) -> bool:
        """Call a Store method; a failure is remembered and logged once, never raised."""
        try:
            method(*args)
        except StateError as error:
            self.failed(str(error))
            return False
        self.ok()
        return True

    def record(self, at: datetime, kind: str, event: str, detail: str, ref: int | None = None) -> int | None:
        """A history row, or None while the disk is full: then it is kept in memory and written when space returns."""
        if len(self.unsaved_rows) < MAX_UNSAVED_ROWS:
            self.unsaved_rows.append((at, kind, event, detail, ref))
        return self.flush_rows()

    def flush_rows(self) -> int | None:
        """Write the rows kept in memory, oldest first; the id of the last one written."""
        written = None
        while self.unsaved_rows:
            try:
                written = self.store.record(*self.unsaved_rows[0])
            except StateError as error:
                self.failed(str(error))
                return None
            self.unsaved_rows.pop(0)
            self.ok()
        return written

    def open_span(self, what: str, now: datetime) -> int | None:
        """Open a span; None while the state cannot be written (a full disk), which costs only statistics."""
        try:
            span = self.store.open_span(what, now)
        except StateError as error:
            self.failed(str(error))
            return None
        self.ok()
        return span

    def failed(self, message: str) -> None:
        """Remember why writing failed; logged once per reason, not once per tick."""
        if message != self.error:
            log.error("state not saved: %s (reminders go on; the state is kept in memory and saved when possible)",
                      message)
        self.error = message

    def ok(self) -> None:
        """A write worked: say so once, and write what waited in memory."""
        if self.error is not None:
            self.error = None
            log.info("state saved again")
            self.flush_rows()
            if self.unsaved_plan is not None:
                self.save_plan(self.unsaved_plan[0])

    def prune(self, now: datetime, retention: timedelta) -> None:
        """Keep history for `history_retention` (default a year): at start and then once a day."""
        if self._pruned_at is not None and now - self._pruned_at < timedelta(days=1):
            return
        self._pruned_at = now
        try:
            gone = self.store.prune(now - retention)
        except StateError as error:
            self.failed(str(error))
            return
        if gone:
            days = f"{retention.days}d" if retention == timedelta(days=retention.days) else format_duration(retention)
            log.info("history: deleted %d row(s) older than %s", gone, days)

    def save_plan(self, plan: dict | None) -> None:
        """The running plan, or kept in memory while the disk is full (the newest wins)."""
        self.unsaved_plan = (plan,)
        if self.call(self.store.save_plan, plan):
            self.unsaved_plan = None

    def retry(self, now: datetime) -> None:
        """Catch up by itself once the disk has space again, even when nothing else happens."""
        if self.error is not None or self.unsaved_rows or self.unsaved_plan is not None:
            self.saved = None
            self.save(now)
            self.flush_rows()
            if self.unsaved_plan is not None:
                self.save_plan(self.unsaved_plan[0])


class BufferedStore:
    """The store as the plan driver and the button listener use it: reads go to SQLite, history
    rows and the plan go through the keeper, so a full disk delays them instead of losing them."""

    def __init__(self, store: Store, keeper: StateKeeper) -> None:
        self._store = store
        self._keeper = keeper

    def record(self, at: datetime, kind: str, event: str, detail: str = "", ref: int | None = None) -> int | None:
        return self._keeper.record(at, kind, event, detail, ref)

    def save_plan(self, plan: dict[str, Any] | None) -> None:
        self._keeper.save_plan(plan)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)  # reads: rows, answered, open_deliveries, load_plan
