"""A private, throwaway desktop for end-to-end notification tests: its own D-Bus session bus, Xvfb and dunst.

Nothing touches the user's real session: the bus has its own config (no service directories unless asked),
socket and temp dir. `notifications()` reads a `dbus-monitor --pcap` capture decoded with jeepney, so tests
see exactly what went over the wire (app_name, replaces_id, hints, expire_timeout) and the id the server
answered. dunst needs an X display (it aborts without one), hence Xvfb.

    with desktop_session() as desk:           # or the `desktop` fixture in tests/conftest.py
        subprocess.run([...], env=desk.full_env())
        [n] = desk.notifications(count=1)
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from jeepney import MessageType, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.low_level import HeaderFields, Message
from jeepney.wrappers import DBusAddress

REQUIRED_TOOLS = ("dbus-daemon", "dbus-monitor", "dbus-send", "Xvfb", "dunst", "dunstctl")
INSTALL_HINT = "apt-get install dbus dbus-bin xvfb dunst libnotify-bin"
NOTIFICATIONS = "org.freedesktop.Notifications"
READY_INTERFACE = "ergo.test.Harness"
NOTIFY_ARGS = (
    "app_name", "replaces_id", "app_icon", "summary", "body", "actions", "hints", "expire_timeout"
)  # fmt: skip

ServerMode = Literal["running", "activatable", "none"]

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  {servicedir}
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

_DUNSTRC = """[global]
    monitor = 0
    follow = none
    history_length = 200
    idle_threshold = 0
    notification_limit = 0
"""


def require_desktop_tools(*extra: str) -> None:
    """Skip (or fail, when ERGO_REQUIRE_DESKTOP=1 as in CI) unless every tool the harness runs is installed."""
    require_tools(*REQUIRED_TOOLS, *extra)


def require_tools(*tools: str) -> None:
    """Skip when a tool is missing, but fail when ERGO_REQUIRE_DESKTOP=1 (CI must run these)."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"desktop test tools missing: {', '.join(missing)} ({INSTALL_HINT})"
    if os.environ.get("ERGO_REQUIRE_DESKTOP") == "1":
        pytest.fail(f"{reason}; ERGO_REQUIRE_DESKTOP=1 forbids skipping", pytrace=False)
    pytest.skip(reason)


