"""Blocking jeepney calls with every foreign failure turned into one BusError line.

Shared by the D-Bus idle backends and ``ergo.session``; jeepney is imported
inside the functions so importing ergo never needs it.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from ergo.errors import ErgoError

if TYPE_CHECKING:
    from jeepney import Message
    from jeepney.io.blocking import DBusConnection

CALL_TIMEOUT = 1.0  # seconds; a desktop service that takes longer is as good as absent


class BusError(ErgoError):
    """A bus could not be reached or a call on it failed; str() is one line."""


def describe_bus(bus: str) -> str:
    """Name a bus for messages: 'session bus', 'system bus' or its address."""
    return {"SESSION": "session bus", "SYSTEM": "system bus"}.get(bus, f"bus {bus}")


def connect(bus: str = "SESSION") -> DBusConnection:
    """Open a blocking connection to SESSION, SYSTEM or an address like 'unix:path=...'."""
    from jeepney import AuthenticationError
    from jeepney.bus import get_bus
    from jeepney.io.blocking import open_dbus_connection

    where = describe_bus(bus)
    try:
        return open_dbus_connection(bus=bus, auth_timeout=CALL_TIMEOUT)
    except KeyError:
        raise BusError("no session bus (DBUS_SESSION_BUS_ADDRESS is not set)") from None
    except (FileNotFoundError, ConnectionRefusedError):
        raise BusError(f"no {where} (nothing listening at {get_bus(bus).lstrip(chr(0))})") from None
    except (TimeoutError, AuthenticationError) as e:
        raise BusError(f"{where} did not accept us: {e}") from None
    except (OSError, RuntimeError, ValueError, StopIteration) as e:
        raise BusError(f"cannot connect to the {where}: {e}") from None


def call(conn: DBusConnection, msg: Message, timeout: float = CALL_TIMEOUT) -> tuple[Any, ...]:
    """Send a method call and return the reply body; raise BusError on any failure."""
    from jeepney import DBusErrorResponse
    from jeepney.wrappers import unwrap_msg

    try:
        return tuple(unwrap_msg(conn.send_and_get_reply(msg, timeout=timeout)))
    except DBusErrorResponse as e:
        detail = e.data[0] if e.data and isinstance(e.data[0], str) else ""
        raise BusError(f"{e.name}{': ' + detail if detail else ''}") from None
    except TimeoutError:
        raise BusError(f"no reply within {timeout:g} s") from None
    except (OSError, ValueError) as e:
        raise BusError(f"bus connection lost: {e or type(e).__name__}") from None


def close_quietly(conn: DBusConnection | None) -> None:
    """Close a connection that may already be broken; closing must never raise."""
    if conn is None:
        return
    try:
        conn.close()
    except OSError:
        pass


def wake(conn: DBusConnection) -> None:
    """Make a receive blocked on another thread return at once (it sees end-of-file).

    shutdown() is safe across threads, unlike jeepney's connection objects.
    """
    try:
        conn.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by its own thread


def method(path: str, bus_name: str, interface: str, member: str,
           signature: str | None = None, body: tuple[Any, ...] = ()) -> Message:
    """Build one method call message (keeps jeepney's import out of callers' module level)."""
    from jeepney import DBusAddress, new_method_call

    return new_method_call(DBusAddress(path, bus_name=bus_name, interface=interface),
                           member, signature, body)


def get_property(conn: DBusConnection, path: str, bus_name: str, interface: str,
                 name: str, timeout: float = CALL_TIMEOUT) -> Any:
    """Read one property through org.freedesktop.DBus.Properties.Get."""
    msg = method(path, bus_name, "org.freedesktop.DBus.Properties", "Get", "ss", (interface, name))
    (variant,) = call(conn, msg, timeout)
    return variant[1]
