"""A second, unprivileged uid for tests that need two users (we run as root): `second_user` and `fork_as`.

The child is forked, not exec'd, so it needs no interpreter the user could run (root's own Python
may live under /root, which other users cannot read). Not root: skipped with the reason, or failed
under ERGO_REQUIRE_DESKTOP=1.
"""

from __future__ import annotations

import json
import os
import pwd
import select
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.helpers import cannot_run

USER = "ergot13a"


@pytest.fixture
def second_user() -> Iterator[pwd.struct_passwd]:
    """A throwaway unprivileged user (created with useradd, removed afterwards)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("useradd") is None:
        cannot_run("needs root and useradd to act as a second uid")
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


def fork_as(user: pwd.struct_passwd, job: Callable[[], Any]) -> tuple[int, int]:
    """Run `job()` in a forked child that has become `user`; returns (pid, fd to read its JSON result line from)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 1
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            os.write(write_fd, json.dumps({"result": job()}).encode() + b"\n")
            code = 0
        except BaseException as error:  # noqa: BLE001 - reported to the parent through the pipe
            import traceback

            os.write(write_fd, json.dumps({"child_error": "".join(traceback.format_exception(error))}).encode() + b"\n")
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def read_result(fd: int, timeout: float = 10.0) -> Any:
    """The child's result (closing `fd`); a child exception becomes an AssertionError here."""
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in data:
            left = deadline - time.monotonic()
            assert left > 0 and select.select([fd], [], [], left)[0], f"no answer from the child within {timeout} s"
            chunk = os.read(fd, 4096)
            assert chunk, f"the child exited without reporting: {data!r}"
            data += chunk
    finally:
        os.close(fd)
    answer = json.loads(data.split(b"\n", 1)[0])
    assert "child_error" not in answer, answer["child_error"]
    return answer["result"]


def run_as(user: pwd.struct_passwd, job: Callable[[], Any], timeout: float = 10.0) -> Any:
    """`job()` run as `user` in a forked child, its JSON-able result returned."""
    pid, fd = fork_as(user, job)
    try:
        return read_result(fd, timeout)
    finally:
        os.waitpid(pid, 0)