@dataclass
class DesktopSession:
    """A running private desktop; `.env` holds the variables that point a process at it."""

    env: dict[str, str]
    workdir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    child_env: dict[str, str] = field(default_factory=dict)  # full environment the harness starts children with

    @property
    def bus_address(self) -> str:
        return self.env["DBUS_SESSION_BUS_ADDRESS"]

    @property
    def display(self) -> str | None:
        return self.env.get("DISPLAY")

    def full_env(self) -> dict[str, str]:
        """os.environ pointed at this desktop, for subprocesses (Wayland unset so dunst-like tools use X)."""
        env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
        env.update(self.env)
        return env

    # --- what the server received ---------------------------------------------------------------

    def notifications(self, count: int = 0, timeout: float = 3.0) -> list[dict[str, Any]]:
        """Notify calls seen on the bus, oldest first, each with its arguments and the `id` answered (None if none).

        Waits until at least `count` of them have their answer, or `timeout` passes (then returns what it has).
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self._decode_capture()
            if sum(1 for n in found if n["id"] is not None) >= count or time.monotonic() >= deadline:
                return found
            time.sleep(0.02)

    def dunst_history(
        self, count: int = 0, timeout: float = 3.0, *, close_displayed: bool = True
    ) -> list[dict[str, Any]]:
        """What dunst itself kept, newest first; displayed ones only reach its history when closed, hence close-all."""
        deadline = time.monotonic() + timeout
        while True:
            if close_displayed:
                self._dunstctl("close-all")
            raw = json.loads(self._dunstctl("history"))
            found = []
            for entry in raw["data"][0] if raw["data"] else []:
                item = {key: value["data"] for key, value in entry.items()}
                item["app_name"] = item.get("appname")
                found.append(item)
            if len(found) >= count or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)

    # --- breaking things on purpose -------------------------------------------------------------

    def server_pid(self) -> int | None:
        """The pid owning org.freedesktop.Notifications (dunst, possibly activated by the bus), or None."""
        try:
            with self._connect() as conn:
                if not _call(conn, message_bus.NameHasOwner(NOTIFICATIONS))[0]:
                    return None
                return int(_call(conn, message_bus.GetConnectionUnixProcessID(NOTIFICATIONS))[0])
        except (OSError, RuntimeError):
            return None

    def start_server(self, timeout: float = 5.0) -> None:
        """Start dunst (again) and wait until it owns org.freedesktop.Notifications."""
        if "dunst" in self.processes:
            raise RuntimeError("dunst is already running")
        proc = _spawn("dunst", ["dunst", "-config", str(self.workdir / "dunstrc")], self.child_env, self.workdir)
        self.processes["dunst"] = proc
        _wait("dunst", lambda: self.server_pid() == proc.pid, timeout, proc, self.workdir / "dunst.log")

    def kill_server(self, timeout: float = 3.0) -> None:
        """Kill the notification server and wait until its name is gone from the bus."""
        pid = self.server_pid()
        proc = self.processes.pop("dunst", None)
        if proc is not None:
            _stop(proc)
        if pid is not None and (proc is None or pid != proc.pid):
            _kill_pid(pid)
        deadline = time.monotonic() + timeout
        while self.server_pid() is not None:
            if time.monotonic() >= deadline:
                raise RuntimeError("notification server still owns its name after being killed")
            time.sleep(0.02)

    def kill_bus(self) -> None:
        """Kill the session bus itself (the monitor and dunst lose it too)."""
        for name in ("dbus-monitor", "dbus-daemon"):
            proc = self.processes.pop(name, None)
            if proc is not None:
                _stop(proc)

    # --- internals ------------------------------------------------------------------------------

    def _connect(self) -> DBusConnection:
        return open_dbus_connection(bus=self.bus_address)

    def _dunstctl(self, *args: str) -> str:
        done = subprocess.run(
            ["dunstctl", *args], env=self.full_env(), capture_output=True, text=True, timeout=5, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"dunstctl {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def _capture_messages(self) -> list[Message]:
        return list(_read_pcap(self.workdir / "monitor.pcap"))

    def _decode_capture(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = []
        by_serial: dict[tuple[str, int], dict[str, Any]] = {}
        for msg in self._capture_messages():
            fields = msg.header.fields
            kind = msg.header.message_type
            if kind == MessageType.method_call and fields.get(HeaderFields.member) == "Notify" and (
                fields.get(HeaderFields.interface) == NOTIFICATIONS
            ):
                item: dict[str, Any] = dict(zip(NOTIFY_ARGS, msg.body, strict=True))
                item["hints"] = {name: value for name, (_sig, value) in item.get("hints", {}).items()}
                item["sender"] = fields.get(HeaderFields.sender)
                item["id"] = None
                item["error"] = None
                calls.append(item)
                by_serial[(str(item["sender"]), msg.header.serial)] = item
            elif kind in (MessageType.method_return, MessageType.error):
                key = (str(fields.get(HeaderFields.destination)), fields.get(HeaderFields.reply_serial, -1))
                call = by_serial.get(key)
                if call is None:
                    continue
                if kind == MessageType.method_return:
                    call["id"] = int(msg.body[0])
                else:
                    call["error"] = fields.get(HeaderFields.error_name)
        return calls


def _call(conn: DBusConnection, msg: Message, timeout: float = 2.0) -> tuple[Any, ...]:
    reply = conn.send_and_get_reply(msg, timeout=timeout)
    if reply.header.message_type == MessageType.error:
        raise RuntimeError(f"{reply.header.fields.get(HeaderFields.error_name)}: {reply.body}")
    body: tuple[Any, ...] = reply.body
    return body


def _read_pcap(path: Path) -> Iterator[Message]:
    """Messages from a dbus-monitor --pcap file that may still be being written (a partial record is skipped)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    if len(data) < 24:
        return
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    pos = 24
    while pos + 16 <= len(data):
        _sec, _usec, incl_len, _orig_len = struct.unpack(endian + "IIII", data[pos : pos + 16])
        end = pos + 16 + incl_len
        if end > len(data):
            return
        yield Message.from_buffer(data[pos + 16 : end])
        pos = end


def _spawn(name: str, argv: list[str], env: dict[str, str], workdir: Path, **kwargs: Any) -> subprocess.Popen[bytes]:
    log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed right after the child has it
    try:
        return subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stderr=log, start_new_session=True, **{"stdout": log, **kwargs}
        )
    finally:
        log.close()


def _spawn_reporting(session: DesktopSession, name: str, argv: list[str], env: dict[str, str], timeout: float) -> str:
    """Start a child that writes one line (its address or display) to the fd put in place of "{fd}"; return it."""
    read_fd, write_fd = os.pipe()
    try:
        argv = [arg.replace("{fd}", str(write_fd)) for arg in argv]
        session.processes[name] = _spawn(name, argv, env, session.workdir, pass_fds=(write_fd,))
        os.close(write_fd)
        write_fd = -1
        return _read_line(read_fd, timeout, name)
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)


def _read_line(fd: int, timeout: float, what: str) -> str:
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise RuntimeError(f"{what} did not report within {timeout:g} s")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise RuntimeError(f"{what} exited before reporting")
        buf += chunk
    return buf.split(b"\n", 1)[0].decode().strip()


