"""The /tmp/ergo-<uid> fallback cannot be taken over by another local user (issue 7, item 2).

With XDG_RUNTIME_DIR unset, ergo falls back to $TMPDIR/ergo-<uid>. Another user may pre-create
that path first. These tests play that user with a second uid (a throwaway user from
tests/second_user.py), so they need root; elsewhere they are skipped with the reason, and fail
under ERGO_REQUIRE_DESKTOP=1. TMPDIR points at a private sticky dir, so the
machine's real /tmp is never touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers import isolated_env
from tests.second_user import temporary_user

if TYPE_CHECKING:
    from pwd import struct_passwd  # not on Windows: the suite must still collect there

FAKE_SERVER = r"""
import json, os, socket, sys
path = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
os.chmod(path, 0o777)
server.listen(8)
print("ready", flush=True)
while True:
    conn, _ = server.accept()
    try:
        conn.recv(65536)
        conn.sendall(json.dumps({"ok": True, "running": True, "pid": 4242, "hacked": True}).encode() + b"\n")
    except OSError:
        pass  # a careful client hung up without asking
    conn.close()
"""


@pytest.fixture(scope="module")
def attacker() -> Iterator[struct_passwd]:
    """A second local user for the duration of this module (root only)."""
    with temporary_user() as user:
        yield user


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A world-writable sticky dir standing in for /tmp."""
    path = Path(tempfile.mkdtemp(prefix="e7tmp", dir="/tmp"))
    path.chmod(0o1777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _env(root: Path, shared: Path) -> dict[str, str]:
    env = isolated_env(root, NOTIFIER="console", IDLE__BACKEND="none")
    env.pop("ERGO_RUNTIME_DIR")
    env.pop("XDG_RUNTIME_DIR", None)
    env["TMPDIR"] = str(shared)
    return env


def _as_attacker(user: struct_passwd, *argv: str) -> None:
    subprocess.run(list(argv), user=user.pw_uid, group=user.pw_gid, check=True, capture_output=True)


def _ergo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ergo", *args], env=env, capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def _prepare(kind: str, target: Path, user: struct_passwd, victim_dir: Path) -> None:
    if kind == "open-dir":
        _as_attacker(user, "mkdir", "-m", "777", str(target))
    elif kind == "symlink":
        _as_attacker(user, "ln", "-s", str(victim_dir), str(target))
    elif kind == "plain-file":
        _as_attacker(user, "touch", str(target))
    elif kind == "fake-daemon-dir":
        _as_attacker(user, "mkdir", "-m", "700", str(target))
        _as_attacker(user, "sh", "-c", f"echo 1 > {target}/ergo.lock; touch {target}/ergo.sock")


@pytest.mark.parametrize("command", ["run", "start"])
@pytest.mark.parametrize("kind", ["open-dir", "symlink", "plain-file", "fake-daemon-dir"])
def test_a_fallback_dir_prepared_by_another_user_is_refused(attacker: struct_passwd, shared_tmp: Path,
                                                          tmp_path: Path, kind: str, command: str) -> None:
    victim_dir = tmp_path / "home-of-victim"
    victim_dir.mkdir(mode=0o755)
    victim_dir.chmod(0o755)
    target = shared_tmp / f"ergo-{os.getuid()}"
    _prepare(kind, target, attacker, victim_dir)
    done = _ergo(_env(tmp_path, shared_tmp), command)
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(target) in lines[0] and attacker.pw_name in lines[0], lines[0]
    assert stat.S_IMODE(victim_dir.stat().st_mode) == 0o755, "ergo changed the mode of the symlink's target"
    assert not (victim_dir / "ergo.lock").exists() and not (victim_dir / "ergo.sock").exists()
    assert target.lstat().st_uid == attacker.pw_uid, "ergo chowned or replaced the other user's file"


def test_the_fallback_is_created_private_and_the_lock_is_0600(shared_tmp: Path, tmp_path: Path,
                                                             attacker: struct_passwd) -> None:
    env = _env(tmp_path, shared_tmp)
    done = _ergo(env, "start")
    try:
        assert done.returncode == 0, done.stderr
        target = shared_tmp / f"ergo-{os.getuid()}"
        info = target.lstat()
        assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()
        assert stat.S_IMODE((target / "ergo.lock").stat().st_mode) == 0o600
        assert _ergo(env, "status").returncode == 0
    finally:
        _ergo(env, "stop")


def test_the_client_refuses_an_answer_from_another_uid(attacker: struct_passwd, shared_tmp: Path,
                                                       tmp_path: Path) -> None:
    target = shared_tmp / f"ergo-{os.getuid()}"
    _as_attacker(attacker, "mkdir", "-m", "755", str(target))
    fake = subprocess.Popen(["/usr/bin/python3", "-c", FAKE_SERVER, str(target / "ergo.sock")], user=attacker.pw_uid,
                            group=attacker.pw_gid, stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None and fake.stdout.readline().strip() == "ready"
        with socket.socket(socket.AF_UNIX) as probe:  # the fake really answers whoever asks
            probe.connect(str(target / "ergo.sock"))
            probe.sendall(b'{"cmd": "status"}\n')
            assert b"hacked" in probe.recv(65536)
        env = _env(tmp_path, shared_tmp)
        for command in ("status", "stop", "pause"):
            done = _ergo(env, command)
            assert done.returncode == 1, (command, done.stdout, done.stderr)
            assert "hacked" not in done.stdout and "4242" not in done.stdout
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
            assert attacker.pw_name in lines[0] and "uid" in lines[0], lines[0]
        done = _ergo(env, "status", "--json")
        assert done.returncode == 1 and "hacked" not in done.stdout, done.stdout
    finally:
        fake.kill()
        fake.wait()
