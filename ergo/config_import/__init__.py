"""`ergo config import`: another break timer's own settings, mapped by meaning onto ergo's keys.

- `base`: what a reader returns (mapped keys with where each came from, and what has no counterpart).
- `safeeyes`, `stretchly`, `workrave`: one reader per program, pure functions over the file's text.
- `merge`: writes the mapped keys into the user's TOML text, keeping every other line and comment.

The mapping table is in the docs (docs/import.md).
"""

from __future__ import annotations

PROGRAMS = ("safeeyes", "stretchly", "workrave")
