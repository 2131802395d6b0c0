"""The `ergo` command line: argparse adapters over typed command functions, one error boundary.

Heavy modules (apscheduler, pydantic, plyer) are imported only inside the
commands that need them. The control commands in their plain forms (`ergo status
--json`, `ergo pause 30m`, ...) skip argparse too: status bars call them every few
seconds, and building the whole parser costs more than the socket round trip.
"""

from __future__ import annotations

import sys

from ergo.errors import ErgoError

TYPE_CHECKING = False  # typing, argparse and collections stay off the light path
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

KINDS_HINT = "posture, hydration, stretch, movement, breathing, workspace, strength"


# Control commands the light path parses by hand: positional arguments (at least, at most)
# and the one flag each accepts. Anything else (--help, --until, --config, a typo) goes to argparse.
CONTROL_COMMANDS: dict[str, tuple[tuple[str, ...], int, tuple[str, ...]]] = {
    "status": ((), 0, ("--json",)),
    "pause": (("duration",), 0, ()),
    "resume": ((), 0, ()),
    "snooze": (("kind", "duration"), 1, ()),
    "skip": (("kind",), 1, ()),
    "now": (("kind",), 1, ()),
    "reload": ((), 0, ()),
    "stop": ((), 0, ()),
}


class ControlArgs:
    """What argparse would give a control command, built without argparse."""

    def __init__(self, command: str, values: dict[str, object]) -> None:
        self.command = command
        self.json = False
        self.until = None
        self.duration = "10m" if command == "snooze" else None
        self.__dict__.update(values)


def light_control_args(argv: Sequence[str]) -> ControlArgs | None:
    """Parse a plain control command by hand, or None to let argparse handle it (and its errors)."""
    if not argv or argv[0] not in CONTROL_COMMANDS:
        return None
    names, required, flags = CONTROL_COMMANDS[argv[0]]
    values: dict[str, object] = {}
    positional: list[str] = []
    for item in argv[1:]:
        if item in flags:
            values[item[2:]] = True
        elif item.startswith("-"):
            return None
        else:
            positional.append(item)
    if not required <= len(positional) <= len(names):
        return None
    values.update(zip(names, positional))
    return ControlArgs(argv[0], values)


