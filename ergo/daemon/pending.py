"""History that waits in memory while the disk is full, in the order it happened.

Every row gets its id when it is made, not when it is saved: an answer given while the disk is
full names the delivery it answers, and keeps naming it whatever is saved first. Waiting rows and
updates ("sending" -> "delivered") are written strictly in order, so every saved row has a smaller
id than every waiting one. The reads below see the saved history with the waiting part on top, as
if everything had been saved: `ergo done` and a button press answer the delivery that is open,
never an older one that happens to be on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ergo.records.store import HistoryRow

#: events that close a kind's open delivery (as in Store.open_deliveries)
OVERTAKING = frozenset({"done", "snoozed", "skipped", "natural_break", "skipped_stale"})
MAX_WAITING = 10_000  # rows and updates kept in memory while the disk is full


@dataclass(frozen=True)
class Settle:
    """An update of a saved row that waits for space."""

    row_id: int
    event: str
    detail: str


class Pending:
    """The waiting rows and updates, oldest first, and the next row id."""

    def __init__(self, next_id: int) -> None:
        self._next_id = next_id
        self.queue: list[HistoryRow | Settle] = []

    def __bool__(self) -> bool:
        return bool(self.queue)

    def new_id(self) -> int:
        row_id = self._next_id
        self._next_id += 1
        return row_id

    def add(self, row: HistoryRow) -> None:
        if len(self.queue) < MAX_WAITING:
            self.queue.append(row)

    def settle(self, row_id: int, event: str, detail: str) -> None:
        """Update a row: in place while it waits, else queued behind what waits already."""
        for index, item in enumerate(self.queue):
            if isinstance(item, HistoryRow) and item.id == row_id:
                self.queue[index] = replace(item, event=event, detail=detail)
                return
        if len(self.queue) < MAX_WAITING:
            self.queue.append(Settle(row_id, event, detail))

    # --- reads: the saved history (a Store) with the waiting part on top ----------------------------

    def _waiting(self) -> list[HistoryRow]:
        return [item for item in self.queue if isinstance(item, HistoryRow)]

    def _settled(self, rows: list[HistoryRow]) -> list[HistoryRow]:
        updates = {item.row_id: item for item in self.queue if isinstance(item, Settle)}
        return [replace(row, event=updates[row.id].event, detail=updates[row.id].detail) if row.id in updates else row
                for row in rows]

    def rows(self, store: Any, ids: list[int]) -> list[HistoryRow]:
        waiting = {row.id: row for row in self._waiting() if row.id in ids}
        saved = self._settled(store.rows([i for i in ids if i not in waiting]))
        return sorted([*saved, *waiting.values()], key=lambda row: row.id)

    def answered(self, store: Any, delivery_id: int) -> bool:
        return any(row.ref == delivery_id for row in self._waiting()) or store.answered(delivery_id)

    def open_deliveries(self, store: Any, kind: str | None) -> list[HistoryRow]:
        """The latest notification's deliveries (of `kind`) that nothing has answered or overtaken yet."""
        waiting = self._waiting()
        saved = store.open_deliveries(kind)
        updates = [item.row_id for item in self.queue if isinstance(item, Settle)]
        if updates:  # a "sending" row on disk that became a delivery in memory
            saved += [row for row in self._settled(store.rows(updates))
                      if row.event == "delivered" and (kind is None or row.kind == kind) and row.id not in
                      {r.id for r in saved}]
        candidates = saved + [row for row in waiting if row.event == "delivered" and (kind is None or row.kind == kind)]
        if not candidates:
            return []
        latest = max(row.at for row in candidates)
        return sorted((row for row in candidates if row.at == latest and not any(
            later.kind == row.kind and later.id > row.id and later.event in OVERTAKING for later in waiting)),
            key=lambda row: row.id)
