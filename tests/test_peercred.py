"""The control socket refuses peers of another uid (SO_PEERCRED), tested across two real uids.

Root passes a 0600 file mode, so when the server runs as an unprivileged user and root connects,
only the peer check stands between them. The server is ergo's real ControlServer, run in a child
forked from this process that drops to the second test user before it binds (tests/second_user.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ergo.control.client import request
from ergo.control.server import ControlServer
from ergo.errors import UnsafeLocation
from tests.helpers import cannot_run
from tests.second_user import fork_as, fork_with_ids, read_result, run_as, second_user  # noqa: F401 (fixture)

if TYPE_CHECKING:
    from pwd import struct_passwd  # not on Windows: the suite must still collect there


def test_root_is_refused_by_a_server_of_another_uid_and_the_same_uid_is_served(second_user: struct_passwd) -> None:
    user = second_user
    root = Path(tempfile.mkdtemp(prefix="e13", dir="/tmp"))
    run_dir = root / "run"
    run_dir.mkdir(mode=0o700)
    for path in (root, run_dir):
        os.chown(path, user.pw_uid, user.pw_gid)
    sock = run_dir / "ergo.sock"
    stop_r, stop_w = os.pipe()
    ready_r, ready_w = os.pipe()

    def serve() -> bool:
        server = ControlServer(sock, lambda req: {"ok": True, "uid": os.getuid()})
        server.start()
        os.write(ready_w, b"ready\n")
        os.read(stop_r, 1)  # until the parent says stop
        server.stop()
        return True

    server_pid, server_out = fork_as(user, serve)
    os.close(ready_w)
    try:
        assert os.read(ready_r, 16) == b"ready\n", "the server did not start"
        assert sock.stat().st_uid == user.pw_uid and sock.stat().st_mode & 0o777 == 0o600
        assert os.access(sock, os.W_OK), "root passes the file mode: only the peer check is left"

        # the same uid is served (so the refusal below is the peer check, not a broken server)
        assert run_as(user, lambda: request(sock, "status", timeout=5)) == {"ok": True, "uid": user.pw_uid}

        # root connects with a raw socket (ergo's own client would refuse first, see below): the server
        # accepts, then closes without an answer (or a reset or broken pipe, by timing)
        with socket.socket(socket.AF_UNIX) as raw:
            raw.settimeout(5)
            raw.connect(str(sock))
            try:
                raw.sendall(b'{"cmd": "status"}\n')
                assert raw.recv(65536) == b"", "the server answered a peer of another uid"
            except (ConnectionResetError, BrokenPipeError):
                pass

        # ergo's client checks the server's uid too (issue 7): it refuses to trust another uid's socket
        with pytest.raises(UnsafeLocation, match=user.pw_name):  # their runtime dir, or their daemon
            request(sock, "status", timeout=5)
    finally:
        os.write(stop_w, b"x")
        try:
            assert read_result(server_out) is True
        finally:
            try:
                os.waitpid(server_pid, 0)
            except ChildProcessError:
                pass
            for fd in (stop_r, stop_w, ready_r):
                os.close(fd)
            try:
                os.kill(server_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            shutil.rmtree(root, ignore_errors=True)


# --- uid, not gid: peers whose gid differs from their uid (no useradd: fork and setresuid) ------------------


def _unused_ids(count: int) -> list[int]:
    """Distinct ids that name no user and no group here (random, so two suites at once do not meet)."""
    import grp
    import pwd
    import random

    found: list[int] = []
    while len(found) < count:
        candidate = random.randrange(200_000, 2_000_000_000)
        try:
            pwd.getpwuid(candidate)
            continue
        except KeyError:
            pass
        try:
            grp.getgrgid(candidate)
            continue
        except KeyError:
            pass
        if candidate not in found:
            found.append(candidate)
    return found


def _as_ids(uid: int, gid: int, job: Callable[[], Any]) -> Any:
    pid, fd = fork_with_ids(uid, gid, job)
    try:
        return read_result(fd)
    finally:
        os.waitpid(pid, 0)


def test_the_peer_check_compares_the_uid_not_the_gid() -> None:
    """Server uid U gid G; a peer of uid U (another gid) is served both ways, a peer whose *gid* is U is refused.

    The socket is opened to everyone (0666, folder 0711) after the server binds, so only the peer check
    stands between a peer of another uid and the daemon. A check that read the gid field would refuse
    the first peer and serve the second.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        cannot_run("needs root to act as other uids (fork + setresuid)")
    server_uid, server_gid, other_gid, other_uid = _unused_ids(4)
    root = Path(tempfile.mkdtemp(prefix="e18", dir="/tmp"))
    run_dir = root / "run"
    run_dir.mkdir(mode=0o700)
    os.chown(run_dir, server_uid, server_gid)
    root.chmod(0o755)
    sock = run_dir / "ergo.sock"
    stop_r, stop_w = os.pipe()
    ready_r, ready_w = os.pipe()

    def serve() -> bool:
        server = ControlServer(sock, lambda req: {"ok": True, "uid": os.getuid(), "gid": os.getgid()})
        server.start()
        os.write(ready_w, b"ready\n")
        os.read(stop_r, 1)
        server.stop()
        return True

    def raw_status() -> str:
        with socket.socket(socket.AF_UNIX) as raw:
            raw.settimeout(5)
            raw.connect(str(sock))
            try:
                raw.sendall(b'{"cmd": "status"}\n')
                return raw.recv(65536).decode()
            except (ConnectionResetError, BrokenPipeError):
                return ""

    server_pid, server_out = fork_with_ids(server_uid, server_gid, serve)
    os.close(ready_w)
    try:
        assert os.read(ready_r, 16) == b"ready\n", "the server did not start"
        run_dir.chmod(0o711)
        sock.chmod(0o666)
        # the same uid with another gid: served, and ergo's own client trusts the server (both checks read the uid)
        assert _as_ids(server_uid, other_gid, lambda: request(sock, "status", timeout=5)) == {
            "ok": True, "uid": server_uid, "gid": server_gid}
        # another uid whose gid equals the server's uid: refused without an answer
        assert _as_ids(other_uid, server_uid, raw_status) == ""
        # ... and ergo's client, run by that peer, refuses the server first, naming its uid
        refusal = _as_ids(other_uid, server_uid, lambda: _refusal(sock))
        assert f"served by uid {server_uid}, not by you" in refusal, refusal
    finally:
        os.write(stop_w, b"x")
        try:
            assert read_result(server_out) is True
        finally:
            try:
                os.waitpid(server_pid, 0)
            except ChildProcessError:
                pass
            for fd in (stop_r, stop_w, ready_r):
                os.close(fd)
            shutil.rmtree(root, ignore_errors=True)


def _refusal(sock: Path) -> str:
    try:
        request(sock, "status", timeout=5)
    except UnsafeLocation as error:
        return str(error)
    return "no refusal"
