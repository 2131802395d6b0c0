"""The daemon side of the control socket: newline-terminated JSON requests, one answer each.

One thread runs a selector loop over the listening socket and every client, so
many clients are served at once and a slow or hostile client stalls nobody: a
request larger than 64 KiB, unreadable or too deeply nested JSON or an unknown
command gets an error answer, and a client silent for 5 s is dropped. At most
MAX_CLIENTS requests are in progress at once: a new client makes room by closing
the oldest that has not finished its request. On Linux, peers of another uid
are refused (SO_PEERCRED).

Subscribers (`{"cmd": "subscribe"}`, what `ergo status --follow` and the tray
send) stay connected: the same loop pushes them one status line whenever the
daemon calls `changed()` and the status differs from the last line, and once a
minute. Each has a bounded outbox; one that stops reading is dropped when the
outbox overflows, so a stuck bar never delays the daemon. Past MAX_SUBSCRIBERS
one more is answered "too many followers" (which the stream shows as such).
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ergo.control.protocol import CLIENT_TIMEOUT, MAX_MESSAGE
from ergo.paths import ensure_private_dir

log = logging.getLogger("ergo.control")
TICK = 60.0  # seconds between status lines when nothing changes (a bar's countdown)
SUBSCRIBER_BUFFER = 64 * 1024  # bytes queued for one subscriber before it is dropped
MAX_SUBSCRIBERS = 512  # followers (bars, trays) at once; one more is told "too many followers"

Handler = Callable[[dict[str, Any]], dict[str, Any]]


MAX_CLIENTS = 64  # requests in progress at once; more, and the oldest unfinished one makes room (fds stay bounded)
ACCEPT_PAUSE = 0.5  # seconds without accepting after the process ran out of file descriptors
WARN_EVERY = 60.0  # seconds between two warnings about connection limits


class _Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbox = bytearray()
        self.outbox = b""
        self.since = time.monotonic()
        self.subscriber = False  # long-lived subscribers are dropped last, and never as "idle"

    @property
    def idle(self) -> bool:
        """Connected but has sent nothing yet, and owes nothing: the cheapest to drop."""
        return not self.subscriber and not self.inbox and not self.outbox


class ControlServer:
    """Serves `handler` on a Unix socket; `housekeeping` runs in the loop at least every `period` s."""

    def __init__(self, path: Path, handler: Handler, housekeeping: Callable[[], None] | None = None, period: float = 30.0) -> None:
        self.path = path
        self._handler = handler
        self._housekeeping = housekeeping
        self._period = period
        self._selector = selectors.DefaultSelector()
        self._stop_r, self._stop_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._extra: dict[int, Callable[[], None]] = {}
        self._clients: dict[int, _Client] = {}  # by fd, oldest first
        self._accept_paused_until = 0.0
        self._last_warning = -WARN_EVERY
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._forced = threading.Event()
        self._last_line: dict[str, Any] | None = None
        self._last_push = time.monotonic()
        ensure_private_dir(path.parent)
        if path.exists() or path.is_symlink():
            path.unlink()  # stale socket of a crashed daemon; we hold the lock, so it is ours to remove
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            self._listener.bind(str(path))
        finally:
            os.umask(old_umask)
        os.chmod(path, 0o600)
        self._listener.listen(64)
        self._listener.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ, "listen")
        self._selector.register(self._stop_r, selectors.EVENT_READ, "stop")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "changed")

    def changed(self, force: bool = False) -> None:
        """Tell subscribers something changed; safe from any thread, never blocks (one byte to a pipe).

        The loop then builds one status and pushes it if it differs from the last
        line (`force`: push even if equal, e.g. after a reload).
        """
        if force:
            self._forced.set()
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):  # a wake-up is already pending, or we are stopping
            pass

    def watch_fd(self, fd: int, callback: Callable[[], None]) -> None:
        """Also call `callback` (in this loop's thread) whenever `fd` is readable, e.g. inotify."""
        self._extra[fd] = callback
        self._selector.register(fd, selectors.EVENT_READ, "extra")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="ergo-control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        os.write(self._stop_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=2)
        for key in list(self._selector.get_map().values()):
            if isinstance(key.fileobj, socket.socket):
                key.fileobj.close()
        self._selector.close()
        for fd in (self._stop_r, self._stop_w, self._wake_r, self._wake_w):
            os.close(fd)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    # --- loop -----------------------------------------------------------------

    def _loop(self) -> None:
        last_housekeeping = time.monotonic()
        while True:
            clients = list(self._clients.values())
            timeout = CLIENT_TIMEOUT if any(not c.subscriber for c in clients) else self._period
            if any(c.subscriber for c in clients):
                timeout = max(0.0, min(timeout, self._last_push + TICK - time.monotonic()))
            if self._accept_paused_until:
                timeout = min(timeout, max(0.0, self._accept_paused_until - time.monotonic()))
            try:
                events = self._selector.select(timeout=timeout)
            except (OSError, ValueError):
                return
            for key, mask in events:
                try:
                    if key.data == "stop":
                        return
                    if key.data == "listen":
                        self._accept()
                    elif key.data == "extra":
                        self._extra[key.fd]()
                    elif key.data == "changed":
                        self._drain_wake()
                        self._publish(force=self._forced.is_set())
                    else:
                        self._serve(key.data, mask)
                except Exception:  # one broken client or callback must not end the loop
                    log.exception("control loop error")
                    if isinstance(key.data, _Client):
                        self._drop(key.data)
            now = time.monotonic()
            if self._accept_paused_until and now >= self._accept_paused_until:
                self._accept_paused_until = 0.0
                self._selector.register(self._listener, selectors.EVENT_READ, "listen")
            for client in clients:
                if not client.subscriber and now - client.since > CLIENT_TIMEOUT and client.sock.fileno() != -1:
                    self._drop(client)
            if now - self._last_push >= TICK:
                self._publish(force=True)
            if self._housekeeping is not None and now - last_housekeeping >= self._period:
                last_housekeeping = now
                try:
                    self._housekeeping()
                except Exception:
                    log.exception("housekeeping failed")

    def _accept(self) -> None:
        try:
            sock, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as error:  # EMFILE, ENFILE, ENOBUFS: out of resources; never spin on it
            if not self._make_room():
                self._accept_paused_until = time.monotonic() + ACCEPT_PAUSE
                self._selector.unregister(self._listener)
            self._warn(f"cannot accept control connections ({error.strerror or error}); "
                       f"dropping the oldest idle client and backing off")
            return
        if not _same_user(sock):
            log.warning("refused a control connection from another user")
            sock.close()
            return
        if sum(1 for c in self._clients.values() if not c.subscriber) >= MAX_CLIENTS and not self._make_room():
            self._warn(f"more than {MAX_CLIENTS} control connections at once; refusing new ones until some end")
            sock.close()
            return
        sock.setblocking(False)
        client = _Client(sock)
        self._clients[sock.fileno()] = client
        self._selector.register(sock, selectors.EVENT_READ, client)

    def _make_room(self) -> bool:
        """Make room for a new client: the oldest that has sent nothing goes, else the oldest still sending
        half a request (a slow client never locks the others out); subscribers and clients being answered
        stay. False if there is none."""
        waiting = [c for c in self._clients.values() if not c.subscriber and not c.outbox]
        victim = next((c for c in waiting if c.idle), None) or (waiting[0] if waiting else None)
        if victim is None:
            return False
        self._drop(victim)
        self._warn(f"more than {MAX_CLIENTS} control connections at once (or out of file descriptors); "
                   "dropping the oldest that have not finished a request")
        return True

    def _warn(self, message: str) -> None:
        """At most one warning a minute: abuse must not fill the disk with log lines."""
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY:
            self._last_warning = now
            log.warning("%s", message)

    def _serve(self, client: _Client, mask: int) -> None:
        if client.subscriber:
            self._serve_subscriber(client, mask)
            return
        if mask & selectors.EVENT_READ and not client.outbox:
            try:
                data = client.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._drop(client)
                return
            if not data:
                if client.inbox.strip():
                    self._answer(client, self._dispatch(bytes(client.inbox)))
                else:
                    self._drop(client)
                return
            client.inbox += data
            if len(client.inbox) > MAX_MESSAGE:
                self._answer(client, {"ok": False, "error": f"request larger than {MAX_MESSAGE} bytes"})
            elif b"\n" in client.inbox:
                line = bytes(client.inbox.split(b"\n", 1)[0])
                if _is_subscribe(line):
                    self._subscribe(client)
                    return
                self._answer(client, self._dispatch(line))
        if mask & selectors.EVENT_WRITE and client.outbox:
            self._flush(client)

    def _dispatch(self, line: bytes) -> dict[str, Any]:
        return dispatch(self._handler, line)

    def _answer(self, client: _Client, answer: dict[str, Any]) -> None:
        client.outbox = json.dumps(answer, default=str).encode() + b"\n"
        client.since = time.monotonic()
        self._selector.modify(client.sock, selectors.EVENT_WRITE, client)
        self._flush(client)

    def _flush(self, client: _Client) -> None:
        try:
            sent = client.sock.send(client.outbox)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(client)
            return
        client.outbox = client.outbox[sent:]
        if client.outbox:
            return
        if client.subscriber:
            self._selector.modify(client.sock, selectors.EVENT_READ, client)
        else:
            self._drop(client)

    # --- subscribers -------------------------------------------------------------

    def _subscribe(self, client: _Client) -> None:
        """Turn a connection into a subscriber and give it the status now."""
        count = sum(1 for k in self._selector.get_map().values() if isinstance(k.data, _Client) and k.data.subscriber)
        if count >= MAX_SUBSCRIBERS:
            self._answer(client, {"ok": False, "error": f"too many followers (at most {MAX_SUBSCRIBERS})"})
            return
        client.subscriber = True
        client.inbox.clear()
        answer = self._status()
        if count == 0:  # the first one: later changes are measured against what it got
            self._last_line = {k: v for k, v in answer.items() if k != "now"}
            self._last_push = time.monotonic()
        self._push(client, json.dumps(answer, default=str).encode() + b"\n")

    def _serve_subscriber(self, client: _Client, mask: int) -> None:
        """A subscriber only listens: what it sends is discarded; end-of-file drops it."""
        if mask & selectors.EVENT_READ:
            try:
                data = client.sock.recv(4096)
            except (BlockingIOError, InterruptedError):
                data = b"-"
            except OSError:
                data = b""
            if not data:
                self._drop(client)
                return
        if mask & selectors.EVENT_WRITE and client.outbox:
            self._flush(client)

    def _status(self) -> dict[str, Any]:
        """The `status --json` object (what a subscriber's line carries)."""
        answer = self._dispatch(b'{"cmd": "status"}')
        answer.pop("ok", None)
        return answer

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def _publish(self, force: bool) -> None:
        """Push one status line to every subscriber if it changed (or `force`: the minute tick, a reload)."""
        self._forced.clear()
        subscribers = [k.data for k in self._selector.get_map().values() if isinstance(k.data, _Client) and k.data.subscriber]
        if not subscribers:
            self._last_line = None
            self._last_push = time.monotonic()
            return
        answer = self._status()
        comparable = {k: v for k, v in answer.items() if k != "now"}
        if not force and comparable == self._last_line:
            return
        self._last_line = comparable
        self._last_push = time.monotonic()
        line = json.dumps(answer, default=str).encode() + b"\n"
        for client in subscribers:
            self._push(client, line)

    def _push(self, client: _Client, line: bytes) -> None:
        """Queue a line; a subscriber whose outbox would overflow is dropped, never waited for."""
        if len(client.outbox) + len(line) > SUBSCRIBER_BUFFER:
            log.warning("dropped a status subscriber that stopped reading (%d bytes queued)", len(client.outbox))
            self._drop(client)
            return
        client.outbox += line
        self._selector.modify(client.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, client)
        self._flush(client)

    def _drop(self, client: _Client) -> None:
        fd = client.sock.fileno()
        if fd != -1 and self._clients.get(fd) is client:
            del self._clients[fd]
        try:
            self._selector.unregister(client.sock)
        except (KeyError, ValueError):
            pass
        client.sock.close()


def parse_request(line: bytes) -> dict[str, Any] | str:
    """The request object, or why there is none (one line): also for JSON nested too deeply to parse."""
    try:
        request = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "request is not valid JSON"
    except RecursionError:  # deep nesting fits well under MAX_MESSAGE
        return "request is nested too deeply"
    if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
        return 'request must be a JSON object with a "cmd" string'
    return request


def dispatch(handler: Handler, line: bytes) -> dict[str, Any]:
    """One request line to one answer, whatever the transport; the daemon survives any single bad request."""
    request = parse_request(line)
    if isinstance(request, str):
        return {"ok": False, "error": request}
    try:
        return handler(request)
    except Exception as error:
        log.exception("control command %r failed", request.get("cmd"))
        return {"ok": False, "error": f"{request['cmd']}: {error.__class__.__name__}: {error}"}


def _is_subscribe(line: bytes) -> bool:
    request = parse_request(line)
    return isinstance(request, dict) and request["cmd"] == "subscribe"


def _same_user(sock: socket.socket) -> bool:
    """On Linux, only the daemon's own uid may steer it (the socket's 0600 mode covers elsewhere)."""
    if not sys.platform.startswith("linux"):
        return True
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()
