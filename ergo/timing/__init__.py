"""The timing core: when to remind, as pure decisions over plain data and a clock passed in.

- `policy.py`: the Engine (every rule in its docstring); `clock.py`: the clock seam;
- `worktime.py`: work hours per weekday; `breaks.py`: the timed-break countdown;
- `durations.py`: human durations ("20m", "1h30m") to and from timedelta.

Nothing here imports APScheduler, D-Bus, sockets or SQLite: those sit in `ergo/daemon/`.
"""
