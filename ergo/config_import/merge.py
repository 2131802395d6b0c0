"""Write imported keys into the user's TOML through tomlkit, a TOML editing library: each value on its
key's line, with a comment saying where it came from; every other line, comment, string and key stays
exactly as it was (a multi-line string holding `interval = 5` is a string, never a key to replace).

tomlkit rather than text substitution: it parses the file as TOML, so only real keys of the right table
are touched, whatever the quoting, dotted keys (`posture.interval = ...`) or inline tables.
"""

from __future__ import annotations

import re
from typing import Any

import tomlkit
from tomlkit.items import Comment, InlineTable, Item, Null, Table

from ergo.config_import.base import Mapped


class NotATable(ValueError):
    """The user's file gives a plain value (`posture = 5`) where ergo's settings need a table."""


def _value(value: Any, origin: str | None) -> Item:
    item = tomlkit.item(value)
    if origin is not None:
        item.comment(f"imported from {origin}")
        item.trivia.comment_ws = "  "
    return item


def _revive(table: Table, name: str, item: Item) -> bool:
    """Put `item` where the table has `# name = ...` (the commented example of the default file)."""
    body = table.value.body
    pattern = re.compile(rf"\s*#\s*{re.escape(name)}\s*=")
    for index, (key, entry) in enumerate(body):
        if key is None and isinstance(entry, Comment) and pattern.match(entry.as_string()):
            item.trivia.indent = entry.trivia.indent
            # tomlkit has no public positional insert: _insert_at keeps its key map right,
            # and the comment's slot becomes Null (what Container.remove leaves behind).
            table.value._insert_at(index, name, item)
            body[index + 1] = (None, Null())
            return True
    return False


def apply(text: str, mapped: list[Mapped]) -> str:
    """`text` with every mapped key set: an existing key keeps its place, a commented-out example is
    revived, else the key is added at the end of its table (the table is created if missing)."""
    doc = tomlkit.parse(text)
    for entry in mapped:
        section, name = entry.key.split(".")  # every key a reader maps is in a table: posture.interval, idle.backend
        if section not in doc:
            doc[section] = tomlkit.table()
        table: Any = doc[section]
        if isinstance(table, InlineTable):
            table[name] = _value(entry.value, None)  # no comment fits inside { ... }
            continue
        if not isinstance(table, Table):  # `posture = 5`: TOML, but nowhere to put posture.interval
            raise NotATable(f"{section} is not a table: ergo's {section} settings go in a [{section}] table")
        item = _value(entry.value, entry.origin)
        if name in table or not _revive(table, name, item):
            table[name] = item
    out = doc.as_string()
    return out if out.endswith("\n") else out + "\n"
