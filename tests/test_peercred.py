"""The control socket refuses peers of another uid (SO_PEERCRED), tested across two real uids.

Root passes a 0600 file mode, so when the server runs as an unprivileged user and root connects,
only the peer check stands between them. The server is ergo's real ControlServer, run in a child
forked from this process that drops to the test user (ergot13a) before it binds: a forked child
needs no interpreter the user could execute (root's pyenv is not readable to other users here).
Needs root; skipped with the reason otherwise (and then failed under ERGO_REQUIRE_DESKTOP=1).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import ergo.control_server
from ergo.control_client import request
from ergo.errors import ControlError

USER = "ergot13a"


def _require_root() -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("useradd"):
        return
    reason = "needs root and useradd to run the server under a second uid"
    if os.environ.get("ERGO_REQUIRE_DESKTOP") == "1":
        pytest.fail(f"{reason}; ERGO_REQUIRE_DESKTOP=1 forbids skipping", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def test_user() -> Iterator[pwd.struct_passwd]:
    """A throwaway unprivileged user, removed afterwards."""
    _require_root()
    created = False
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)
        created = True
        entry = pwd.getpwnam(USER)
    try:
        yield entry
    finally:
        if created:
            subprocess.run(["userdel", USER], check=False)


def _fork_as(user: pwd.struct_passwd, job) -> tuple[int, int]:
    """Run `job()` in a forked child that has become `user`; returns (pid, read end of its result pipe)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 1
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            result = job()
            os.write(write_fd, json.dumps(result).encode() + b"\n")
            code = 0
        except BaseException as error:  # noqa: BLE001 - reported to the parent through the pipe
            os.write(write_fd, json.dumps({"child_error": repr(error)}).encode() + b"\n")
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def _read_line(fd: int, timeout: float = 10.0) -> dict:
    import select

    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        left = deadline - time.monotonic()
        assert left > 0 and select.select([fd], [], [], left)[0], f"no answer from the child within {timeout} s"
        chunk = os.read(fd, 4096)
        assert chunk, f"the child exited without reporting: {data!r}"
        data += chunk
    return json.loads(data.split(b"\n", 1)[0])


def test_root_is_refused_by_a_server_of_another_uid_and_the_same_uid_is_served(test_user: pwd.struct_passwd) -> None:
    root = Path(tempfile.mkdtemp(prefix="e13", dir="/tmp"))
    run_dir = root / "run"
    run_dir.mkdir(mode=0o700)
    os.chown(root, test_user.pw_uid, test_user.pw_gid)
    os.chown(run_dir, test_user.pw_uid, test_user.pw_gid)
    sock = run_dir / "ergo.sock"
    stop_r, stop_w = os.pipe()

    def serve() -> dict:
        server = ergo.control_server.ControlServer(sock, lambda req: {"ok": True, "uid": os.getuid()})
        server.start()
        os.write(ready_w, b"ready\n")
        os.read(stop_r, 1)  # until the parent says stop
        server.stop()
        return {"stopped": True}

    ready_r, ready_w = os.pipe()
    server_pid, server_out = _fork_as(test_user, serve)
    os.close(ready_w)
    try:
        assert os.read(ready_r, 16) == b"ready\n", "the server did not start"
        assert sock.stat().st_uid == test_user.pw_uid and sock.stat().st_mode & 0o777 == 0o600
        assert os.access(sock, os.W_OK), "root passes the file mode: only the peer check is left"

        # the same uid is served (so a refusal below is the peer check, not a broken server)
        client_pid, client_out = _fork_as(test_user, lambda: request(sock, "status", timeout=5))
        answer = _read_line(client_out)
        os.waitpid(client_pid, 0)
        assert answer == {"ok": True, "uid": test_user.pw_uid}, answer

        # root connects: the server accepts, then closes without an answer (or a reset or broken pipe, by timing)
        with pytest.raises(ControlError, match="closed the connection without answering|Connection reset|Broken pipe"):
            request(sock, "status", timeout=5)
    finally:
        os.write(stop_w, b"x")
        try:
            _read_line(server_out)
        finally:
            try:
                os.waitpid(server_pid, 0)
            except ChildProcessError:
                pass
            for fd in (stop_r, stop_w, ready_r, server_out):
                os.close(fd)
            try:
                os.kill(server_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            shutil.rmtree(root, ignore_errors=True)
