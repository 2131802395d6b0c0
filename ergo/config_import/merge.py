"""Write imported keys into the user's TOML text: each value on its key's line, with a comment saying
where it came from; every other line, comment and key stays as it was."""

from __future__ import annotations

import json
import re
from typing import Any

from ergo.config_import.base import Mapped

_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")


def toml_value(value: Any) -> str:
    """A TOML literal for a bool, number, string or list of strings (JSON's string escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _section_bounds(lines: list[str], section: str | None) -> tuple[int, int] | None:
    """[start, end) of the section's body (None: top-level keys, before the first header)."""
    headers = [(i, m.group(1).strip()) for i, line in enumerate(lines) if (m := _HEADER.match(line))]
    if section is None:
        return 0, headers[0][0] if headers else len(lines)
    for n, (i, name) in enumerate(headers):
        if name == section:
            return i + 1, headers[n + 1][0] if n + 1 < len(headers) else len(lines)
    return None


def apply(text: str, mapped: list[Mapped]) -> str:
    """`text` with every mapped key set: an existing line is replaced, a commented-out one revived,
    else the key is added at the end of its section (created if missing)."""
    lines = text.splitlines()
    for item in mapped:
        section, _, name = item.key.rpartition(".")
        line = f"{name} = {toml_value(item.value)}  # imported from {item.origin}"
        bounds = _section_bounds(lines, section or None)
        if bounds is None:
            if lines and lines[-1].strip():
                lines.append("")
            lines += [f"[{section}]", line]
            continue
        start, end = bounds
        active = re.compile(rf"^\s*{re.escape(name)}\s*=")
        commented = re.compile(rf"^\s*#\s*{re.escape(name)}\s*=")
        target = next((i for i in range(start, end) if active.match(lines[i])), None)
        if target is None:
            target = next((i for i in range(start, end) if commented.match(lines[i])), None)
        if target is not None:
            lines[target] = line
            continue
        last = end
        while last > start and not lines[last - 1].strip():
            last -= 1
        lines.insert(last, line)
    return "\n".join(lines) + "\n"
