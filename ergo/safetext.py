"""Text that a notification can carry and a terminal can show: what ergo refuses, strips or masks.

Standard library only and no imports at all: `ergo status` uses `printable` on the light path.

- `undeliverable(text)`: the first character a notification cannot carry (D-Bus drops a
  connection that sends a NUL; other control characters, escape sequences and lone surrogates
  reach the screen garbled or not at all), with its position. `ergo config validate` refuses it.
- `deliverable(text)`: the text without those characters (what the notifiers send, whatever
  the source: a config, a tip, a plan, an import).
- `printable(text)`: for a terminal or a bar, every control character, lone surrogate and
  bidirectional override replaced by "?", so no escape sequence passes through.
"""

from __future__ import annotations

_NAMES = {0x00: "NUL", 0x1B: "ESC, the start of a terminal escape sequence", 0x7F: "DEL", 0x9B: "CSI, a terminal escape"}


def _undeliverable(code: int) -> bool:
    """C0 controls but tab, newline and carriage return (a config saved with CRLF line ends holds them), DEL,
    C1 controls, and surrogates (never valid alone in UTF-8)."""
    return (code < 0x20 and code not in (0x09, 0x0A, 0x0D)) or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF


def _unprintable(code: int) -> bool:
    """What a terminal must not receive from someone else: every control character (newline and tab too:
    one field is one line), surrogates, and the bidirectional overrides that reorder what is shown."""
    return code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or 0x202A <= code <= 0x202E \
        or 0x2066 <= code <= 0x2069


def describe(char: str) -> str:
    """'U+0000 (NUL)', 'U+D800 (a lone surrogate)', 'U+0007 (a control character)'."""
    code = ord(char)
    what = _NAMES.get(code) or ("a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character")
    return f"U+{code:04X} ({what})"


def undeliverable(text: str) -> tuple[int, str] | None:
    """(1-based position, description) of the first character a notification cannot carry, or None."""
    if text.isprintable():  # the common case, in C
        return None
    for index, char in enumerate(text):
        if _undeliverable(ord(char)):
            return index + 1, describe(char)
    return None


def deliverable(text: str) -> str:
    """`text` without the characters a notification cannot carry."""
    if text.isprintable():
        return text
    return "".join(char for char in text if not _undeliverable(ord(char)))


def printable(value: object) -> str:
    """`value` as text for a terminal or a bar, every unprintable character masked as "?"."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    return "".join("?" if _unprintable(ord(char)) else char for char in text)
