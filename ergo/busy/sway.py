"""The focused container is full screen under sway (or another compositor speaking its IPC): asked over
$SWAYSOCK with GET_TREE when a reminder is due."""

from __future__ import annotations

import json
import os
import socket
import struct
from datetime import datetime
from typing import Any

from ergo.busy.base import Busy, PolledSource, plain
from ergo.errors import BackendUnavailable

MAGIC = b"i3-ipc"
GET_TREE = 4
LIMIT = 32 * 1024 * 1024  # bytes of a tree answer; a desktop's tree is a few hundred KB


def probe() -> str | None:
    path = os.environ.get("SWAYSOCK", "")
    if not path:
        return "SWAYSOCK is unset (not a sway session)"
    return None if os.path.exists(path) else f"SWAYSOCK {path} does not exist"


def request(path: str, kind: int, payload: bytes = b"", timeout: float = 2.0) -> Any:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(MAGIC + struct.pack("=II", len(payload), kind) + payload)
        header = _read(sock, len(MAGIC) + 8)
        length, _ = struct.unpack("=II", header[len(MAGIC):])
        if header[: len(MAGIC)] != MAGIC or length > LIMIT:
            raise OSError("not an i3-ipc answer")
        return json.loads(_read(sock, length))


def _read(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return bytes(data)


WINDOWS = ("con", "floating_con")  # outputs and workspaces report fullscreen_mode too: only windows count


def focused_fullscreen(tree: dict[str, Any]) -> dict[str, Any] | None:
    """The focused window when it (or a container around it) is full screen."""
    stack: list[tuple[dict[str, Any], bool]] = [(tree, False)]
    while stack:
        node, inside = stack.pop()
        window = node.get("type") in WINDOWS
        full = inside or (window and bool(node.get("fullscreen_mode")))
        if node.get("focused"):
            return node if window and full else None
        for child in (*node.get("nodes", ()), *node.get("floating_nodes", ())):
            stack.append((child, full))
    return None


class SwayFullscreen(PolledSource):
    name = "fullscreen (sway)"

    def __init__(self) -> None:
        reason = probe()
        if reason is not None:
            raise BackendUnavailable(reason)
        self.path = os.environ["SWAYSOCK"]

    def check(self, now: datetime) -> Busy | None:
        try:
            node = focused_fullscreen(request(self.path, GET_TREE))
        except (OSError, ValueError):
            return None
        if node is None:
            return None
        who = node.get("app_id") or (node.get("window_properties") or {}).get("class") or node.get("name") or "a window"
        return Busy(f"presenting or full screen ({plain(who, 40)})")
