"""`ergo status --follow`: pushed status lines over the real control socket, from a real daemon.

The daemon pushes to subscribers from its one selector loop; these tests run `ergo run` and
`ergo status --follow` as subprocesses and read the stream line by line, plus one in-process
ControlServer (real socket, a plain handler) for the minute tick and the de-duplication.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ergo.control import server as control_server
from ergo.control.protocol import CLIENT_TIMEOUT
from ergo.control.server import ControlServer
from ergo.control.glance import glance, minutes_text, render
from tests.daemon_helpers import Daemon, ErgoEnv, wait_for

CALM = {"POSTURE__INTERVAL": "20m", "HYDRATION__INTERVAL": "30m"}
#: How long a follower may take to show a change: far below the once-a-minute tick, so a line that
#: came from the tick and not from the push still fails, and room for a load of 4 on 2 cores (a line
#: takes milliseconds on a quiet machine; the wait ends as soon as it comes).
PUSHED = 5.0
#: How long a new follower or daemon may take to start and print its first line.
STARTED = 20.0


class Follower:
    """`python -m ergo status --follow --format FMT` as a child; `next_line()` reads with a deadline."""

    def __init__(self, env: ErgoEnv, fmt: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "ergo", "status", "--follow", "--format", fmt], env=env.env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()
        self._buffer = b""

    def next_line(self, timeout: float) -> str | None:
        """The next line, or None if none came within `timeout` s."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._fd], [], [], left)[0]:
                return None
            chunk = os.read(self._fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def until(self, check: Callable[[str], bool], timeout: float) -> str:
        """Read lines until one passes `check`; fail after `timeout` s."""
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            line = self.next_line(deadline - time.monotonic())
            if line is None:
                break
            seen.append(line)
            if check(line):
                return line
        raise AssertionError(f"no matching line within {timeout:g} s; saw {seen!r}")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def test_pause_and_resume_reach_a_json_follower_as_they_happen(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(**CALM)
    with Daemon(env) as daemon:
        follower = Follower(env, "json")
        try:
            first = json.loads(follower.until(lambda line: True, timeout=STARTED))
            assert first["running"] is True and first["pid"] == daemon.pid and first["paused"] is False
            time.sleep(CLIENT_TIMEOUT + 1)  # longer than the 5 s that drops a silent ordinary client: subscribers stay
            env.request("pause")
            paused = json.loads(follower.until(lambda line: True, timeout=PUSHED))
            assert paused["paused"] is True, paused
            assert follower.next_line(timeout=0.5) is None  # one line per change, no repeats
            env.request("resume")
            resumed = json.loads(follower.until(lambda line: True, timeout=PUSHED))
            assert resumed["paused"] is False
            env.request("snooze", kind="posture", until=(datetime.now(UTC) + timedelta(minutes=5)).isoformat())
            snoozed = json.loads(follower.until(lambda line: True, timeout=PUSHED))
            assert snoozed["reminders"]["posture"]["held"] == "snoozed"
            env.request("now", kind="hydration")
            delivered = json.loads(follower.until(lambda line: True, timeout=PUSHED))
            assert delivered["reminders"]["hydration"]["last_fired"] is not None
            env.cli("reload")
            json.loads(follower.until(lambda line: True, timeout=PUSHED))  # a reload always says so, even unchanged
        finally:
            follower.close()


def test_waybar_and_plain_formats_follow_the_same_changes(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(**CALM)
    with Daemon(env):
        waybar, plain = Follower(env, "waybar"), Follower(env, "plain")
        try:
            first = json.loads(waybar.until(lambda line: True, timeout=STARTED))
            assert first["class"] == "running" and first["text"] == "posture in 20 min", first
            assert "hydration in 30 min" in first["tooltip"]
            assert plain.until(lambda line: True, timeout=STARTED) == "posture in 20 min"
            done = env.cli("pause", "1h")
            assert done.returncode == 0, done.stderr
            paused = json.loads(waybar.until(lambda line: True, timeout=PUSHED))
            assert paused["class"] == "paused" and paused["text"].startswith("paused "), paused
            assert plain.until(lambda line: True, timeout=PUSHED) in ("paused 1 h", "paused 60 min")
        finally:
            waybar.close()
            plain.close()


def test_the_stream_says_when_the_daemon_stops_and_reconnects_to_the_next_one(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(**CALM)
    follower = Follower(env, "json")
    try:
        assert json.loads(follower.until(lambda line: True, timeout=STARTED)) == {"running": False}
        with Daemon(env) as first:
            assert json.loads(follower.until(lambda line: True, timeout=STARTED))["pid"] == first.pid
            assert first.terminate() == 0
        assert json.loads(follower.until(lambda line: True, timeout=STARTED)) == {"running": False}
        with Daemon(env) as second:
            assert json.loads(follower.until(lambda line: True, timeout=STARTED))["pid"] == second.pid
            second.proc.kill()  # a crash leaves the socket file behind: the stream still notices
            second.proc.wait()
            assert json.loads(follower.until(lambda line: True, timeout=STARTED)) == {"running": False}
        with Daemon(env) as third:
            assert json.loads(follower.until(lambda line: True, timeout=STARTED))["pid"] == third.pid
    finally:
        follower.close()
    assert follower.proc.returncode is not None


def test_a_stuck_subscriber_is_dropped_and_never_delays_the_daemon(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(**CALM)
    with Daemon(env) as daemon:
        stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stuck.connect(str(env.socket))
        stuck.sendall(b'{"cmd": "subscribe"}\n')  # and then never read
        follower = Follower(env, "json")
        try:
            follower.until(lambda line: True, timeout=STARTED)
            slowest = 0.0
            for round_ in range(300):
                started = time.monotonic()
                env.request("pause" if round_ % 2 == 0 else "resume")
                slowest = max(slowest, time.monotonic() - started)
            assert daemon.alive()
            wait_for(lambda: "dropped a status subscriber that stopped reading" in daemon.stderr(), PUSHED,
                     what="the stuck subscriber dropped")
            # the reading subscriber was kept and ends on the last state (resumed)
            last = None
            while (line := follower.next_line(timeout=PUSHED)) is not None:
                last = json.loads(line)
            assert last is not None and last["paused"] is False
            # the stuck one was cut off: after its queued bytes comes end-of-file
            stuck.settimeout(5)
            while stuck.recv(1 << 20):
                pass
        finally:
            follower.close()
            stuck.close()
    assert slowest < 5, slowest  # no request waited for the stuck reader (CLIENT_TIMEOUT would show)


def test_follow_keeps_the_client_light(make_env: Callable[..., ErgoEnv]) -> None:
    """The stream client imports neither apscheduler, pydantic nor plyer; plain `status` does not load it at all."""
    env = make_env(**CALM)
    probe = ("import sys, io; from ergo.cli import main; main(['status', '--json']); "
             "print('STREAM', 'ergo.control.stream' in sys.modules, file=sys.stderr); "
             "import ergo.control.stream, ergo.control.glance; "
             "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('apscheduler', 'pydantic', 'pydantic_settings', 'plyer')); "
             "print('HEAVY', heavy, file=sys.stderr)")
    with Daemon(env):
        done = subprocess.run([sys.executable, "-c", probe], env=env.env, capture_output=True, text=True, timeout=20,
                              check=False)
    assert "STREAM False" in done.stderr, done.stderr
    assert "HEAVY []" in done.stderr, done.stderr


def test_format_without_follow_is_one_line_exit_1(make_env: Callable[..., ErgoEnv]) -> None:
    env = make_env(**CALM)
    done = env.cli("status", "--format", "plain")
    assert done.returncode == 1
    assert done.stderr.strip() == "ergo: --format goes with --follow (for a single status, use --json)"


# --- the server loop in-process: a real socket, a handler that returns plain data --------------


def _subscribe(path: Path) -> socket.socket:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(str(path))
    client.sendall(b'{"cmd": "subscribe"}\n')
    client.settimeout(0.1)
    return client


def _read_lines(client: socket.socket, wait: float, count: int | None = None) -> list[dict[str, Any]]:
    """The lines that come within `wait` s; with `count`, return as soon as that many came (then a
    short look for more, so one line too many still shows)."""
    deadline = time.monotonic() + wait
    data = b""
    while time.monotonic() < deadline:
        if count is not None and data.count(b"\n") >= count:
            deadline = min(deadline, time.monotonic() + 0.2)
            count = None
        try:
            chunk = client.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            break
        data += chunk
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def test_server_pushes_changes_once_and_ticks_without_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control_server, "TICK", 3600.0)  # first: changes only
    state = {"paused": False, "now": "0"}

    def handler(request: dict[str, Any]) -> dict[str, Any]:
        state["now"] = str(time.monotonic())  # "now" changes on every call and must not count as a change
        return {"ok": True, "running": True, **state}

    server = ControlServer(tmp_path / "s.sock", handler)
    server.start()
    try:
        client = _subscribe(tmp_path / "s.sock")
        assert [line["paused"] for line in _read_lines(client, PUSHED, 1)] == [False]  # the status at once
        server.changed()  # nothing differs: no line
        assert _read_lines(client, 0.5) == []
        state["paused"] = True
        server.changed()
        assert [line["paused"] for line in _read_lines(client, PUSHED, 1)] == [True]
        server.changed(force=True)  # e.g. a reload: a line even though nothing differs
        assert len(_read_lines(client, PUSHED, 1)) == 1
        monkeypatch.setattr(control_server, "TICK", 0.3)  # then: nothing changes, a line every TICK anyway
        server.changed()  # wake the loop so it sees the shorter tick
        ticks = _read_lines(client, PUSHED * 3, 3)
        assert len(ticks) >= 3, ticks
        client.close()
    finally:
        server.stop()


# --- what a bar shows: pure rendering ------------------------------------------------------------


def _status(now: datetime, **overrides: Any) -> dict[str, Any]:
    def entry(minutes: float | None, interval: float, **extra: Any) -> dict[str, Any]:
        due = None if minutes is None else (now + timedelta(minutes=minutes)).isoformat()
        return {"enabled": True, "interval": "x", "interval_seconds": interval, "next_due": due, "snoozed_until": None,
                "last_fired": None, "held": None, "resumes_at": None, **extra}

    status = {"running": True, "now": now.isoformat(), "paused": False, "paused_until": None, "hold": None,
              "reminders": {"posture": entry(12, 1800), "hydration": entry(40, 2700),
                            "stretch": {**entry(None, 3600), "enabled": False}}}
    status.update(overrides)
    return status


def test_glance_names_the_next_reminder_and_how_far_its_interval_has_run() -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    view = glance(_status(now))
    assert (view.text, view.state, view.next_kind) == ("posture in 12 min", "running", "posture")
    assert view.percentage == 60  # 18 of 30 minutes gone
    assert "hydration in 40 min" in view.tooltip and "stretch" not in view.tooltip
    soon = _status(now)
    soon["reminders"]["posture"]["next_due"] = (now + timedelta(seconds=90)).isoformat()
    assert glance(soon).state == "due-soon" and glance(soon).text == "posture in 2 min"


def test_glance_shows_paused_held_and_stopped() -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    paused = glance(_status(now, paused=True, paused_until=(now + timedelta(minutes=30)).isoformat()))
    assert (paused.text, paused.state) == ("paused 30 min", "paused")
    held = glance(_status(now, hold="away"))
    assert (held.text, held.state) == ("held: away", "held")
    assert glance(None).state == glance({"running": False}).state == "stopped"
    assert json.loads(render({"running": False}, "json")) == {"running": False}
    bar = json.loads(render(_status(now), "waybar"))
    assert set(bar) == {"text", "tooltip", "class", "alt", "percentage"} and bar["class"] == "running"
    assert render(_status(now), "plain") == "posture in 12 min"


def test_minutes_round_up_so_a_countdown_never_shows_zero_early() -> None:
    assert [minutes_text(s) for s in (-1, 0, 1, 60, 61, 3600, 3700)] == [
        "now", "now", "1 min", "1 min", "2 min", "1 h", "1 h 2 min"]


def _docs_bar_commands() -> dict[str, str]:
    """The command each bar snippet of the docs runs, exactly as a user pastes it."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "status-bars-and-tray.md").read_text()
    section = text[text.index("## Status bars"):text.index("On the daemon's side the subscribers")]
    found = {}
    for bar, pattern in (("waybar", '"exec": "'), ("polybar", "exec = "), ("i3blocks", "command=")):
        line = next(line for line in section.splitlines() if line.strip().startswith(pattern))
        found[bar] = line.strip()[len(pattern):].rstrip('",')
    return found


def test_the_docs_bar_snippets_print_what_each_bar_reads(make_env: Callable[..., ErgoEnv]) -> None:
    commands = _docs_bar_commands()
    assert commands == {"waybar": "ergo status --follow --format waybar",
                        "polybar": "ergo status --follow --format plain",
                        "i3blocks": "ergo status --follow --format plain"}
    env = make_env(**CALM)
    with Daemon(env):
        for bar, command in commands.items():
            args = command.split()[1:]
            proc = subprocess.Popen([sys.executable, "-m", "ergo", *args], env=env.env, stdout=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, text=True)
            try:
                assert proc.stdout is not None
                line = proc.stdout.readline().rstrip("\n")
            finally:
                proc.kill()
                proc.wait()
            if bar == "waybar":
                assert json.loads(line)["text"] == "posture in 20 min"  # waybar's return-type json: one object per line
            else:
                assert line == "posture in 20 min"  # polybar tail / i3blocks persist: each line is the text


def test_subscribers_beyond_the_cap_get_a_one_line_refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control_server, "MAX_SUBSCRIBERS", 1)
    server = ControlServer(tmp_path / "s.sock", lambda request: {"ok": True, "running": True, "now": "0"})
    server.start()
    try:
        first = _subscribe(tmp_path / "s.sock")
        assert _read_lines(first, 1.0) == [{"running": True, "now": "0"}]
        second = _subscribe(tmp_path / "s.sock")
        assert _read_lines(second, 1.0) == [{"ok": False, "error": "too many followers (at most 1)"}]
        first.close()
        second.close()
    finally:
        server.stop()


def test_the_stream_says_a_connection_ended_even_when_the_reconnect_succeeds_at_once(tmp_path: Path) -> None:
    """A daemon restarted at once, or one that dropped this subscriber: the reader hears None between the two."""
    import threading

    from ergo.control.stream import statuses

    path = tmp_path / "ergo.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(4)
    listener.settimeout(10)
    finished = threading.Event()
    subscribed: list[bytes] = []
    seen: list[Any] = []

    def serve() -> None:
        for pid in (101, 102):
            conn, _ = listener.accept()
            with conn:
                subscribed.append(conn.recv(1024))
                conn.sendall(json.dumps({"running": True, "pid": pid}).encode() + b"\n")
                if pid == 102:
                    finished.wait(10)  # the second connection stays open while the test reads

    def read() -> None:
        for status in statuses(path, stop=finished.is_set):
            seen.append(status if status is None else status["pid"])
            if len(seen) >= 3:
                return

    threads = [threading.Thread(target=serve, daemon=True), threading.Thread(target=read, daemon=True)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: 102 in seen, 10, what="the status from the second connection")
    finally:
        finished.set()
        listener.close()
        for thread in threads:
            thread.join(5)
    assert seen == [101, None, 102], seen
    assert subscribed == [b'{"cmd": "subscribe"}\n'] * 2
