"""The light side of the control socket: what `ergo status` and friends import.

Only the standard library: no apscheduler, pydantic or plyer on this path, so
talking to the daemon feels instant. It uses `_socket`, the C module under
`socket`: importing `socket` itself builds its enums and loads `selectors`,
about 3 ms of the 10 ms budget a status bar call has (see benchmarks/).
"""

from __future__ import annotations

import _socket
import json
import os
import sys

from ergo.control.protocol import MAX_MESSAGE
from ergo.errors import ControlError, DaemonNotRunning, UnsafeLocation
from ergo.paths import check_private_dir

TYPE_CHECKING = False  # typing and pathlib would cost `ergo status` about 7 ms
if TYPE_CHECKING:
    from typing import Any



def check_server(client: Any, socket_path: str | os.PathLike[str]) -> None:
    """Every client of the socket (requests, the status stream, the tray) calls this after connecting and
    before it sends or reads anything: the daemon's uid (SO_PEERCRED), then the runtime dir's owner."""
    check_peer(client, socket_path)
    check_private_dir(os.path.dirname(os.fspath(socket_path)), mode=False)


def check_peer(client: Any, socket_path: str | os.PathLike[str]) -> None:
    """On Linux, trust only a daemon of our own uid: someone else may have put a socket where ours belongs."""
    peercred = getattr(_socket, "SO_PEERCRED", None)
    if peercred is None or not sys.platform.startswith("linux"):
        return  # elsewhere the 0700 runtime dir is the guard
    creds = client.getsockopt(_socket.SOL_SOCKET, peercred, 12)  # struct ucred: pid, uid, gid (3 ints)
    uid = int.from_bytes(creds[4:8], sys.byteorder)
    if uid != os.getuid():
        try:
            import pwd

            who = f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
        except (ImportError, KeyError):
            who = f"uid {uid}"
        raise UnsafeLocation(f"refusing to talk to {os.fspath(socket_path)}: it is served by {who}, not by you")


def request(socket_path: str | os.PathLike[str], command: str, timeout: float = 5.0, **arguments: Any) -> dict[str, Any]:
    """Send one command and return the daemon's answer; raise DaemonNotRunning or ControlError."""
    payload = json.dumps({"cmd": command, **arguments}).encode() + b"\n"
    if pipe_transport():
        from ergo.control.pipe import pipe_request  # Windows: a named pipe (multiprocessing.connection)

        return parse_answer(pipe_request(socket_path, payload, timeout))
    client = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        try:
            client.connect(os.fspath(socket_path))
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError):
            raise DaemonNotRunning("not running (start it with `ergo start` or `ergo run`)") from None
        check_server(client, socket_path)
        client.sendall(payload)
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = client.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > 16 * MAX_MESSAGE:
                raise ControlError("the daemon's answer was too large")
    except TimeoutError:
        raise ControlError(f"the daemon did not answer within {timeout:g}s") from None
    except OSError as error:
        raise ControlError(f"talking to the daemon failed: {error}") from None
    finally:
        client.close()
    return parse_answer(b"".join(chunks))


def pipe_transport() -> bool:
    """True where the control channel is the named-pipe transport: no AF_UNIX (Windows), or asked for by
    ERGO_CONTROL_TRANSPORT=pipe (how Linux tests run that transport)."""
    return not hasattr(_socket, "AF_UNIX") or os.environ.get("ERGO_CONTROL_TRANSPORT") == "pipe"


def parse_answer(data: bytes) -> dict[str, Any]:
    """The daemon's answer as a dict; ControlError for an error answer or none."""
    try:
        answer = json.loads(data or b"null")
    except (ValueError, RecursionError):
        raise ControlError("the daemon sent an unreadable answer") from None
    if not isinstance(answer, dict):
        raise ControlError("the daemon closed the connection without answering")
    if not answer.get("ok", False):
        from ergo.safetext import printable

        raise ControlError(printable(answer.get("error", "the daemon refused the request")))
    return answer
