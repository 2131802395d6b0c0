"""Limits under abuse (issue 7, item 6): many slow clients, a storm of SIGHUPs, parallel starts,
a log that would grow forever and a history never pruned.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime, timedelta, timezone

import pytest

from ergo.records.store import Store
from tests.daemon_helpers import Daemon, ErgoEnv, pid_alive, wait_for

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

#: these read /proc and set POSIX limits or send SIGHUP
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux only)")


def _fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@linux_only
@pytest.mark.slow
def test_slow_clients_are_capped_and_emfile_backs_off_quietly() -> None:
    with ErgoEnv.create() as env:
        daemon = Daemon(env)
        limit = 64  # a small fd limit, so the clients below exhaust it
        with open(daemon.stdout_path, "w") as out, open(daemon.stderr_path, "w") as err:
            daemon.proc = subprocess.Popen(
                [sys.executable, "-m", "ergo", "run"], env=env.env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                text=True, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
        try:
            daemon.wait_ready(timeout=20)
            clients: list[socket.socket] = []

            def connect_silently() -> None:
                sock = socket.socket(socket.AF_UNIX)
                sock.setblocking(False)
                with suppress(OSError):
                    sock.connect(str(env.socket))
                clients.append(sock)

            for _ in range(400):
                connect_silently()
            answered = 0
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                for _ in range(20):
                    connect_silently()
                with suppress(Exception):
                    if env.request("status", timeout=2)["pid"] == daemon.pid:
                        answered += 1
                time.sleep(0.1)
            assert answered > 0, "status never answered while slow clients piled up"
            assert daemon.alive()
            size = daemon.stderr_path.stat().st_size
            assert size < 20_000, f"{size} bytes of log in a few seconds"
            log = daemon.stderr()
            assert "Traceback" not in log, log[-3000:]
            warnings = [l for l in daemon.log_lines() if "control connections" in l]
            assert 1 <= len(warnings) <= 2, warnings
            assert _fd_count(daemon.pid) <= limit
            for sock in clients:
                sock.close()
            wait_for(lambda: env.request("status")["pid"] == daemon.pid, what="status after the storm")
        finally:
            daemon.kill()


@linux_only
@pytest.mark.slow
def test_a_sighup_storm_runs_at_most_one_check_at_a_time() -> None:
    with ErgoEnv.create() as env:
        env.config.write_text('[posture]\ninterval = "20m"\n')
        with Daemon(env) as daemon:
            running: list[int] = []
            stop = threading.Event()

            def count_checks() -> None:
                while not stop.is_set():
                    n = 0
                    for entry in os.listdir("/proc"):
                        if not entry.isdigit():
                            continue
                        with suppress(OSError):
                            with open(f"/proc/{entry}/stat") as f:
                                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                            if ppid == daemon.pid:
                                with open(f"/proc/{entry}/cmdline", "rb") as f:
                                    if b"ergo.config.check" in f.read():
                                        n += 1
                    running.append(n)
                    time.sleep(0.005)

            watcher = threading.Thread(target=count_checks, daemon=True)
            watcher.start()
            for _ in range(300):
                daemon.send_signal(signal.SIGHUP)
                time.sleep(0.002)
            time.sleep(3)
            stop.set()
            watcher.join()
            assert max(running) <= 1, f"{max(running)} config checks ran at once"
            reloads = [l for l in daemon.log_lines() if "config reloaded (SIGHUP)" in l]
            assert 1 <= len(reloads) < 30, len(reloads)
            assert daemon.alive() and env.status()["pid"] == daemon.pid


@pytest.mark.slow
def test_ten_parallel_starts_exactly_one_says_started() -> None:
    with ErgoEnv.create() as env:
        with ThreadPoolExecutor(10) as pool:
            # each start waits up to its own 60 s for the winner to answer (ten at once on a loaded machine
            # take long); the subprocess timeout is longer, so a late answer shows as ergo's own error
            results = list(pool.map(lambda _: env.cli("start", timeout=120), range(10)))
        pid = env.daemon_pid()
        assert pid is not None and pid_alive(pid)
        env.started.append(pid)
        started = [r for r in results if r.returncode == 0]
        assert len(started) == 1, [(r.returncode, r.stdout, r.stderr) for r in results]
        assert f"pid {pid}" in started[0].stdout, started[0].stdout
        for r in results:
            if r.returncode != 0:
                assert r.returncode == 1 and r.stdout == "", (r.stdout, r.stderr)
                assert r.stderr.strip() == f"ergo is already running (pid {pid})", r.stderr  # never "ergo: ergo ..."
        assert env.cli("stop").returncode == 0


@pytest.mark.slow
def test_the_log_file_is_rotated_with_a_few_old_files() -> None:
    with ErgoEnv.create() as env:
        env.state_dir.mkdir(mode=0o700)
        junk = ("x" * 99 + "\n") * 11_000  # 1.1 MB: over the 1 MiB cap
        env.log_file.write_text(junk)
        assert env.cli("start").returncode == 0
        env.started.append(env.daemon_pid() or 0)
        for round_ in range(5):
            wait_for(lambda: env.log_file.stat().st_size < 1_000_000, what=f"rotation {round_}")
            with open(env.log_file, "a") as log:
                log.write(junk)
            assert env.cli("reload").returncode == 0  # writes a log line, which checks the size
        wait_for(lambda: env.log_file.stat().st_size < 1_000_000, what="the last rotation")
        names = sorted(p.name for p in env.state_dir.iterdir() if p.name.startswith("ergo.log"))
        assert names == ["ergo.log", "ergo.log.1", "ergo.log.2", "ergo.log.3"], names
        for name in names:
            assert (env.state_dir / name).stat().st_mode & 0o777 == 0o600
        wait_for(lambda: "config reloaded" in env.log_file.read_text() or
                 env.cli("reload").returncode != 0 or "config reloaded" in env.log_file.read_text(),
                 what="the daemon writing to the new file")
        assert env.cli("stop").returncode == 0


def test_history_is_pruned_after_the_retention_period() -> None:
    with ErgoEnv.create() as env:
        store = Store(env.state_dir / "state.sqlite3")
        now = datetime.now(timezone.utc)
        store.record(now - timedelta(days=800), "posture", "delivered", "ancient")
        store.record(now - timedelta(days=200), "posture", "delivered", "last spring")
        store.record(now - timedelta(days=1), "posture", "delivered", "yesterday")
        store.close()
        with Daemon(env) as daemon:
            daemon.terminate()
        details = {r["detail"] for r in env.history_all()}
        assert "ancient" not in details and {"last spring", "yesterday"} <= details, details
        env.env["ERGO_HISTORY_RETENTION"] = "30d"
        with Daemon(env, name="short") as daemon:
            daemon.terminate()
        details = {r["detail"] for r in env.history_all()}
        assert "last spring" not in details and "yesterday" in details, details