def _settings_flags(parser: argparse.ArgumentParser) -> None:
    """--config/--notifier/--set, accepted before or after the subcommand."""
    import argparse

    parser.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="config file (default: see `ergo config path`)")
    parser.add_argument("--notifier", choices=("auto", "freedesktop", "plyer", "console"), default=argparse.SUPPRESS,
                        help="where reminders go (overrides config and environment)")
    parser.add_argument("--set", metavar="KEY=VALUE", action="append", default=argparse.SUPPRESS, dest="overrides",
                        help="override any setting, e.g. --set hydration.interval=20m (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(prog="ergo", description="Ergonomics reminders: posture, water, stretching and movement.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    _settings_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    _settings_flags(common)

    run = sub.add_parser("run", parents=[common], help="run the daemon in the foreground (for terminals, systemd, launchd)")
    run.add_argument("--checked-settings-on-stdin", action="store_true", dest="settings_on_stdin",
                     help=argparse.SUPPRESS)  # `ergo start` runs the one config check itself, see commands/daemon.py
    sub.add_parser("start", parents=[common], help="start the daemon in the background")
    sub.add_parser("stop", parents=[common], help="stop the background daemon")

    status = sub.add_parser("status", parents=[common], help="show what the daemon is doing")
    status.add_argument("--json", action="store_true", help="machine-readable, for status bars")
    pause = sub.add_parser("pause", parents=[common], help="pause all reminders (no argument: until `ergo resume`)")
    pause.add_argument("duration", nargs="?", help="how long, e.g. 30m or 1h30m")
    pause.add_argument("--until", metavar="HH:MM", help="pause until this local time")
    sub.add_parser("resume", parents=[common], help="end a pause")
    snooze = sub.add_parser("snooze", parents=[common], help="put one reminder off (default 10m)")
    snooze.add_argument("kind", help=KINDS_HINT)
    snooze.add_argument("duration", nargs="?", default="10m")
    skip = sub.add_parser("skip", parents=[common], help="skip the next reminder of a kind; its countdown restarts")
    skip.add_argument("kind", help=KINDS_HINT)
    now = sub.add_parser("now", parents=[common], help="take a break now: deliver a reminder and restart its countdown")
    now.add_argument("kind", help=KINDS_HINT)
    sub.add_parser("reload", parents=[common], help="re-read the config file now")

    tips = sub.add_parser("tips", parents=[common], help="list the tips and where each comes from")
    tips.add_argument("kind", nargs="?", help=KINDS_HINT)
    schedule = sub.add_parser("schedule", parents=[common], help="print the coming reminders as a timeline")
    schedule.add_argument("--hours", type=float, default=8.0, help="how far ahead (default 8)")
    test = sub.add_parser("notify-test", parents=[common], help="send one reminder now and report how it went")
    test.add_argument("kind", nargs="?", default="posture", help=KINDS_HINT)
    history = sub.add_parser("history", parents=[common], help="what was delivered, skipped or taken as a natural break")
    history.add_argument("--days", type=float, default=1.0, help="how far back (default 1)")
    history.add_argument("--json", action="store_true")

    config = sub.add_parser("config", help="inspect or create the config file")
    config_sub = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    config_sub.add_parser("path", parents=[common], help="where the config file is")
    config_sub.add_parser("show", parents=[common], help="effective settings and where each came from")
    init = config_sub.add_parser("init", parents=[common], help="write the documented default config file")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    validate = config_sub.add_parser("validate", parents=[common], help="check a config file")
    validate.add_argument("path", nargs="?", help="the file (default: the config file in use)")
    imp = config_sub.add_parser("import", parents=[common], help="take over the settings of Safe Eyes, Stretchly or Workrave")
    imp.add_argument("--from", dest="program", required=True, choices=("safeeyes", "stretchly", "workrave"),
                     help="the other break timer")
    imp.add_argument("path", nargs="?", help="its settings file (default: where it keeps them; Workrave: live gsettings)")
    imp.add_argument("--dry-run", action="store_true", help="print the change as a diff, write nothing")

    service = sub.add_parser("service", help="start ergo at login (systemd, launchd, Windows Startup)")
    service.add_argument("action", choices=("install", "uninstall", "status"))
    service.add_argument("--dry-run", action="store_true", help="print what would be written and run")
    _settings_flags(service)
    return parser


def _flags(args: argparse.Namespace) -> dict:
    """Command-line settings as a nested dict for the settings loader (highest precedence)."""
    flags: dict = {}
    if getattr(args, "notifier", None):
        flags["notifier"] = args.notifier
    for item in getattr(args, "overrides", None) or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ErgoError(f'--set {item}: write it as KEY=VALUE, e.g. --set hydration.interval=20m')
        node = flags
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ErgoError(f"--set {item}: {part} is not a section")
        node[parts[-1]] = value
    return flags


def dispatch(args: argparse.Namespace | ControlArgs) -> int:
    config = getattr(args, "config", None)
    command = args.command
    if command in ("status", "pause", "resume", "snooze", "skip", "now", "reload", "stop"):
        from ergo.commands import control

        return control.run(command, args)
    if command in ("run", "start"):
        from ergo.commands import daemon

        if command == "run":
            return daemon.run(config, _flags(args), args)
        return daemon.start(config, _flags(args), args)
    if command == "config":
        from ergo.commands import config as config_commands

        return config_commands.run(args.action, config, _flags(args), args)
    if command == "service":
        from ergo.commands.service import run as service

        return service(args.action, dry_run=args.dry_run, config_path=config, out=sys.stdout)
    from ergo.commands import info

    return info.run(command, config, _flags(args), args)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: every ErgoError becomes one line on stderr and its exit code."""
    args = light_control_args(sys.argv[1:] if argv is None else argv)
    if args is None:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.version:
            from ergo import __version__

            print(f"ergo {__version__}")
            return 0
        if not args.command:
            parser.print_help()
            return 0
        del parser  # `ergo run` stays in dispatch for its whole life: the parser need not stay in memory
    try:
        return dispatch(args)
    except ErgoError as error:
        print(f"ergo: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
