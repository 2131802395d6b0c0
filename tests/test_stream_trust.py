"""Every client of the control socket believes only a daemon of its own user (issue 16, item 1).

`ergo status --follow` and the tray (both read ergo.control.stream) make the checks `ergo status`
makes: the runtime dir must be ours and 0700, and the daemon's uid (SO_PEERCRED) ours. The other
user is real: a child forked from this (root) process that drops to an unused uid whose gid differs
from it (setresgid/setresuid), so nothing is left behind and a check that swaps uid and gid fails.
Its fake daemon answers anyone with a hostile status: terminal escape sequences and malformed fields.
A same-user daemon that sends such a status gets its text masked and never crashes a follower.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from ergo.control.glance import render
from ergo.control.server import ControlServer
from ergo.control.stream import statuses
from ergo.tray.model import view
from tests.helpers import cannot_run, isolated_env

try:
    import grp
    import pwd
except ImportError:  # Windows: the suite must still collect there (tests/test_collect_without_posix.py)
    grp = pwd = None  # type: ignore[assignment]

HOSTILE = {"ok": True, "running": True, "pid": 987654, "now": "2026-01-01T10:00:00+00:00", "paused": False,
           "hold": "\x1b]0;PWNED\x07\x1b[2JHOSTILEHOLD", "notifier": "x", "idle_backend": "x", "config_file": "x",
           "reminders": {"post\x1b[31mure": {"enabled": True, "interval": "1m", "interval_seconds": 60,
                                             "next_due": "2026-01-01T10:05:00+00:00", "held": None,
                                             "snoozed_until": None, "last_fired": None}}}
MALFORMED = [
    {**HOSTILE, "now": 5},
    {**HOSTILE, "reminders": ["posture"]},
    {**HOSTILE, "reminders": {"posture": {"enabled": True, "next_due": "yesterday", "held": None}}},
    {**HOSTILE, "paused": True, "paused_until": [1, 2]},
    {**HOSTILE, "reminders": {"posture": {"enabled": True, "next_due": "2026-01-01T10:05:00+00:00",
                                          "interval_seconds": math.nan, "held": None}}},
]


def _unused_ids() -> tuple[int, int]:
    """A uid no user has and a different gid no group has."""
    for uid in range(47000, 60000, 7):
        gid = uid + 3
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            pass
        try:
            grp.getgrgid(gid)
            continue
        except KeyError:
            return uid, gid
    raise RuntimeError("no unused uid")


@pytest.fixture
def other_uid() -> tuple[int, int]:
    if os.geteuid() != 0:
        cannot_run("needs root to act as a second uid (setresuid)")
    return _unused_ids()


def _fake_daemon(path: Path, uid: int, gid: int, answer: dict[str, Any], bind_as_root: bool) -> int:
    """A child serving `answer` as one line to whoever connects, as `uid`; returns its pid once it listens."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_r)
            server = socket.socket(socket.AF_UNIX)
            if bind_as_root:  # a socket in our own dir, but the process behind it is the other user's
                server.bind(str(path))
                os.chmod(path, 0o777)
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            if not bind_as_root:
                server.bind(str(path))
                os.chmod(path, 0o777)
            server.listen(64)  # SO_PEERCRED reports who called listen()
            os.write(ready_w, b"r")
            line = json.dumps(answer).encode() + b"\n"
            while True:
                conn, _ = server.accept()
                try:
                    conn.settimeout(1)
                    conn.sendall(line)
                    conn.recv(65536)
                    conn.sendall(line)
                except OSError:
                    pass
                conn.close()
        finally:
            os._exit(0)
    os.close(ready_w)
    assert os.read(ready_r, 1) == b"r", "the fake daemon did not start"
    os.close(ready_r)
    return pid


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    root = Path(tempfile.mkdtemp(prefix="e16t", dir="/tmp"))  # short: a socket path must stay < 108 bytes
    pids: list[int] = []
    try:
        yield {"root": root, "pids": pids, "env": isolated_env(tmp_path)}
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        shutil.rmtree(root, ignore_errors=True)


def _follow_first_line(env: dict[str, str], fmt: str) -> tuple[str, str]:
    """The first line `ergo status --follow` prints, and its stderr meanwhile (the follower keeps running)."""
    proc = subprocess.Popen([sys.executable, "-m", "ergo", "status", "--follow", "--format", fmt], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode("utf-8", "replace").rstrip("\n")
        time.sleep(0.3)
        assert proc.poll() is None, "the follower exited"
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=5)
    return line, err.decode("utf-8", "replace")


