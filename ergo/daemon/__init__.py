"""The daemon: wires the pure Engine to APScheduler, the notifier, idle and session
watchers, the control socket, the config file watcher and the SQLite store.

Threads: APScheduler's loop plus one executor thread run timer jobs; the control
thread serves the socket, watches the config file and checks for clock jumps;
session watchers and the answers listener each own one thread. Every touch of the
Engine happens under one lock (`Daemon.lock`, an RLock handed to each part), so
decisions are serialised.

Read it in this order: core.py (the Daemon: build, start, stop, `apply` outcomes),
state.py (store writes that survive a full disk), delivery.py (timers, notifications),
presence.py (idle, session events, clock jumps), answers.py (buttons, timed breaks),
plans.py (plan steps), control.py (requests, status, reload), specs.py (settings to
Engine data).
"""

from ergo.daemon.core import Backends, Daemon
from ergo.daemon.presence import IDLE_AWAY, IDLE_FAST, IDLE_FASTEST, IDLE_NONE, IDLE_SLOW, NEAR, idle_poll_delay
from ergo.daemon.specs import specs_from

__all__ = ["Backends", "Daemon", "IDLE_AWAY", "IDLE_FAST", "IDLE_FASTEST", "IDLE_NONE", "IDLE_SLOW", "NEAR",
           "idle_poll_delay", "specs_from"]
