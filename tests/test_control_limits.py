"""The control socket under load (issue 16, items 6 and 7), against the real daemon (`ergo run`).

- 256 followers each get the real stream (ergo's own follower code, one thread each); past the
  limit a follower is told "too many followers", never that ergo is off.
- A request of deeply nested JSON under the size limit gets a one-line error answer and leaves
  no RecursionError in the log.
- 64 same-user clients that each send half a request never keep another client's `ergo status`
  waiting for more than a fraction of a second.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ergo.control import server as control_server
from ergo.control.protocol import MAX_MESSAGE
from ergo.control.server import ControlServer
from ergo.control.stream import statuses
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for

CALM = {"POSTURE__INTERVAL": "20m", "HYDRATION__INTERVAL": "30m"}
FOLLOWERS = 256


def test_256_followers_each_get_the_real_stream(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(**CALM)
    with Daemon(env) as daemon:
        seen: list[list[dict[str, Any] | None]] = [[] for _ in range(FOLLOWERS)]
        stop = threading.Event()

        def follow(index: int) -> None:
            for status in statuses(env.socket, stop.is_set):
                seen[index].append(status)

        threads = [threading.Thread(target=follow, args=(i,), daemon=True) for i in range(FOLLOWERS)]
        for thread in threads:
            thread.start()
        try:
            wait_for(lambda: all(lines for lines in seen), timeout=30, what="a first line for every follower")
            firsts = [lines[0] for lines in seen]
            bad = [status for status in firsts if not status or status.get("pid") != daemon.pid]
            assert not bad, f"{len(bad)} of {FOLLOWERS} followers got no real status, e.g. {bad[0]}"
            assert env.cli("pause").returncode == 0
            wait_for(lambda: all(any(s and s.get("paused") for s in lines) for lines in seen), timeout=30,
                     what="the pause on every follower")
            assert not any(None in lines for lines in seen), "a follower was told ergo is not running"
        finally:
            stop.set()
            env.cli("resume")  # a push wakes every follower, which then sees stop
            for thread in threads:
                thread.join(timeout=10)
        assert "Traceback" not in daemon.stderr()


@pytest.mark.parametrize(("fmt", "check"), [
    ("plain", lambda line: line == "ergo: too many followers"),
    ("json", lambda line: json.loads(line).get("refused") == "too many followers" and "running" not in json.loads(line)),
    ("waybar", lambda line: json.loads(line)["text"] == "ergo: too many followers" and json.loads(line)["class"] == "refused"),
])
def test_a_follower_past_the_limit_is_told_too_many_followers_never_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, check: Callable[[str], bool]) -> None:
    monkeypatch.setattr(control_server, "MAX_SUBSCRIBERS", 1)
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    server = ControlServer(run / "ergo.sock", lambda request: {"ok": True, "running": True, "now": "2026-01-01T00:00:00+00:00",
                                                               "pid": 1, "reminders": {}})
    server.start()
    first = socket.socket(socket.AF_UNIX)
    first.connect(str(run / "ergo.sock"))
    first.sendall(b'{"cmd": "subscribe"}\n')
    assert b'"running": true' in first.recv(65536)  # the one allowed follower holds the place
    env = {**dict(__import__("os").environ), "ERGO_RUNTIME_DIR": str(run)}
    follower = subprocess.Popen([sys.executable, "-m", "ergo", "status", "--follow", "--format", fmt], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert follower.stdout is not None
        line = follower.stdout.readline().rstrip("\n")
        assert check(line), line
        assert "off" not in line and '"running": false' not in line and '"running":false' not in line, line
    finally:
        follower.kill()
        _, err = follower.communicate(timeout=5)
        first.close()
        server.stop()
    assert "Traceback" not in err, err


def test_deeply_nested_json_gets_a_one_line_error_answer(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(**CALM)
    with Daemon(env) as daemon:
        depth = (MAX_MESSAGE - 100) // 2
        for request in (b"[" * depth + b"]" * depth, b'{"cmd": "status", "x": ' + b"[" * depth + b"]" * depth + b"}",
                        b'{"a":' * (depth // 3) + b"1" + b"}" * (depth // 3)):
            assert len(request) < MAX_MESSAGE
            answer = env.raw(request + b"\n")
            assert answer.count(b"\n") == 1, answer[:200]
            reply = json.loads(answer)
            assert reply["ok"] is False and "nested" in reply["error"], reply
        assert env.status()["pid"] == daemon.pid
        log = daemon.stderr() + "\n".join(daemon.log_lines())
        assert "RecursionError" not in log and "Traceback" not in log, log[-2000:]


def test_64_clients_with_half_a_request_never_hold_up_status(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(**CALM)
    with Daemon(env) as daemon:
        slow: list[socket.socket] = []
        try:
            for round_ in range(3):
                for _ in range(64):  # every round fills the server's whole client table again
                    sock = socket.socket(socket.AF_UNIX)
                    sock.connect(str(env.socket))
                    sock.sendall(b'{"cmd": "sta')  # half a request, and then nothing
                    slow.append(sock)
                time.sleep(0.2)  # the server has read every half request
                for _ in range(5):
                    # a fraction of a second is all a status may wait (the timeout is the bound, not a benchmark)
                    assert env.request("status", timeout=0.5)["pid"] == daemon.pid, f"round {round_}"
        finally:
            for sock in slow:
                sock.close()
        assert "Traceback" not in daemon.stderr()