def _clean(text: str) -> bool:
    return not any(ord(c) < 0x20 and c not in "\n" or 0x7F <= ord(c) <= 0x9F for c in text)


@pytest.mark.parametrize(("where", "their_gid"), [("their-dir", "unused"), ("our-dir-their-daemon", "unused"),
                                                 ("our-dir-their-daemon", "our-uid")])
def test_follow_and_the_tray_stream_refuse_another_users_daemon(other_uid: tuple[int, int], world: dict[str, Any],
                                                                where: str, their_gid: str) -> None:
    """`our-uid`: their gid is the number of our uid (0), so a check that read the gid field would trust them."""
    uid, gid = other_uid
    if their_gid == "our-uid":
        gid = os.getuid()
    run = world["root"] / "run"
    run.mkdir(mode=0o700)
    if where == "their-dir":  # they made the runtime dir first (a /tmp/ergo-<uid> fallback)
        os.chown(world["root"], uid, gid)
        os.chown(run, uid, gid)
    sock = run / "ergo.sock"
    world["pids"].append(_fake_daemon(sock, uid, gid, HOSTILE, bind_as_root=where != "their-dir"))
    with socket.socket(socket.AF_UNIX) as probe:  # the fake really answers whoever asks
        probe.connect(str(sock))
        assert b"987654" in probe.recv(65536)
    env = {**world["env"], "ERGO_RUNTIME_DIR": str(run)}
    for fmt, expected in (("plain", "ergo: not your daemon"), ("json", None), ("waybar", None)):
        line, err = _follow_first_line(env, fmt)
        assert "987654" not in line and "PWNED" not in line and "HOSTILEHOLD" not in line and _clean(line), line
        assert "Traceback" not in err and _clean(err), err
        assert f"uid {uid}" in err, err
        if expected:
            assert line == expected
        elif fmt == "json":
            assert json.loads(line)["refused"] == "not your daemon" and "running" not in json.loads(line)
        else:
            assert json.loads(line)["class"] == "refused"
    done = subprocess.run([sys.executable, "-m", "ergo", "status"], env=env, capture_output=True, text=True, timeout=20)
    assert done.returncode == 1 and "987654" not in done.stdout and f"uid {uid}" in done.stderr, done
    # the tray reads the same stream: its first item is the refusal, and its view says so
    first = next(statuses(sock))
    assert first is not None and first["refused"] == "not your daemon" and f"uid {uid}" in first["detail"]
    shown = view(first, datetime.now(timezone.utc))
    assert shown.state == "refused" and "987654" not in shown.tooltip and "Start ergo" not in [i.label for i in shown.items]


@pytest.mark.parametrize("answer", [HOSTILE, *MALFORMED], ids=["escapes", *[f"malformed{i}" for i in range(len(MALFORMED))]])
def test_a_same_user_daemon_cannot_put_escapes_on_the_terminal_or_crash_a_follower(
        tmp_path: Path, answer: dict[str, Any]) -> None:
    run = Path(tempfile.mkdtemp(prefix="e16s", dir="/tmp"))
    server = ControlServer(run / "ergo.sock", lambda request: dict(answer))
    server.start()
    try:
        env = {**isolated_env(tmp_path), "ERGO_RUNTIME_DIR": str(run)}
        for fmt in ("plain", "waybar", "json"):
            line, err = _follow_first_line(env, fmt)
            assert line and _clean(line) and "Traceback" not in err, (fmt, line, err)
            assert "\\u001b" not in line and "\\u0007" not in line, line  # not even escaped in JSON
            if fmt != "plain":
                json.loads(line)  # still valid JSON (no NaN)
        done = subprocess.run([sys.executable, "-m", "ergo", "status"], env=env, capture_output=True, text=True,
                              timeout=20)
        assert "Traceback" not in done.stderr and _clean(done.stdout) and _clean(done.stderr), done
        assert len(done.stderr.strip().splitlines()) <= 1, done.stderr
        statuses_seen = next(statuses(run / "ergo.sock"))
        shown = view(statuses_seen, datetime.now(timezone.utc) + timedelta(seconds=1))
        assert _clean(shown.title) and all(_clean(item.label) for item in shown.items)
        assert _clean(render(statuses_seen, "plain"))
    finally:
        server.stop()
        shutil.rmtree(run, ignore_errors=True)
