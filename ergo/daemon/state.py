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
from ergo.daemon.pending import Pending, Settle
from ergo.records.store import SENDING, HistoryRow, Store
from ergo.timing.decisions import Outcome

log = logging.getLogger("ergo")

#: The daemon's `apply(outcomes, now)`, handed to the parts that make decisions happen.
Apply = Callable[[list[Outcome], datetime], None]

class StateKeeper:
    """Store writes that remember their failure instead of raising it, so a full disk costs no reminder.

    A full disk is one episode: "state not saved" is logged at its first failure and "state saved
    again" once everything that waited (the state, history rows and updates, the plan) is written,
    however many writes succeed or fail in between; `error` stays set for `ergo status` until then.
    """

    def __init__(self, store: Store, snapshot: Callable[[], dict]) -> None:
        self.store = store
        self._snapshot = snapshot  # the Engine's state as plain data
        self.error: str | None = None  # why saving failed in this episode (full disk...); None when all is saved
        self.saved: dict | None = None  # the snapshot last written, so unchanged state is not written again
        self.pending = Pending(store.max_id() + 1)  # history rows and updates waiting for space, with their ids
        self.unsaved_plan: tuple[dict | None] | None = None  # (plan,) while the running plan waits for space
        self._engine_unsaved = False
        self._pruned_at: datetime | None = None

    def save(self, now: datetime, sending: list[tuple[datetime, str, str]] | None = None) -> list[int]:
        """Write the Engine's state when it changed (idle polls mostly change nothing); the ids of the
        `sending` rows, which are kept in memory when they cannot be written (they keep their ids).

        A failed save keeps the state in memory and is retried at the next change or housekeeping.
        """
        snapshot = self._snapshot()
        if snapshot == self.saved and not sending:
            return []
        rows = [HistoryRow(at, kind, SENDING, detail, self.pending.new_id()) for at, kind, detail in sending or ()]
        inline = [] if self.pending else rows  # older rows wait: these go behind them, in order
        try:
            self.store.save_engine(snapshot, now, [(r.at, r.kind, r.detail, r.id) for r in inline])
        except StateError as error:
            inline = []
            self._engine_unsaved = True
            self.failed(str(error))
        else:
            self.saved = snapshot
            self._engine_unsaved = False
        for row in rows:
            if row not in inline:
                self.pending.add(row)
        self._wrote()
        return [row.id for row in rows]

    def call(self, method: Callable[..., Any], *args: Any) -> bool:
        """Call a Store method; a failure is remembered and logged once per episode, never raised."""
        try:
            method(*args)
        except StateError as error:
            self.failed(str(error))
            return False
        self._wrote()
        return True

    def record(self, at: datetime, kind: str, event: str, detail: str, ref: int | None = None) -> int:
        """A history row, with its id at once: written now, or kept in memory and written when space returns."""
        row = HistoryRow(at, kind, event, detail, self.pending.new_id(), ref)
        self.pending.add(row)
        self._wrote()
        return row.id

    def settle(self, row_id: int, event: str, detail: str) -> None:
        """Turn a "sending" row into what happened (in memory while it, or anything older, waits)."""
        self.pending.settle(row_id, event, detail)
        self._wrote()

    def flush_rows(self) -> bool:
        """Write what waits, oldest first; True when nothing waits any more."""
        queue = self.pending.queue
        while queue:
            item = queue[0]
            try:
                if isinstance(item, Settle):
                    self.store.settle(item.row_id, item.event, item.detail)
                else:
                    self.store.record(item.at, item.kind, item.event, item.detail, item.ref, item.id)
            except StateError as error:
                if "UNIQUE constraint" not in str(error):
                    self.failed(str(error))
                    return False
                log.warning("history row %s not written: another process wrote one with its id", item)
            queue.pop(0)
        return True

    def open_span(self, what: str, now: datetime) -> int | None:
        """Open a span; None while the state cannot be written (a full disk), which costs only statistics."""
        try:
            span = self.store.open_span(what, now)
        except StateError as error:
            self.failed(str(error))
            return None
        self._wrote()
        return span

    def failed(self, message: str) -> None:
        """Remember why writing failed; logged once per episode, not once per tick or per write."""
        if self.error is None:
            log.error("state not saved: %s (reminders go on; the state is kept in memory and saved when possible)",
                      message)
        self.error = message

    def _wrote(self) -> None:
        """After a write (or a try): write what waits; the episode ends once nothing does."""
        if not self.flush_rows():
            return
        if self.unsaved_plan is not None:
            try:
                self.store.save_plan(self.unsaved_plan[0])
            except StateError as error:
                self.failed(str(error))
                return
            self.unsaved_plan = None
        if self.error is not None and not self._engine_unsaved:
            self.error = None
            log.info("state saved again")

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
        self._wrote()

    def retry(self, now: datetime) -> None:
        """Catch up by itself once the disk has space again, even when nothing else happens."""
        if self.error is not None or self.pending or self.unsaved_plan is not None:
            self.saved = None
            self.save(now)


class BufferedStore:
    """The store as the plan driver and the button listener use it: reads go to SQLite, history
    rows and the plan go through the keeper, so a full disk delays them instead of losing them."""

    def __init__(self, store: Store, keeper: StateKeeper) -> None:
        self._store = store
        self._keeper = keeper

    def record(self, at: datetime, kind: str, event: str, detail: str = "", ref: int | None = None) -> int:
        return self._keeper.record(at, kind, event, detail, ref)

    def save_plan(self, plan: dict[str, Any] | None) -> None:
        self._keeper.save_plan(plan)

    # reads see the rows that wait for space as if they were saved
    def rows(self, ids: list[int]) -> list[HistoryRow]:
        return self._keeper.pending.rows(self._store, ids)

    def answered(self, delivery_id: int) -> bool:
        return self._keeper.pending.answered(self._store, delivery_id)

    def open_deliveries(self, kind: str | None = None) -> list[HistoryRow]:
        return self._keeper.pending.open_deliveries(self._store, kind)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)  # other reads: load_plan
