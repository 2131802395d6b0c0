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
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ergo.control.client import request
from ergo.control.server import ControlServer
from ergo.errors import UnsafeLocation
from tests.second_user import fork_as, read_result, run_as, second_user  # noqa: F401 (fixture)

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
        with pytest.raises(UnsafeLocation, match=f"served by {user.pw_name}"):
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
