"""Sources whose libraries would stay in the daemon's memory for good (libpulse through pulsectl, about
3 MB; icalendar and recurring-ical-events with dateutil, about 3 MB) are asked in a short child process
instead, only when a reminder is due or held, like the config check child (ergo.config.check).

    python -m ergo.busy.child microphone check          -> {"reason": ..., "until": ...} or {}
    python -m ergo.busy.child microphone wait SECONDS   -> returns on the server's next event
    python -m ergo.busy.child calendar check PATH...    -> the same, from the .ics files

`ChildSource` is the daemon's side: the BusySource the daemon holds, with none of those imports.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import Any

from ergo.busy.base import Busy

CHECK_TIMEOUT = 10.0  # seconds a check child may take (a first import on a cold disk included)


class ChildSource:
    """A BusySource answered by `python -m ergo.busy.child KIND ...`; a failing child counts as not busy."""

    def __init__(self, kind: str, name: str, args: tuple[str, ...] = (), events: bool = False,
                 recheck: float = 10.0) -> None:
        self.kind, self.name, self.args, self.events, self.recheck = kind, name, args, events, recheck
        self.last_error: str | None = None

    def _argv(self, action: str, *extra: str) -> list[str]:
        return [sys.executable, "-m", "ergo.busy.child", self.kind, action, *extra, *self.args]

    def check(self, now: datetime) -> Busy | None:
        try:
            done = subprocess.run(self._argv("check"), capture_output=True, text=True, timeout=CHECK_TIMEOUT,
                                  stdin=subprocess.DEVNULL)
            answer = json.loads(done.stdout or "{}") if done.returncode == 0 else {}
        except (OSError, subprocess.TimeoutExpired, ValueError) as error:
            self.last_error = str(error)
            return None
        if done.returncode != 0:
            self.last_error = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            return None
        self.last_error = None
        reason, until = answer.get("reason"), answer.get("until")
        if not isinstance(reason, str) or not reason:
            return None
        try:
            end = datetime.fromisoformat(until) if isinstance(until, str) else None
        except ValueError:
            end = None
        return Busy(reason[:120], end)

    def wait(self, timeout: float, stop: threading.Event) -> None:
        if not self.events:
            stop.wait(timeout)
            return
        try:
            child = subprocess.Popen(self._argv("wait", f"{timeout:.1f}"), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            stop.wait(min(timeout, 5.0))
            return
        started = time.monotonic()
        try:
            while child.poll() is None and not stop.wait(0.25):
                if time.monotonic() - started > timeout + CHECK_TIMEOUT:
                    break
            if child.returncode not in (None, 0):  # the child could not listen: do not spin
                stop.wait(min(timeout, 5.0))
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

    def close(self) -> None:
        pass


class CalendarChild(ChildSource):
    """The calendar, read in a child; while held, the files' sizes and times are compared every
    FILES_POLL seconds (a stat each, in the daemon), so an edit or a sync is read at once."""

    FILES_POLL = 2.0

    def __init__(self, paths: tuple[str, ...]) -> None:
        super().__init__("calendar", "calendar (.ics files, read in a child process)", paths, recheck=300.0)

    def signature(self) -> tuple[tuple[str, int, int], ...]:
        import os

        from ergo.busy.calendar import MAX_FILES

        found: list[tuple[str, int, int]] = []
        for name in self.args:
            top = os.path.expanduser(name)
            walk = os.walk(top) if os.path.isdir(top) else [(os.path.dirname(top), [], [os.path.basename(top)])]
            for root, _dirs, files in walk:
                for file in files:
                    path = os.path.join(root, file)
                    try:
                        info = os.stat(path)
                    except OSError:
                        continue
                    found.append((path, info.st_size, info.st_mtime_ns))
                if len(found) > MAX_FILES:
                    break
        return tuple(sorted(found))

    def wait(self, timeout: float, stop: threading.Event) -> None:
        before = self.signature()
        deadline = time.monotonic() + timeout
        while not stop.wait(max(0.0, min(self.FILES_POLL, deadline - time.monotonic()))):
            if time.monotonic() >= deadline or self.signature() != before:
                return


def _answer(found: Busy | None) -> dict[str, Any]:
    if found is None:
        return {}
    return {"reason": found.reason, "until": found.until.isoformat() if found.until else None}


def main(argv: list[str]) -> int:
    from datetime import timezone

    from ergo.errors import BackendUnavailable

    if len(argv) < 2:
        print("usage: python -m ergo.busy.child microphone|calendar check|wait [SECONDS] [PATH...]", file=sys.stderr)
        return 2
    kind, action, rest = argv[0], argv[1], argv[2:]
    now = datetime.now(timezone.utc)
    try:
        if kind == "microphone":
            from ergo.busy.microphone import MicrophoneSource

            source: Any = MicrophoneSource()
        elif kind == "calendar":
            from ergo.busy.calendar import CalendarSource

            source = CalendarSource(tuple(rest))
        else:
            print(f"unknown source {kind!r}", file=sys.stderr)
            return 2
    except BackendUnavailable as error:
        print(f"{kind}: {error}", file=sys.stderr)
        return 1
    if action == "check":
        print(json.dumps(_answer(source.check(now))))
        for problem in getattr(source, "problems", ()):
            print(problem, file=sys.stderr)
        return 0
    if action == "wait" and rest:
        source.wait(float(rest[0]), threading.Event())
        return 0
    print(f"unknown action {action!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
