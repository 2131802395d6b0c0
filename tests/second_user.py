"""Throwaway unprivileged users for tests that need a second uid (we run as root): `temporary_user`,
the `second_user` fixture, and `fork_as` / `run_as`.

Every user gets a name of its own (`ergot` + 8 random hex digits), so two suites on one machine never
share or delete each other's user, and a comment that names the pytest process that made it
(`ergo-test pid=P start=T boot=B`). It is removed on every exit path: when the test ends (passed,
failed or interrupted), on SIGTERM (turned into KeyboardInterrupt, so pytest tears down), at
interpreter exit; and a user left by a run that was killed outright (SIGKILL, a crash) is removed by
the next run (`sweep_leaked_users`, called at session start): only a user carrying that comment
whose process is gone, so a running suite's users are never touched.

The child of `fork_as` is forked, not exec'd, so it needs no interpreter the user could run (root's
own Python may live under /root, which other users cannot read). Not root: skipped with the reason,
or failed under ERGO_REQUIRE_DESKTOP=1.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import cannot_run

try:
    import pwd
except ImportError:  # Windows: no second uid to act as; the fixture says so (cannot_run)
    pwd = None  # type: ignore[assignment]

PREFIX = "ergot"
MARK = "ergo-test"
_made: set[str] = set()  # users this process created and has not removed yet


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22): a pid is reused, this is not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()[19]


def _boot_id() -> str:
    with suppress(OSError):
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return "unknown"


def _owner_comment() -> str:
    return f"{MARK} pid={os.getpid()} start={_start_time(os.getpid())} boot={_boot_id()}"


def _owner_alive(comment: str) -> bool:
    """Whether the pytest process named in a test user's comment still runs (same boot, same start time)."""
    fields = dict(part.split("=", 1) for part in comment.split()[1:] if "=" in part)
    if fields.get("boot") != _boot_id() or not fields.get("pid", "").isdigit():
        return False
    return _start_time(int(fields["pid"])) == fields.get("start")


def _locked(done: subprocess.CompletedProcess[bytes]) -> bool:
    """useradd/userdel found /etc/passwd (or group, shadow) locked by another one: parallel test workers."""
    return done.returncode != 0 and b"lock" in done.stderr


def _useradd(argv: list[str], timeout: float = 60.0) -> None:
    """useradd, tried again while another worker's useradd or userdel holds the password files' lock."""
    deadline = time.monotonic() + timeout
    while True:
        done = subprocess.run(argv, capture_output=True)
        if not _locked(done) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.decode(errors='replace').strip()}")


def remove_user(name: str, timeout: float = 30.0) -> bool:
    """userdel, retried while processes of the user are still going away (exit code 8: user logged in) and
    while another worker's useradd or userdel holds the password files' lock."""
    deadline = time.monotonic() + timeout
    while True:
        done = subprocess.run(["userdel", name], capture_output=True)
        code = done.returncode
        if (code != 8 and not _locked(done)) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if code in (0, 6):  # 6: no such user (already gone)
        _made.discard(name)
        return True
    return False


def _remove_left_over() -> None:
    for name in sorted(_made):
        remove_user(name, timeout=2)


atexit.register(_remove_left_over)


def sweep_leaked_users() -> list[str]:
    """Remove the test users that killed runs left behind: named PREFIX..., marked MARK, owner gone."""
    if pwd is None or not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("userdel") is None:
        return []
    removed = []
    for entry in pwd.getpwall():
        if entry.pw_name.startswith(PREFIX) and entry.pw_gecos.startswith(MARK + " ") \
                and not _owner_alive(entry.pw_gecos) and remove_user(entry.pw_name, timeout=1):
            removed.append(entry.pw_name)
    return removed


def _sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def temporary_user() -> Iterator[pwd.struct_passwd]:
    """A new unprivileged user with a name of its own, removed however this block is left."""
    if pwd is None or not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("useradd") is None:
        cannot_run("needs root and useradd to act as a second uid")
    name = f"{PREFIX}{secrets.token_hex(4)}"
    _useradd(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--comment", _owner_comment(), name])
    _made.add(name)
    previous = signal.getsignal(signal.SIGTERM)
    if previous == signal.SIG_DFL:  # pytest tears down on KeyboardInterrupt: so the user is removed on SIGTERM too
        signal.signal(signal.SIGTERM, _sigterm)
    try:
        yield pwd.getpwnam(name)
    finally:
        if previous == signal.SIG_DFL and not _made - {name}:
            signal.signal(signal.SIGTERM, previous)
        remove_user(name)


@pytest.fixture
def second_user() -> Iterator[pwd.struct_passwd]:
    """A throwaway unprivileged user (see temporary_user)."""
    with temporary_user() as user:
        yield user


def fork_as(user: pwd.struct_passwd, job: Callable[[], Any]) -> tuple[int, int]:
    """Run `job()` in a forked child that has become `user`; returns (pid, fd to read its JSON result line from)."""
    return fork_with_ids(user.pw_uid, user.pw_gid, job)


def fork_with_ids(uid: int, gid: int, job: Callable[[], Any]) -> tuple[int, int]:
    """`job()` in a forked child whose real, effective and saved ids are (uid, gid), with no extra groups
    (no account needed: root may take any ids); returns (pid, fd to read its JSON result line from)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 1
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
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
