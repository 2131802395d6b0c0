"""The light side of the control socket: what `ergo status` and friends import.

Only the standard library: no apscheduler, pydantic or plyer on this path, so
talking to the daemon feels instant.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
from pathlib import Path
from typing import Any

from ergo.errors import ControlError, DaemonNotRunning, UnsafeLocation

MAX_MESSAGE = 64 * 1024


def _check_peer(client: socket.socket, socket_path: Path) -> None:
    """On Linux, trust only a daemon of our own uid: someone else may have put a socket where ours belongs."""
    peercred = getattr(socket, "SO_PEERCRED", None)
    if peercred is None or not sys.platform.startswith("linux"):
        return  # elsewhere the 0700 runtime dir is the guard
    _pid, uid, _gid = struct.unpack("3i", client.getsockopt(socket.SOL_SOCKET, peercred, struct.calcsize("3i")))
    if uid != os.getuid():
        try:
            import pwd

            who = f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
        except (ImportError, KeyError):
            who = f"uid {uid}"
        raise UnsafeLocation(f"refusing to talk to {socket_path}: it is served by {who}, not by you")


def request(socket_path: Path, command: str, timeout: float = 5.0, **arguments: Any) -> dict[str, Any]:
    """Send one command and return the daemon's answer; raise DaemonNotRunning or ControlError."""
    payload = json.dumps({"cmd": command, **arguments}).encode() + b"\n"
    if not hasattr(socket, "AF_UNIX"):
        raise ControlError("this Python has no Unix sockets (Windows): control commands are not available here yet")
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        try:
            client.connect(str(socket_path))
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError):
            raise DaemonNotRunning("not running (start it with `ergo start` or `ergo run`)") from None
        _check_peer(client, socket_path)
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
    except socket.timeout:
        raise ControlError(f"the daemon did not answer within {timeout:g}s") from None
    except OSError as error:
        raise ControlError(f"talking to the daemon failed: {error}") from None
    finally:
        client.close()
    try:
        answer = json.loads(b"".join(chunks) or b"null")
    except json.JSONDecodeError:
        raise ControlError("the daemon sent an unreadable answer") from None
    if not isinstance(answer, dict):
        raise ControlError("the daemon closed the connection without answering")
    if not answer.get("ok", False):
        raise ControlError(str(answer.get("error", "the daemon refused the request")))
    return answer
