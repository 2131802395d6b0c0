"""`ergo run` (the daemon in the foreground) and `ergo start` (the same, detached)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from ergo.errors import AlreadyRunning, ErgoError, StateError
from ergo.paths import Paths, ensure_private_dir, private_state_dir

log = logging.getLogger("ergo")
#: the control thread's clock-jump check and sign of life; every idle reading checks the clock too
HOUSEKEEPING_SECONDS = 60.0


class _Formatter(logging.Formatter):
    """`2026-12-02 10:26:00 ergo: MESSAGE`, never `ergo: ergo started` (ergo.errors.one_line)."""

    def format(self, record: logging.LogRecord) -> str:
        from ergo.errors import one_line

        return f"{self.formatTime(record, '%Y-%m-%d %H:%M:%S')} {one_line(record.getMessage())}" + (
            f"\n{self.formatException(record.exc_info)}" if record.exc_info else "")


def _same_terminal() -> bool:
    """Whether stdout and stderr are one terminal (`ergo run` typed by a person)."""
    try:
        if not (sys.stdout is not None and sys.stderr is not None and sys.stdout.isatty() and sys.stderr.isatty()):
            return False
        out, err = os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (out.st_dev, out.st_ino) == (err.st_dev, err.st_ino)


def _setup_logging(level: str, log_file: Any = None) -> None:
    """Log to stderr; when stderr is ergo's own log file (`ergo start`), cap its size by rotating it.

    In a terminal (`ergo run` typed by a person) the screen shows one line per reminder: the console
    notifier's. Its "delivered via console" log line goes to the log file only, which in that case
    receives every log line (size-capped too), so the log is complete whichever way ergo runs.
    """
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    handlers: list[logging.Handler] = [handler]
    formatter = _Formatter()
    if log_file is not None:
        from ergo.daemon.logfile import RotatingStderrHandler, writes_to

        if writes_to(log_file):
            handler = handlers[0] = RotatingStderrHandler(log_file)
        elif _same_terminal():
            handler.addFilter(lambda record: not getattr(record, "on_stdout", False))
            try:
                from logging.handlers import RotatingFileHandler

                from ergo.daemon.logfile import KEEP, MAX_BYTES

                handlers.append(RotatingFileHandler(log_file, maxBytes=MAX_BYTES, backupCount=KEEP, encoding="utf-8",
                                                    delay=True))
            except OSError:
                pass
    for each in handlers:
        each.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _console_or_log(log_file: Any) -> None:
    """Under pythonw (the Windows Startup entry) sys.stderr and sys.stdout are None: write them to the log file."""
    if sys.stderr is not None and sys.stdout is not None:
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    stream = open(log_file, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives as long as the process
    if sys.stderr is None:
        sys.stderr = stream
    if sys.stdout is None:
        sys.stdout = stream


def run(config: str | None, flags: dict[str, Any], args: argparse.Namespace | None = None) -> int:
    """Run until SIGINT/SIGTERM (exit 0); SIGHUP reloads the config."""
    from ergo.config.frozen import finish_check, read_checked, start_check

    paths = Paths.resolve(config)
    _console_or_log(paths.log_file)
    # The config is checked in a child (pydantic never loads here) while this process imports the rest;
    # `ergo start` starts that child itself, before this process, and hands its answer to our stdin.
    check = None if getattr(args, "settings_on_stdin", False) else start_check(paths.config_file, flags)
    from ergo.daemon.apscheduler_slim import load_apscheduler

    load_apscheduler()  # before anything else imports it: no asyncio, ssl or libcrypto in the daemon
    from ergo.control.client import pipe_transport
    from ergo.control.server import ControlServer
    from ergo.daemon.core import Backends, Daemon
    from ergo.daemon.filewatch import POLL_SECONDS, ConfigWatcher
    from ergo.idle.select import select_idle_monitor
    from ergo.daemon.instance import InstanceLock
    from ergo.notify.select import FallbackNotifier, select_notifier
    from ergo.session.select import start_watchers
    from ergo.records.store import Store

    if os.name == "posix":
        os.umask(0o077)  # every file the daemon creates (state, WAL, logs) is private

    lock = InstanceLock(paths.lock_file)
    if check is None:  # under `ergo start`, which reports a bad config itself: lock and open while the check runs
        lock.acquire()
        store: Store | None = Store(paths.state_db, alive_marker=paths.alive_marker)
        try:
            loaded = read_checked(sys.stdin.read(), paths.config_file)
        except BaseException:
            store.close()
            lock.release()
            raise
    else:  # `ergo run`: the check first, so a bad config says so even when ergo runs already
        loaded = finish_check(check, paths.config_file)
        lock.acquire()
        store = Store(paths.state_db, alive_marker=paths.alive_marker)
    _setup_logging(loaded.settings.log_level, paths.log_file)
    server = watcher = system_watcher = daemon = late = None
    try:
        notifier, notifier_reason = select_notifier(loaded.settings.notifier, answers=True)
        idle, idle_reason = select_idle_monitor(loaded.settings.idle.backend)
        if idle_reason.startswith("none"):
            idle.close()
            idle = None
        fallback = FallbackNotifier(notifier, reason=notifier_reason)
        if loaded.settings.notifier in ("auto", "freedesktop") and sys.platform.startswith("linux"):
            from ergo.notify.late import LateDesktop

            late = LateDesktop(fallback)  # a notification server (or bus) that comes up after ergo is used
        backends = Backends(fallback, notifier_reason, idle, idle_reason, start_watchers,
                            answers=getattr(notifier, "answers", None), select_busy=_select_busy)
        daemon = Daemon(paths, loaded, backends, store, flags=flags)
        watcher = ConfigWatcher(paths.config_file)
        if pipe_transport():  # Windows: no AF_UNIX; a named pipe with an authkey instead
            from ergo.control.pipe import PipeControlServer

            server = PipeControlServer(paths.socket, daemon.handle, housekeeping=daemon.housekeeping,
                                       period=HOUSEKEEPING_SECONDS)
        else:
            server = ControlServer(paths.socket, daemon.handle, housekeeping=daemon.housekeeping, period=HOUSEKEEPING_SECONDS)
            daemon.on_change = server.changed
        _watch_config(watcher, server, daemon, POLL_SECONDS)
        if paths.system_config_file is not None:
            system_watcher = ConfigWatcher(paths.system_config_file, create_folder=False)
            _watch_config(system_watcher, server, daemon, POLL_SECONDS, job_id="system-config-poll")

        def on_signal(signum: int, _frame: object) -> None:
            if signum == getattr(signal, "SIGHUP", None):
                daemon.request_reload("SIGHUP")  # folded: a storm of signals runs one check at a time
            else:
                daemon.request_stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, on_signal)
        daemon.start()
        if late is not None:
            late.on_answers = daemon.attach_answers
            late.start()
        if server is not None:
            server.start()
            # The Unix socket is where the README says; a named pipe (Windows) is worth the one extra line.
            (log.info if pipe_transport() else log.debug)("control %s: %s", "pipe" if pipe_transport() else "socket",
                                                          getattr(server, "address", paths.socket))
        if not daemon.stop_requested.wait(2.0):  # after `ergo start` has its first answer
            _release_startup_memory()
        while not daemon.stop_requested.wait(3600):
            pass
    finally:
        if late is not None:
            late.stop()
        if server is not None:
            server.stop()
        if daemon is not None:
            daemon.stop()
        if watcher is not None:
            watcher.close()
        if system_watcher is not None:
            system_watcher.close()
        if store is not None:
            store.close()
        lock.release()
    return 0


def _release_startup_memory() -> None:
    """Hand back to the OS the heap that imports and startup left free (glibc keeps it otherwise)."""
    import gc

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass


def _watch_config(watcher: Any, server: Any, daemon: Any, poll_seconds: float, job_id: str = "config-poll") -> None:
    """Reload shortly after the config file changes (debounced: editors write in several steps)."""
    pending: dict[str, threading.Timer] = {}

    def reload_soon() -> None:
        if "timer" in pending:
            pending["timer"].cancel()
        timer = threading.Timer(0.3, lambda: watcher.changed() and daemon.reload("file changed"))
        timer.daemon = True
        pending["timer"] = timer
        timer.start()

    fd = watcher.fileno()
    if fd is not None and hasattr(server, "watch_fd"):  # the Unix socket's loop also watches inotify
        server.watch_fd(fd, lambda: watcher.drain() and reload_soon())
        return
    from apscheduler.triggers.interval import IntervalTrigger

    daemon.scheduler.add_job(lambda: watcher.changed() and daemon.reload("file changed"),
                             IntervalTrigger(seconds=poll_seconds), id=job_id)


START_WAIT = 60  # seconds `ergo start` waits for the daemon it started to answer


def start(config: str | None, flags: dict[str, Any], args: argparse.Namespace) -> int:
    """Start `ergo run` detached, wait until it answers, say where it logs."""
    from ergo.config.frozen import start_check
    from ergo.control.client import request
    from ergo.errors import ConfigError
    from ergo.daemon.instance import running_pid

    # The config is checked once: this process starts the check child at once (it never loads
    # pydantic itself) and the daemon, started alongside, reads the child's answer on its stdin.
    # A broken config makes the daemon exit 2, and the child's one-line error is printed here.
    paths = Paths.resolve(config)
    ensure_private_dir(paths.runtime_dir)  # before reading a lock file someone else may have put there
    pid = running_pid(paths.lock_file)
    if pid is not None:
        raise AlreadyRunning(f"ergo is already running (pid {pid})")
    check = start_check(paths.config_file, flags)
    argv = [sys.executable, "-m", "ergo", "run", "--checked-settings-on-stdin"]
    if config:
        argv += ["--config", str(config)]
    if getattr(args, "notifier", None):
        argv += ["--notifier", args.notifier]
    for item in getattr(args, "overrides", None) or []:
        argv += ["--set", item]
    private_state_dir(paths.state_dir)
    with _open_log(paths.log_file) as log_file:
        options: dict[str, Any] = {"start_new_session": True} if os.name == "posix" else {
            "creationflags": getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
        process = subprocess.Popen(argv, stdin=check.stdout, stdout=log_file, stderr=log_file, close_fds=True, **options)
    assert check.stdout is not None and check.stderr is not None
    check.stdout.close()  # the daemon holds the read end now
    # Long: on a loaded machine (ten starts at once, a busy laptop at login) the daemon may need many
    # seconds to answer, and giving up while it still starts would report a failure and leave it running.
    # The wait ends as soon as it answers, or when it exits.
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        exited = process.poll() is not None
        if exited and running_pid(paths.lock_file) is None:
            check.wait()
            problems = [line for line in check.stderr.read().splitlines() if line.strip()]
            if check.returncode != 0 and problems:
                raise ConfigError(problems[-1].removeprefix("ergo: "))
            tail = _tail(paths.log_file)
            if process.returncode == ConfigError.exit_code:
                raise ConfigError(tail.removeprefix("ergo: "))
            if process.returncode == ErgoError.exit_code and tail.startswith("ergo: "):
                raise ErgoError(tail.removeprefix("ergo: "))  # the daemon's own one line (a state file it cannot open...)
            raise ErgoError(f"ergo exited at start (code {process.returncode}): {tail}")
        try:
            answer = request(paths.socket, "status", timeout=1)
        except ErgoError:
            time.sleep(0.01)
            continue
        check.wait()
        check.stderr.close()
        if answer.get("pid") != process.pid:  # a parallel `ergo start` won the lock: say so, with the live pid
            raise AlreadyRunning(f"ergo is already running (pid {answer.get('pid')})")
        print(f"ergo started (pid {process.pid}); log: {paths.log_file}")
        return 0
    raise ErgoError(f"ergo did not answer within {START_WAIT} s; see {paths.log_file}")


def _open_log(path: Any) -> Any:
    """The log file for appending, created 0600 (reminders and history details are personal)."""
    try:
        return os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")
    except OSError as error:
        raise StateError(f"log file {path}: cannot write it ({error.strerror or error})") from None


def _tail(path: Any) -> str:
    try:
        lines = [l for l in path.read_text(errors="replace").splitlines() if l.strip()]
    except OSError:
        return "no log"
    return lines[-1] if lines else "no log"


def _select_busy(meetings: Any) -> tuple[list[Any], list[str]]:
    """The busy sources [meetings] turns on that work here (ergo.busy.select), with a reason each."""
    from ergo.busy.select import select_sources

    return select_sources(meetings.microphone, meetings.camera, meetings.fullscreen, meetings.calendar)
