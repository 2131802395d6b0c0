"""How other threads hand the tray's loop the newest view: one slot and a pipe that wakes its select()."""

from __future__ import annotations

import os
import threading

from ergo.tray.model import TrayView


class ViewMailbox:
    """Only the newest view matters (an older one is simply replaced); `stopped` ends the loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: TrayView | None = None
        self._read, self._write = os.pipe()
        self.stopped = False

    def fileno(self) -> int:
        return self._read

    def post(self, view: TrayView) -> None:
        """Any thread: the loop picks `view` up at its next turn."""
        with self._lock:
            self._view = view
        os.write(self._write, b"x")

    def stop(self) -> None:
        """Any thread: end the loop."""
        self.stopped = True
        os.write(self._write, b"q")

    def take(self) -> TrayView | None:
        """The loop thread, once fileno() is readable: the newest view posted, if any."""
        os.read(self._read, 4096)
        with self._lock:
            view, self._view = self._view, None
        return view
