"""A pointer for a headless wlroots compositor: the zwlr_virtual_pointer_v1 protocol, spoken on the Wayland socket.

A headless sway has no input devices (WLR_LIBINPUT_NO_DEVICES=1), and Debian packages no tool that
moves a pointer there (wtype is a keyboard, ydotool needs a kernel uinput device the headless
backend never reads). The protocol is small, so this speaks it directly: the compositor sees a
real pointer device and clients get real enter, motion and button events.

    with VirtualPointer(wayland_socket_path, 1280, 720) as pointer:
        pointer.click(600, 12, BUTTON_RIGHT)     # the device lives while the block runs

Wire format (wayland.freedesktop.org/docs/html/ch04.html): each message is the object id, then
size << 16 | opcode, then the arguments as 32-bit words; a string is its length (with the NUL)
and its bytes padded to 4.
"""

from __future__ import annotations

import socket
import struct
import time
from types import TracebackType

BUTTON_LEFT = 0x110  # linux/input-event-codes.h BTN_LEFT
BUTTON_RIGHT = 0x111
DISPLAY, REGISTRY = 1, 2
MANAGER = "zwlr_virtual_pointer_manager_v1"


def _string(text: str) -> bytes:
    data = text.encode() + b"\0"
    return struct.pack("=I", len(data)) + data + b"\0" * (-len(data) % 4)


class VirtualPointer:
    """One virtual pointer device on the compositor at `path`, whose output layout is `width` x `height`."""

    def __init__(self, path: str, width: int, height: int, timeout: float = 5.0) -> None:
        self.width, self.height = width, height
        self._next_id = REGISTRY  # ids are handed out in order: the next one must be 3
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._sock.connect(path)
        self._buffer = b""
        self._send(DISPLAY, 1, struct.pack("=I", REGISTRY))  # wl_display.get_registry
        globals_ = self._roundtrip()
        found = [(name, version) for name, (interface, version) in globals_.items() if interface == MANAGER]
        if not found:
            raise RuntimeError(f"the compositor offers no {MANAGER}")
        name, _version = found[0]
        self._manager = self._new_id()
        self._send(REGISTRY, 0, struct.pack("=I", name) + _string(MANAGER) + struct.pack("=II", 1, self._manager))
        self._pointer = self._new_id()
        self._send(self._manager, 0, struct.pack("=II", 0, self._pointer))  # create_virtual_pointer(seat=NULL)
        self._roundtrip()

    def move(self, x: int, y: int) -> None:
        self._send(self._pointer, 1, struct.pack("=IIIII", self._now(), x, y, self.width, self.height))
        self._send(self._pointer, 4, b"")  # frame
        self._roundtrip()

    def click(self, x: int, y: int, button: int = BUTTON_LEFT) -> None:
        self.move(x, y)
        for state in (1, 0):
            self._send(self._pointer, 2, struct.pack("=III", self._now(), button, state))
            self._send(self._pointer, 4, b"")
            self._roundtrip()

    def close(self) -> None:
        try:
            self._send(self._pointer, 8, b"")  # zwlr_virtual_pointer_v1.destroy
        except OSError:
            pass
        self._sock.close()

    def __enter__(self) -> VirtualPointer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- the wire ------------------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    @staticmethod
    def _now() -> int:
        return int(time.monotonic() * 1000) & 0xFFFFFFFF

    def _send(self, obj: int, opcode: int, args: bytes) -> None:
        self._sock.sendall(struct.pack("=II", obj, (8 + len(args)) << 16 | opcode) + args)

    def _roundtrip(self) -> dict[int, tuple[str, int]]:
        """wl_display.sync and read events until its callback is done; returns the registry globals seen."""
        callback = self._new_id()
        self._send(DISPLAY, 0, struct.pack("=I", callback))
        globals_: dict[int, tuple[str, int]] = {}
        while True:
            obj, opcode, body = self._event()
            if obj == DISPLAY and opcode == 0:  # wl_display.error(object, code, message)
                _object, code, length = struct.unpack_from("=III", body)
                raise RuntimeError(f"Wayland error {code}: {body[12:12 + length - 1].decode(errors='replace')}")
            if obj == REGISTRY and opcode == 0:  # wl_registry.global(name, interface, version)
                name, length = struct.unpack_from("=II", body)
                interface = body[8:8 + length - 1].decode()
                (version,) = struct.unpack_from("=I", body, 8 + length + (-length % 4))
                globals_[name] = (interface, version)
            if obj == callback and opcode == 0:  # wl_callback.done
                return globals_

    def _event(self) -> tuple[int, int, bytes]:
        while len(self._buffer) < 8 or len(self._buffer) < struct.unpack_from("=I", self._buffer, 4)[0] >> 16:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("the compositor closed the connection")
            self._buffer += chunk
        obj, word = struct.unpack_from("=II", self._buffer)
        size = word >> 16
        body, self._buffer = self._buffer[8:size], self._buffer[size:]
        return obj, word & 0xFFFF, body
