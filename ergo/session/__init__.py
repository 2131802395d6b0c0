"""The desktop session as events: suspend/resume (logind), lock/unlock, do-not-disturb.

Each watcher owns one daemon thread and hands SessionEvents to the daemon's
``emit``; ``start_watchers`` starts what can run here and says why.
"""

from ergo.session.dnd import is_dnd_active
from ergo.session.events import EventKind, SessionEvent, SessionWatcher
from ergo.session.select import start_watchers, stop_watchers

__all__ = ["EventKind", "SessionEvent", "SessionWatcher", "is_dnd_active", "start_watchers",
           "stop_watchers"]
