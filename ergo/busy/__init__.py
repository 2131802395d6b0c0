"""Is the person busy (a call, a presentation, full screen, a meeting)? One small Protocol, one module per
source, one select.py that starts what works here and says why.

- `base.py`: `Busy` (a reason and maybe an end) and the `BusySource` Protocol;
- `microphone.py`: a recording stream on PulseAudio / PipeWire (pulsectl), event-driven while held;
- `camera.py`: a process of the user holds a video device open (Linux /proc);
- `x11.py`: the focused window is full screen (EWMH, libX11 through ctypes);
- `sway.py`: the focused container is full screen (sway's IPC socket);
- `inhibit.py`: the desktop inhibits idle (GNOME's session manager, KDE's power management), what video
  players and presentation tools ask for where the desktop shows no window states;
- `calendar.py`: an event marked busy in .ics files or folders (icalendar, recurring-ical-events).

Nothing here runs on its own: the daemon asks when a reminder is due (`daemon/busy.py`).
"""
