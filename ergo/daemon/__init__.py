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
Engine data). Beside them, the edges the daemon alone uses: triggers.py (two APScheduler
triggers), apscheduler_slim.py (APScheduler without asyncio), filewatch.py (the config
watcher), instance.py (one daemon per user), logfile.py (the size-capped log).

This file imports nothing, so `ergo.daemon.instance` stays as light as the CLI needs:
import what you use from its module (`from ergo.daemon.core import Daemon`).
"""
