"""Idle on wlroots compositors (sway, Hyprland, river): Debian's `swayidle` as a child process.

swayidle speaks the compositor's idle protocol; ergo runs
``swayidle timeout N 'echo idle' resume 'echo active'`` and reads those words
from its stdout on one daemon thread, so nothing polls. If the child dies it is
restarted (with a growing pause, up to 30 s) and, until it answers again, the
person counts as present. ``close()`` ends the child.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import IO

from ergo.errors import BackendUnavailable

log = logging.getLogger(__name__)

PROBE_SECONDS = 0.3  # a swayidle that cannot bind the idle protocol exits within this
RESTART_MAX = 30.0


def _parent_death_signal() -> None:
    """In the child, before exec: die with SIGTERM if the thread that started us goes (Linux only)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _spawn(executable: str, timeout_s: int, keep_stderr: bool = False) -> subprocess.Popen[bytes]:
    """Start swayidle with our two commands; its stdout is ours to read, its stderr (D-Bus noise) dropped unless kept."""
    argv = [executable, "timeout", str(timeout_s), "echo idle", "resume", "echo active"]
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE if keep_stderr else subprocess.DEVNULL,
                            close_fds=True, preexec_fn=_parent_death_signal if sys.platform.startswith("linux") else None)


def _stop_child(child: subprocess.Popen[bytes] | None) -> None:
    if child is None or child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=1)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=1)


def probe(executable: str | None = None) -> str | None:
    """None if this is a Wayland session and swayidle runs here (binds the idle protocol), else why not."""
    if not os.environ.get("WAYLAND_DISPLAY"):
        return "not a Wayland session (WAYLAND_DISPLAY is not set)"
    found = executable or shutil.which("swayidle")
    if not found:
        return "swayidle is not installed (apt install swayidle)"
    try:
        child = _spawn(found, 86400, keep_stderr=True)
    except OSError as error:
        return f"cannot run {found}: {error}"
    try:
        child.wait(timeout=PROBE_SECONDS)
    except subprocess.TimeoutExpired:
        return None  # still running: it bound the compositor's idle protocol
    finally:
        _stop_child(child)
        stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    last = [line for line in stderr.splitlines() if line.strip() and "D-Bus" not in line and "BlockInhibited" not in line]
    return f"swayidle exited at once (code {child.returncode}){': ' + last[-1].strip() if last else ''}"


class SwayidleIdleMonitor:
    """Away/back events from a swayidle child; `idle_time()` answers from the last event."""

    name = "swayidle"

    def __init__(self, executable: str | None = None) -> None:
        found = executable or shutil.which("swayidle")
        if not found:
            raise BackendUnavailable("idle backend 'swayidle' is unavailable: swayidle is not installed (apt install swayidle)")
        self.executable = found
        self.source = f"swayidle on {os.environ.get('WAYLAND_DISPLAY', '?')}"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._away_after = timedelta(0)
        self._idle_since: float | None = None  # monotonic time swayidle said "idle"
        self.restarts = 0

    def idle_time(self) -> timedelta:
        """From the last event: 0 while active, else away_after plus the time since "idle"."""
        with self._lock:
            if self._idle_since is None:
                return timedelta(0)
            return self._away_after + timedelta(seconds=time.monotonic() - self._idle_since)

    def watch(self, away_after: timedelta, on_away: Callable[[], None], on_back: Callable[[], None]) -> None:
        """Start the child and the one thread that reads it; callbacks run on that thread."""
        self._away_after = away_after
        seconds = max(1, math.ceil(away_after.total_seconds()))
        self._thread = threading.Thread(target=self._run, args=(seconds, on_away, on_back), name="ergo-swayidle", daemon=True)
        self._thread.start()

    @property
    def child_pid(self) -> int | None:
        child = self._child
        return child.pid if child is not None and child.poll() is None else None

    def _run(self, seconds: int, on_away: Callable[[], None], on_back: Callable[[], None]) -> None:
        pause = 1.0
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                child = _spawn(self.executable, seconds)
            except OSError as error:
                log.warning("swayidle could not start: %s", error)
                child = None
            else:
                with self._lock:
                    self._child = child
                if self._stop.is_set():  # close() came while we were starting it
                    _stop_child(child)
                    break
                self._read(child.stdout, on_away, on_back)
                _stop_child(child)
                for stream in (child.stdout, child.stderr):
                    if stream is not None:
                        stream.close()
            if self._stop.is_set():
                break
            with self._lock:
                was_idle = self._idle_since is not None
                self._idle_since = None
            if was_idle:
                on_back()  # a lost idle source means present
            pause = 1.0 if time.monotonic() - started > RESTART_MAX else min(pause * 2, RESTART_MAX)
            code = child.returncode if child is not None else None
            log.warning("swayidle ended (code %s); restarting it in %.0f s", code, pause)
            self.restarts += 1
            self._stop.wait(pause)

    def _read(self, stdout: IO[bytes] | None, on_away: Callable[[], None], on_back: Callable[[], None]) -> None:
        """Turn swayidle's words into events until its output ends."""
        if stdout is None:
            return
        for raw in stdout:
            word = raw.strip()
            if word == b"idle":
                with self._lock:
                    self._idle_since = time.monotonic()
                on_away()
            elif word == b"active":
                with self._lock:
                    was_idle = self._idle_since is not None
                    self._idle_since = None
                if was_idle:
                    on_back()

    def close(self) -> None:
        """End the child and the thread; safe to call twice."""
        self._stop.set()
        with self._lock:
            child = self._child
        _stop_child(child)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