def _stop(proc: subprocess.Popen[bytes], timeout: float = 2.0) -> None:
    """SIGTERM the child's whole process group, then SIGKILL it if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


def _kill_pid(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _wait(
    what: str, check: Callable[[], bool], timeout: float, proc: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            detail = log.read_text(errors="replace").strip()[-500:] if log.exists() else ""
            raise RuntimeError(f"{what}: process exited with {proc.returncode}: {detail}")
        if time.monotonic() >= deadline:
            raise RuntimeError(f"{what}: not ready within {timeout:g} s")
        time.sleep(0.02)


@contextmanager
def desktop_session(
    server: ServerMode = "running", *, dunst_settings: str = "", display: bool = True, timeout: float = 5.0,
    screen: str = "640x480x24",
) -> Iterator[DesktopSession]:
    """Start bus, Xvfb, monitor and dunst; always tear all of them down, even when the test fails.

    server="activatable": dunst is not started but the bus knows how to start it (like most desktops);
    server="none": there is no notification server at all.
    dunst_settings: extra lines for dunstrc's [global] section, e.g. "markup = full".
    display=False: no Xvfb and no DISPLAY, like an SSH login; dunst cannot start there.
    screen: Xvfb's WxHxDepth (the look-tests want a laptop-sized screen).
    """
    workdir = Path(tempfile.mkdtemp(prefix="ergo-desktop-"))
    dunstrc = workdir / "dunstrc"
    dunstrc.write_text(_DUNSTRC + "".join(f"    {line.strip()}\n" for line in dunst_settings.splitlines()))
    base_env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
    base_env["XDG_CONFIG_HOME"] = str(workdir / "config")  # never read the user's dunstrc or friends
    session = DesktopSession(env={}, workdir=workdir)

    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        stack.callback(_teardown, session)

        # X first: the bus starts activatable services with its own environment, DISPLAY included.
        if display:
            argv = ["Xvfb", "-displayfd", "{fd}", "-nolisten", "tcp", "-screen", "0", screen]
            session.env["DISPLAY"] = ":" + _spawn_reporting(session, "Xvfb", argv, base_env, timeout)
            base_env["DISPLAY"] = session.env["DISPLAY"]
        else:
            base_env.pop("DISPLAY", None)

        servicedir = ""
        if server == "activatable":
            services = workdir / "services"
            services.mkdir()
            (services / f"{NOTIFICATIONS}.service").write_text(
                f"[D-BUS Service]\nName={NOTIFICATIONS}\nExec={shutil.which('dunst')} -config {dunstrc}\n"
            )
            servicedir = f"<servicedir>{services}</servicedir>"
        (workdir / "bus.conf").write_text(BUS_CONFIG.format(dir=workdir, servicedir=servicedir))
        argv = ["dbus-daemon", f"--config-file={workdir / 'bus.conf'}", "--nofork", "--print-address={fd}"]
        session.env["DBUS_SESSION_BUS_ADDRESS"] = _spawn_reporting(session, "dbus-daemon", argv, base_env, timeout)
        base_env.update(session.env)

        conn = stack.enter_context(open_dbus_connection(bus=session.bus_address))
        _start_monitor(session, conn, base_env, timeout)

        session.child_env = base_env
        if server == "running":
            session.start_server(timeout)
        yield session


def _start_monitor(session: DesktopSession, conn: DBusConnection, env: dict[str, str], timeout: float) -> None:
    """Capture Notify calls and all replies; a signal of our own proves the monitor is listening before tests send."""
    with open(session.workdir / "monitor.pcap", "wb") as out:
        session.processes["dbus-monitor"] = _spawn(
            "dbus-monitor",
            [
                "dbus-monitor", "--address", session.bus_address, "--pcap",
                f"type='method_call',interface='{NOTIFICATIONS}'",
                "type='method_return'", "type='error'",
                f"type='signal',interface='{READY_INTERFACE}'",
            ],
            env, session.workdir, stdout=out,
        )  # fmt: skip
    ping = DBusAddress("/ergo/test", interface=READY_INTERFACE)

    def heard() -> bool:
        conn.send(new_signal(ping, "Ready"))
        time.sleep(0.02)
        return any(
            m.header.fields.get(HeaderFields.interface) == READY_INTERFACE for m in session._capture_messages()
        )

    _wait("dbus-monitor", heard, timeout, session.processes["dbus-monitor"], session.workdir / "dbus-monitor.log")


def _teardown(session: DesktopSession) -> None:
    """Activated servers are children of the bus, not ours: find them by their bus name before the bus goes."""
    stray = session.server_pid() if "dbus-daemon" in session.processes else None
    ours = session.processes.get("dunst")
    if ours is not None and stray == ours.pid:
        stray = None
    if stray is not None:
        _kill_pid(stray)  # while the bus, its parent, still keeps the pid from being reused
    for name in ("dunst", "dbus-monitor", "dbus-daemon", "Xvfb"):
        proc = session.processes.pop(name, None)
        if proc is not None:
            _stop(proc)
