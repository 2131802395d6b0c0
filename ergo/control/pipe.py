"""The control channel where there are no Unix sockets (Windows): multiprocessing.connection over a named pipe.

Same requests and answers as the Unix socket: one JSON object each way, sent with send_bytes (never
pickle). Only a process that can read the authkey, kept in a user-only file in the runtime dir
(`ergo.key`, 0600; on Windows that dir is in the user's own %TEMP%), passes multiprocessing's HMAC
challenge, which stands in for the Unix socket's file mode and SO_PEERCRED. The handshake runs in a
thread per connection, so a silent client stalls nobody. Off Windows the same transport runs over an
AF_UNIX listener (ERGO_CONTROL_TRANSPORT=pipe), which is how it is tested on Linux.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ergo.control.protocol import CLIENT_TIMEOUT, MAX_MESSAGE
from ergo.control.server import Handler, dispatch
from ergo.errors import ControlError, DaemonNotRunning
from ergo.paths import ensure_private_dir

log = logging.getLogger("ergo.control")
KEY_FILE = "ergo.key"


def endpoint(runtime_dir: str | os.PathLike[str], platform: str | None = None) -> tuple[str, str]:
    """(family, address) of the listener for this runtime dir: a named pipe on Windows, else a Unix path."""
    runtime = os.path.abspath(os.fspath(runtime_dir))
    if (platform or sys.platform) == "win32":
        digest = hashlib.sha256(runtime.lower().encode()).hexdigest()[:16]  # one pipe per runtime dir (and user)
        return "AF_PIPE", rf"\\.\pipe\ergo-{digest}"
    return "AF_UNIX", os.path.join(runtime, "ergo.pipe")


def _key_path(runtime_dir: str) -> str:
    return os.path.join(runtime_dir, KEY_FILE)


def write_key(runtime_dir: Path) -> bytes:
    """A fresh random authkey in a file only this user can read (written aside, then moved in place)."""
    key = secrets.token_bytes(32)
    final = _key_path(str(runtime_dir))
    temp = final + ".tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        os.write(fd, key)
    finally:
        os.close(fd)
    os.replace(temp, final)
    return key


def pipe_request(socket_path: str | os.PathLike[str], payload: bytes, timeout: float) -> bytes:
    """Send one request over the pipe transport; returns the raw answer. The socket path names the runtime dir."""
    from multiprocessing.connection import AuthenticationError, Client

    runtime = os.path.dirname(os.fspath(socket_path))
    family, address = endpoint(runtime)
    try:
        with open(_key_path(runtime), "rb") as file:
            key = file.read()
    except FileNotFoundError:
        raise DaemonNotRunning("not running (start it with `ergo start` or `ergo run`)") from None
    except OSError as error:
        raise ControlError(f"cannot read the control key: {error}") from None
    try:
        conn = Client(address, family=family, authkey=key)
    except (FileNotFoundError, ConnectionRefusedError):
        raise DaemonNotRunning("not running (start it with `ergo start` or `ergo run`)") from None
    except AuthenticationError:
        raise ControlError("the daemon did not accept this user's control key") from None
    except (OSError, EOFError) as error:
        raise ControlError(f"talking to the daemon failed: {error}") from None
    try:
        try:
            conn.send_bytes(payload)
        except (BrokenPipeError, ConnectionResetError):
            # A request over the size limit is sent as a header, then the body; the daemon refuses it on
            # the header and closes, and its answer (why) is already waiting to be read.
            pass
        if not conn.poll(timeout):
            raise ControlError(f"the daemon did not answer within {timeout:g}s")
        return conn.recv_bytes(16 * MAX_MESSAGE)
    except EOFError:
        return b""
    except OSError as error:
        raise ControlError(f"talking to the daemon failed: {error}") from None
    finally:
        conn.close()


class PipeControlServer:
    """Serves `handler` like ControlServer (same start/stop), over multiprocessing.connection."""

    def __init__(self, path: Path, handler: Handler, housekeeping: Callable[[], None] | None = None,
                 period: float = 30.0, platform: str | None = None) -> None:
        from multiprocessing.connection import Listener

        self.path = path
        self._handler = handler
        self._housekeeping = housekeeping
        self._period = period
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        runtime = ensure_private_dir(path.parent)
        self.family, self.address = endpoint(runtime, platform)
        if self.family == "AF_UNIX" and os.path.lexists(self.address):
            os.unlink(self.address)  # a crashed daemon's; we hold the instance lock, so it is ours
        self._key = write_key(runtime)
        self._listener = Listener(self.address, family=self.family)  # no authkey here: the handshake runs per thread
        if self.family == "AF_UNIX":
            os.chmod(self.address, 0o600)

    def start(self) -> None:
        for target, name in ((self._accept_loop, "ergo-control-pipe"), (self._housekeeping_loop, "ergo-housekeeping")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopped.set()
        try:  # wake the blocking accept() with one last connection of our own
            from multiprocessing.connection import Client

            Client(self.address, family=self.family).close()
        except Exception:
            pass
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=2)
        try:
            os.unlink(_key_path(str(self.path.parent)))
        except FileNotFoundError:
            pass

    def _housekeeping_loop(self) -> None:
        while not self._stopped.wait(self._period):
            if self._housekeeping is not None:
                try:
                    self._housekeeping()
                except Exception:
                    log.exception("housekeeping failed")

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                conn = self._listener.accept()
            except Exception:  # closed by stop(), or one broken connection attempt
                if self._stopped.is_set():
                    return
                log.exception("control pipe: accept failed")
                continue
            if self._stopped.is_set():
                conn.close()
                return
            threading.Thread(target=self._serve, args=(conn,), name="ergo-control-client", daemon=True).start()

    def _serve(self, conn: Any) -> None:
        from multiprocessing.connection import AuthenticationError, answer_challenge, deliver_challenge

        try:
            deliver_challenge(conn, self._key)  # the same mutual HMAC handshake Listener(authkey=...) runs
            answer_challenge(conn, self._key)
            if not conn.poll(CLIENT_TIMEOUT):
                return
            try:
                line = conn.recv_bytes(MAX_MESSAGE)
            except OSError:  # "bad message length": larger than MAX_MESSAGE
                conn.send_bytes(_encode({"ok": False, "error": f"request larger than {MAX_MESSAGE} bytes"}))
                return
            conn.send_bytes(_encode(dispatch(self._handler, line.split(b"\n", 1)[0])))
        except AuthenticationError:
            log.warning("refused a control connection without this user's key")
        except (EOFError, OSError):
            pass  # the client went away
        except Exception:
            log.exception("control pipe: serving a client failed")
        finally:
            conn.close()


def _encode(answer: dict[str, Any]) -> bytes:
    import json

    return json.dumps(answer, default=str).encode() + b"\n"
