"""ergo's own exceptions, each turned into one line and an exit code at the CLI boundary.

    ErgoError                  exit 1 unless said otherwise
    ├── ConfigError            exit 2: a bad file, key, value or environment variable
    ├── BackendUnavailable     a named notifier or idle backend cannot run here
    ├── NotifyError            a notification was not delivered
    ├── DaemonNotRunning       a control command found no daemon
    ├── AlreadyRunning         a second daemon for the same user
    ├── ControlError           the daemon answered a control request with an error
    ├── StateError             the state dir or database cannot be used (unwritable, full, not ours)
    └── UnsafeLocation         a runtime dir or socket another user could control
"""

from __future__ import annotations


class ErgoError(Exception):
    """Base of every error that the CLI prints as one line instead of a traceback."""

    exit_code = 1


class ConfigError(ErgoError):
    """Invalid configuration; the message already names the file or variable and key."""

    exit_code = 2
    key: str | None = None  # the dotted setting a validation error is about, when there is one


class BackendUnavailable(ErgoError):
    """A backend cannot run on this machine; the message says why."""


class NotifyError(ErgoError):
    """A notification backend failed to deliver; the message says why."""


class DaemonNotRunning(ErgoError):
    """No daemon is listening on the control socket."""


class AlreadyRunning(ErgoError):
    """Another ergo daemon of this user holds the lock."""


class ControlError(ErgoError):
    """The daemon rejected a control request."""


class StateError(ErgoError):
    """ergo's own files cannot be written or trusted; the message names the path and the real reason."""


class UnsafeLocation(ErgoError):
    """A path ergo must own (runtime dir, control socket) is controlled by someone else; refused."""


def one_line(message: object) -> str:
    """`ergo: MESSAGE` for stderr and the log, without saying ergo twice ("ergo is already running (pid 7)",
    never "ergo: ergo is already running (pid 7)")."""
    text = str(message)
    return text if text.startswith("ergo ") else f"ergo: {text}"
