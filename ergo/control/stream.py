"""The client side of `ergo status --follow` (and the tray): subscribe, read pushed lines, reconnect.

It blocks on the socket: the daemon pushes a line when something changes and
once a minute. When the daemon goes away the stream says so (a "not running"
line), then waits for the socket to come back by watching the runtime folder
with inotify (Linux; elsewhere a retry every few seconds) and subscribes again.
Standard library only, like `ergo status`.
"""

from __future__ import annotations

import json
import os
import select
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from ergo.control.client import check_server
from ergo.control.glance import clean
from ergo.errors import UnsafeLocation
from ergo.safetext import printable

SILENCE = 150.0  # no line for this long (the daemon pushes one a minute): the daemon hangs, reconnect
RETRY = 5.0  # without inotify, try to reconnect this often; with it, a backstop against missed events
IN_ATTRIB, IN_MOVED_TO, IN_CREATE = 0x4, 0x80, 0x100
IN_NONBLOCK, IN_CLOEXEC = 0o4000, 0o2000000


def _connect(path: Path) -> socket.socket | None:
    """A subscribed connection, or None when no daemon listens there; UnsafeLocation (before anything is
    sent or read) when the runtime dir or the daemon is not ours: the checks `ergo status` makes."""
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(str(path))
    except OSError:
        client.close()
        return None
    try:
        check_server(client, path)
        client.sendall(b'{"cmd": "subscribe"}\n')
    except OSError:
        client.close()
        return None
    except UnsafeLocation:
        client.close()
        raise
    client.settimeout(SILENCE)
    return client


def _refused(short: str, detail: str) -> dict[str, Any]:
    """What the stream yields when the daemon runs but will not stream to us, or is not one to believe."""
    return {"refused": short, "detail": printable(detail)}


def _lines(client: socket.socket) -> Iterator[dict[str, Any]]:
    """Status objects as the daemon pushes them (cleaned: ergo.control.glance.clean); ends when the
    connection ends or goes silent. A refusal for too many followers is yielded as one, then the end."""
    buffer = b""
    while True:
        try:
            chunk = client.recv(65536)
        except (socket.timeout, OSError):
            return
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            try:
                status = json.loads(line)
            except (ValueError, RecursionError):
                return
            if isinstance(status, dict) and status.get("ok") is False and "too many followers" in str(status.get("error")):
                yield _refused("too many followers", f"ergo runs, but {status['error']}; trying again every {RETRY:g} s")
                return
            if not isinstance(status, dict) or "running" not in status:
                return  # another error answer: the caller waits before trying again
            yield clean(status)


class _SocketWatch:
    """Wakes up when something is created in the socket's folder (inotify), so waiting costs nothing."""

    def __init__(self, folder: Path) -> None:
        self._fd: int | None = None
        if not sys.platform.startswith("linux"):
            return
        try:
            import ctypes
            import ctypes.util

            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
            if fd >= 0 and libc.inotify_add_watch(fd, os.fsencode(folder), IN_CREATE | IN_MOVED_TO | IN_ATTRIB) >= 0:
                self._fd = fd
            elif fd >= 0:
                os.close(fd)
        except (OSError, AttributeError):
            self._fd = None

    def wait(self, timeout: float) -> None:
        """Return at the next event in the folder, or after `timeout` s."""
        if self._fd is None:
            time.sleep(timeout)
            return
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if ready:
            time.sleep(0.05)  # the daemon binds, then listens: give it that moment
            try:
                while os.read(self._fd, 65536):
                    pass
            except BlockingIOError:
                pass

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def statuses(path: Path | str, stop: Callable[[], bool] = lambda: False) -> Iterator[dict[str, Any] | None]:
    """Every pushed status, and None each time the daemon is (or becomes) unreachable; forever, or until `stop()`.

    A refusal ({"refused": short reason, "detail": one line}) comes instead of a status when the daemon has
    too many followers, or the runtime dir or the daemon is another user's (then nothing it sends is read);
    the stream tries again every RETRY s and repeats neither a refusal nor a None.
    """
    path = Path(path)
    watch = _SocketWatch(path.parent)
    last: Any = ...  # what was yielded last: a status, None, or a refusal
    try:
        while not stop():
            try:
                client = _connect(path)
            except UnsafeLocation as error:
                client, refusal = None, _refused("not your daemon", str(error))
                if last != refusal:
                    last = refusal
                    yield refusal
                watch.wait(RETRY)
                continue
            if client is None:
                if last is not None:
                    last = None
                    yield None
                watch.wait(RETRY)
                continue
            got_any = False
            try:
                for status in _lines(client):
                    got_any = True
                    if "refused" in status and last == status:
                        continue
                    last = status
                    yield status
                    if stop():
                        return
            finally:
                client.close()
            if isinstance(last, dict) and "refused" in last:
                time.sleep(RETRY)  # too many followers: try again later, quietly
                continue
            if last is not None:
                last = None
                yield None
            if not got_any:  # connected but silent: never spin on reconnects
                time.sleep(RETRY)
    finally:
        watch.close()


def follow(path: Path | str, fmt: str, out: TextIO) -> int:
    """`ergo status --follow`: print one line per pushed status in `fmt` until the reader goes away."""
    from ergo.control.glance import render

    try:
        for status in statuses(path):
            out.write(render(status, fmt) + "\n")
            out.flush()
            if status and status.get("detail"):  # a refusal: the whole reason, for a person at a terminal
                print(f"ergo: {status['detail']}", file=sys.stderr, flush=True)
    except BrokenPipeError:  # the bar closed its end: a normal way to finish
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        return 0
    return 0
