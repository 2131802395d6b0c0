"""FAKE osascript, for testing ergo's macOS notifier on a machine that is not a Mac.

Behaves like the real /usr/bin/osascript for the one statement ergo sends, and is strict where the
real one is: `osascript -e 'display notification "BODY" with title "TITLE"'` compiles the script
(AppleScript string literals with the escapes \\\\ \\" \\n \\r \\t; anything after a closing quote
that is not part of the statement is a syntax error, exit 1 with "0:N: syntax error: ... (-2741)"
on stderr), then hands the notification to macOS and exits 0 once it is posted (synchronous, like
the real one). What it would have shown is appended as a JSON line to $FAKE_OSASCRIPT_LOG.
$FAKE_OSASCRIPT_FAIL makes it fail like a denied run (exit 1, "execution error: ..." on stderr).

    python tests/fake_osascript.py -e 'display notification "Sit up" with title "Posture"'
"""

from __future__ import annotations

import json
import os
import sys

ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}


class ScriptError(Exception):
    def __init__(self, pos: int, text: str) -> None:
        super().__init__(f"{pos}:{pos}: syntax error: {text} (-2741)")


def _string(script: str, pos: int) -> tuple[str, int]:
    """An AppleScript string literal starting at `pos`; returns its value and the position after it."""
    if pos >= len(script) or script[pos] != '"':
        raise ScriptError(pos, "Expected string but found something else.")
    out: list[str] = []
    pos += 1
    while pos < len(script):
        char = script[pos]
        if char == '"':
            return "".join(out), pos + 1
        if char == "\\":
            pos += 1
            if pos >= len(script) or script[pos] not in ESCAPES:
                raise ScriptError(pos, "Expected “\"” but found unknown token.")
            out.append(ESCAPES[script[pos]])
        else:
            out.append(char)
        pos += 1
    raise ScriptError(pos, "Expected “\"” but found end of script.")


def _keyword(script: str, pos: int, word: str) -> int:
    while pos < len(script) and script[pos] == " ":
        pos += 1
    if not script.startswith(word, pos):
        raise ScriptError(pos, f"Expected end of line but found {script[pos:pos + 10]!r}.")
    pos += len(word)
    while pos < len(script) and script[pos] == " ":
        pos += 1
    return pos


def parse(script: str) -> dict[str, str]:
    """The notification `display notification BODY with title TITLE` would show."""
    pos = _keyword(script, 0, "display notification")
    body, pos = _string(script, pos)
    shown = {"body": body}
    if pos < len(script.rstrip()):
        pos = _keyword(script, pos, "with title")
        shown["title"], pos = _string(script, pos)
    if script[pos:].strip():
        raise ScriptError(pos, f"Expected end of line but found {script[pos:pos + 10]!r}.")
    return shown


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "-e":
        print("usage: osascript -e statement (this fake knows only that form)", file=sys.stderr)
        return 1
    try:
        shown = parse(argv[1])
    except ScriptError as error:
        print(error, file=sys.stderr)
        return 1
    failure = os.environ.get("FAKE_OSASCRIPT_FAIL")
    if failure:
        print(f"execution error: {failure} (-1743)", file=sys.stderr)
        return 1
    log = os.environ.get("FAKE_OSASCRIPT_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps(shown) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
