"""The microphone is in use: a recording stream on the user's PulseAudio server (PipeWire answers the
same protocol through pipewire-pulse), other than one that records a monitor of an output.

Uses pulsectl (a maintained ctypes binding of libpulse). A connection is opened for a check and closed
after it, so an idle daemon holds none; while a reminder is held for a call, `wait` subscribes to the
server's source-output events and returns on the first one (event-driven, no polling).
"""

from __future__ import annotations

import os
import threading
from datetime import datetime

from ergo.busy.base import Busy, plain
from ergo.errors import BackendUnavailable


def server_reason() -> str | None:
    """None when a PulseAudio-protocol server may be reachable, else why not (imports nothing)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if not os.environ.get("PULSE_SERVER") and not (runtime and os.path.exists(os.path.join(runtime, "pulse", "native"))):
        return "no PulseAudio or PipeWire server socket ($XDG_RUNTIME_DIR/pulse/native)"
    return None


def probe() -> str | None:
    """None when the server may be reachable and pulsectl can load libpulse, else why not."""
    reason = server_reason()
    if reason is not None:
        return reason
    try:
        import pulsectl  # noqa: F401
    except ImportError:
        return "pulsectl is not installed"
    except OSError as error:  # libpulse0 missing
        return f"pulsectl cannot load libpulse ({error})"
    return None


class MicrophoneSource:
    name = "microphone (PulseAudio)"
    events = True  # wait() returns on the server's events

    def __init__(self) -> None:
        reason = probe()
        if reason is not None:
            raise BackendUnavailable(reason)
        import pulsectl

        self._pulsectl = pulsectl

    def _connect(self):  # noqa: ANN202 - pulsectl.Pulse
        return self._pulsectl.Pulse("ergo", connect=True, threading_lock=False)

    def check(self, now: datetime) -> Busy | None:
        try:
            with self._connect() as pulse:
                monitors = {s.index for s in pulse.source_list() if s.monitor_of_sink != 0xFFFFFFFF}
                for stream in pulse.source_output_list():
                    if stream.source in monitors or getattr(stream, "corked", False):
                        continue
                    props = stream.proplist
                    who = (props.get("application.process.binary") or props.get("application.name")
                           or stream.name or "an application")
                    return Busy(f"in a call (microphone in use by {plain(who, 40)})")
        except Exception:  # pulsectl.PulseError and friends: the server went away, so it cannot say busy
            return None
        return None

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Until a recording stream comes or goes (or `timeout`, or `stop`: checked every second)."""
        pulsectl = self._pulsectl
        try:
            with self._connect() as pulse:
                changed = []

                def on_event(event) -> None:  # noqa: ANN001
                    changed.append(event)
                    raise pulsectl.PulseLoopStop

                pulse.event_mask_set("source_output")
                pulse.event_callback_set(on_event)
                left = timeout
                while left > 0 and not changed and not stop.is_set():
                    step = min(1.0, left)
                    pulse.event_listen(timeout=step)
                    left -= step
        except Exception:
            stop.wait(min(timeout, 5.0))

    def close(self) -> None:
        pass
