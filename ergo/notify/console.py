"""The notifier that always works: one line per reminder on a terminal or log stream."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from ergo.errors import NotifyError
from ergo.notify.base import ClosingContext, Notification
from ergo.safetext import printable


class ConsoleNotifier(ClosingContext):
    """Last resort and headless mode: `[HH:MM:SS] ergo · title: body`, flushed at once so pipes see it."""

    name = "console"

    def __init__(self, stream: TextIO | None = None, *, clock: Callable[[], datetime] = datetime.now) -> None:
        # None means "whatever sys.stdout is at send time", so redirection and pytest capture keep working.
        self._stream = stream
        self._clock = clock

    def format(self, notification: Notification) -> str:
        """The line without its newline; newlines inside title or body are folded so one reminder is one line."""
        title = printable(" ".join(notification.title.split()))  # no escape sequence reaches the terminal
        body = printable(" ".join(notification.body.split()))
        return f"[{self._clock():%H:%M:%S}] ergo · {title}: {body}"

    def send(self, notification: Notification) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        if stream is None:
            raise NotifyError("console notifier has no stream (sys.stdout is None)")
        line = self.format(notification) + "\n"
        try:
            try:
                stream.write(line)
            except UnicodeEncodeError:
                # An ASCII-only terminal must still get the reminder, with "?" for what it cannot show.
                encoding = getattr(stream, "encoding", None) or "ascii"
                stream.write(line.encode(encoding, "replace").decode(encoding))
            stream.flush()
        except (OSError, ValueError) as exc:  # BrokenPipeError, "I/O operation on closed file"
            raise NotifyError(f"console stream unusable: {exc}") from exc

    def close(self) -> None:
        """The stream is not ours to close; just push out what is buffered."""
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
