"""How long the person has been away from the keyboard: one Protocol, one module per backend.

Backends import their dependencies (jeepney, ctypes libraries) only when chosen;
``select_idle_monitor`` picks one and says why.
"""

from ergo.idle.base import IdleError, IdleMonitor, IdleWatcher
from ergo.idle.select import BACKENDS, select_idle_monitor

__all__ = ["BACKENDS", "IdleError", "IdleMonitor", "IdleWatcher", "select_idle_monitor"]
