"""The `ergo` command line: argparse adapters over typed command functions, one error boundary.

Heavy modules (apscheduler, pydantic, plyer) are imported only inside the
commands that need them. The control commands in their plain forms (`ergo status
--json`, `ergo pause 30m`, ...) skip argparse too: status bars call them every few
seconds, and building the whole parser costs more than the socket round trip.
"""

from __future__ import annotations

import sys

from ergo.errors import ErgoError, one_line

TYPE_CHECKING = False  # typing, argparse and collections stay off the light path
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

KINDS = ("posture", "hydration", "stretch", "movement", "breathing", "workspace", "strength")  # = config.model.REMINDER_KINDS
KINDS_HINT = ", ".join(KINDS)


# Control commands the light path parses by hand: positional arguments (at least, at most)
# and the one flag each accepts. Anything else (--help, --until, --config, a typo) goes to argparse.
CONTROL_COMMANDS: dict[str, tuple[tuple[str, ...], int, tuple[str, ...]]] = {
    "status": ((), 0, ("--json",)),
    "pause": (("duration",), 0, ()),
    "resume": ((), 0, ()),
    "snooze": (("kind", "duration"), 0, ()),
    "skip": (("kind",), 0, ()),
    "done": (("kind",), 0, ()),
    "break": (("kind",), 1, ()),
    "now": (("kind",), 0, ()),  # no kind: the reminder delivered last
    "reload": ((), 0, ()),
    "stop": ((), 0, ()),
}


class ControlArgs:
    """What argparse would give a control command, built without argparse."""

    def __init__(self, command: str, values: dict[str, object]) -> None:
        self.command = command
        self.json = False
        self.until = None
        self.duration = None  # snooze: 10m unless told (decided in ergo.commands.control)
        self.kind = None
        self.__dict__.update(values)


#: `ergo stats` and `ergo report` in their plain forms, parsed by hand too: they start like status does
#: (their settings come remembered, see ergo.config.cache). Anything else goes to argparse.
RECORD_FLAGS: dict[str, dict[str, tuple[str, object]]] = {
    "stats": {"--day": ("period", "day"), "--week": ("period", "week"), "--month": ("period", "month"),
              "--json": ("json", True)},
    "report": {"--open": ("open", True)},
}


def light_record_args(argv: Sequence[str]) -> ControlArgs | None:
    """`stats [--day|--week|--month] [--json]` or `report --html FILE [--open]`, or None for argparse."""
    if not argv or argv[0] not in RECORD_FLAGS:
        return None
    values: dict[str, object] = {"period": "week", "html": None, "open": False}
    items = list(argv[1:])
    periods = 0
    while items:
        item = items.pop(0)
        if argv[0] == "report" and item == "--html" and items and not items[0].startswith("-") and values["html"] is None:
            values["html"] = items.pop(0)
        elif item in RECORD_FLAGS[argv[0]]:
            name, value = RECORD_FLAGS[argv[0]][item]
            periods += name == "period"
            values[name] = value
        else:
            return None
    if periods > 1 or (argv[0] == "report" and values["html"] is None):
        return None  # argparse says what is wrong
    return ControlArgs(argv[0], values)


def light_control_args(argv: Sequence[str]) -> ControlArgs | None:
    """Parse a plain control command by hand, or None to let argparse handle it (and its errors)."""
    if argv and argv[0] in RECORD_FLAGS:
        return light_record_args(argv)
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


def _completes(action: argparse.Action, what: str) -> argparse.Action:
    """Tag an argument for `ergo completion`: "kind", "plan" or "file" (see ergo.commands.completion)."""
    action.completes = what  # type: ignore[attr-defined]
    return action


def _kind(parser: argparse.ArgumentParser, optional: bool = True, **more: object) -> None:
    """The reminder kind a command acts on."""
    _completes(parser.add_argument("kind", nargs="?" if optional else None, help=KINDS_HINT, **more), "kind")  # type: ignore[arg-type]


def _settings_flags(parser: argparse.ArgumentParser) -> None:
    """--config/--notifier/--set, accepted before or after the subcommand."""
    import argparse

    _completes(parser.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                                   help="config file (default: see `ergo config path`)"), "file")
    parser.add_argument("--notifier", choices=("auto", "freedesktop", "plyer", "osascript", "console"), default=argparse.SUPPRESS,
                        help="where reminders go (overrides config and environment)")
    parser.add_argument("--set", metavar="KEY=VALUE", action="append", default=argparse.SUPPRESS, dest="overrides",
                        help="override any setting, e.g. --set hydration.interval=20m (repeatable)")


def build_parser(tray_hint: str | None = None) -> argparse.ArgumentParser:
    """The whole command line. `tray_hint`: how to add the tray extra (default: for this installation)."""
    import argparse

    if tray_hint is None:
        from ergo.distribution import extra_hint

        tray_hint = extra_hint("tray")

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
    status.add_argument("--follow", action="store_true", help="keep printing: a line on every change and once a minute")
    status.add_argument("--format", choices=("json", "waybar", "plain"), default=None,
                        help="with --follow: json (default), waybar (return-type json) or plain (polybar, i3blocks)")
    pause = sub.add_parser("pause", parents=[common], help="pause all reminders (no argument: until `ergo resume`)")
    pause.add_argument("duration", nargs="?", help="how long, e.g. 30m or 1h30m")
    pause.add_argument("--until", metavar="HH:MM", help="pause until this local time")
    sub.add_parser("resume", parents=[common], help="end a pause")
    done = sub.add_parser("done", parents=[common], help="answer a reminder: break taken (no kind: the last one delivered)")
    _kind(done)
    snooze = sub.add_parser("snooze", parents=[common],
                            help="remind again later (default 10m; no kind: the last one delivered)")
    _kind(snooze)
    snooze.add_argument("duration", nargs="?", default=None)
    skip = sub.add_parser("skip", parents=[common],
                          help="skip a reminder; its countdown restarts (no kind: the last one delivered)")
    _kind(skip)
    take = sub.add_parser("break", parents=[common],
                          help="take a timed break now: a countdown, recorded as done when it ends")
    _kind(take, optional=False)
    now = sub.add_parser("now", parents=[common],
                         help="take a break now: deliver a reminder and restart its countdown (no kind: the last one delivered again)")
    _kind(now)
    sub.add_parser("reload", parents=[common], help="re-read the config file now")

    tips = sub.add_parser("tips", parents=[common], help="list the tips and where each comes from")
    _kind(tips)
    schedule = sub.add_parser("schedule", parents=[common], help="print the coming reminders as a timeline")
    schedule.add_argument("--hours", type=float, default=8.0, help="how far ahead (default 8)")
    schedule.add_argument("--plan", action="store_true", help="only the running plan's steps, until it ends")
    plan = sub.add_parser("plan", help="opt-in routines from the documents (acute-back, after-workout)")
    plan_sub = plan.add_subparsers(dest="action", metavar="ACTION", required=True)
    plan_sub.add_parser("list", parents=[common], help="the plans, their steps and sources")
    plan_start = plan_sub.add_parser("start", parents=[common], help="start a plan now")
    _completes(plan_start.add_argument("name", help="acute-back or after-workout"), "plan")
    plan_start.add_argument("--days", metavar="N", help="acute-back: end after N days (4 to 14, default 7)")
    plan_start.add_argument("--cold-every", metavar="DURATION", help="acute-back: cold pack interval (2h to 4h, default 3h)")
    plan_start.add_argument("--heat-per-day", metavar="N", help="acute-back: moist heat times a day (1 to 6, default 3)")
    plan_start.add_argument("--waking", metavar="HH:MM-HH:MM", help="waking hours for the steps (default: [schedule] hours, else 08:00-22:00)")
    plan_sub.add_parser("status", parents=[common], help="the running plan and its next steps")
    plan_sub.add_parser("stop", parents=[common], help="end the running plan now")
    test = sub.add_parser("notify-test", parents=[common], help="send one reminder now and report how it went")
    _kind(test, default="posture")
    history = sub.add_parser("history", parents=[common], help="a diary: each reminder and what became of it")
    history.add_argument("--days", type=float, default=1.0, help="how far back (default 1)")
    history.add_argument("--json", action="store_true")

    stats = sub.add_parser("stats", parents=[common], help="per kind and per day: reminders, breaks, longest stretch")
    span = stats.add_mutually_exclusive_group()
    for name in ("day", "week", "month"):
        span.add_argument(f"--{name}", dest="period", action="store_const", const=name,
                          help=f"this {name}" if name == "day" else f"the last {7 if name == 'week' else 30} days")
    stats.set_defaults(period="week")
    stats.add_argument("--json", action="store_true")

    report = sub.add_parser("report", parents=[common], help="write the week as one self-contained HTML page")
    _completes(report.add_argument("--html", metavar="FILE", required=True, help="where to write the page"), "file")
    report.add_argument("--open", action="store_true", help="open it in the web browser")

    config = sub.add_parser("config", help="inspect or create the config file")
    config_sub = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    config_sub.add_parser("path", parents=[common], help="where the config file is")
    show = config_sub.add_parser("show", parents=[common], help="effective settings and where each came from (* = not the default)")
    show.add_argument("--changed", action="store_true", help="only the values that differ from the built-in defaults")
    config_sub.add_parser("edit", parents=[common], help="open the config file in $VISUAL/$EDITOR, check it, reload the daemon")
    init = config_sub.add_parser("init", parents=[common], help="write the documented default config file")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    validate = config_sub.add_parser("validate", parents=[common], help="check a config file")
    _completes(validate.add_argument("path", nargs="?", help="the file (default: the config file in use)"), "file")
    imp = config_sub.add_parser("import", parents=[common], help="take over the settings of Safe Eyes, Stretchly or Workrave")
    imp.add_argument("--from", dest="program", required=True, choices=("safeeyes", "stretchly", "workrave"),
                     help="the other break timer")
    _completes(imp.add_argument("path", nargs="?", help="its settings file (default: where it keeps them; Workrave: live gsettings)"), "file")
    imp.add_argument("--dry-run", action="store_true", help="print the change as a diff, write nothing")

    tray = sub.add_parser("tray", parents=[common], help=f"a tray icon with a menu (the X11 tray needs the tray extra: {tray_hint})")
    tray.add_argument("--backend", choices=("auto", "sni", "xembed"), default="auto",
                      help="StatusNotifierItem (KDE, waybar, GNOME with AppIndicator) or the X11 system tray")
    tray.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                      help="if no tray host runs yet, keep looking this long (login: the panel may start later)")
    service = sub.add_parser("service", help="start ergo at login (systemd, launchd, Windows Startup)")
    service.add_argument("action", choices=("install", "uninstall", "status"))
    service.add_argument("--dry-run", action="store_true", help="print what would be written and run")
    service.add_argument("--xdg", action="store_true",
                         help="Linux: use XDG autostart (~/.config/autostart/ergo.desktop) instead of systemd")
    service.add_argument("--tray", action="store_true", help="also start the tray icon (`ergo tray`) with the session")
    _settings_flags(service)
    completion = sub.add_parser("completion", help="print a shell completion script (see `man ergo` or the README for where it goes)")
    from ergo.commands.completion import SYSTEM_PATHS  # light: argparse and ergo.errors

    completion.add_argument("shell", choices=tuple(SYSTEM_PATHS))
    return parser


def manpage_parser() -> argparse.ArgumentParser:
    """The parser as the man page shows it (argparse-manpage calls this at build time): install hints for every way."""
    from ergo.distribution import generic_hint

    return build_parser(tray_hint=generic_hint("tray"))


def completion_script(shell: str) -> str:
    """`ergo completion SHELL`'s output (the build installs the same scripts, see setup.py)."""
    from ergo.commands.completion import script

    return script(shell, build_parser(tray_hint=""), KINDS)


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
    if command in ("status", "pause", "resume", "snooze", "skip", "now", "reload", "stop", "done", "break"):
        from ergo.commands import control

        return control.run(command, args)
    if command in ("run", "start"):
        from ergo.commands import daemon

        if command == "run":
            return daemon.run(config, _flags(args), args)
        return daemon.start(config, _flags(args), args)
    if command == "schedule" and not getattr(args, "plan", False) and not _flags(args):
        from ergo.commands import control
        from ergo.paths import Paths

        shown = control.schedule(str(Paths.resolve(config).socket), args.hours)  # the running ergo's own timeline
        if shown is not None:
            return shown
    if command == "plan":
        from ergo.commands import plan as plan_commands

        return plan_commands.run(args.action, config, _flags(args), args)
    if command == "config":
        from ergo.commands import config as config_commands

        return config_commands.run(args.action, config, _flags(args), args)
    if command == "tray":
        from ergo.tray.app import run as tray

        return tray(args.backend, args.wait)
    if command == "completion":
        sys.stdout.write(completion_script(args.shell))
        return 0
    if command == "service":
        from ergo.commands.service import run as service

        return service(args.action, dry_run=args.dry_run, config_path=config, out=sys.stdout, xdg=args.xdg, tray=args.tray)
    from ergo.commands import info

    return info.run(command, config, _flags(args), args)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: every ErgoError becomes one line on stderr and its exit code."""
    if getattr(sys.stdout, "errors", None) == "strict" and hasattr(sys.stdout, "reconfigure"):
        # a terminal or pipe that cannot show a translated letter (an ASCII locale, PYTHONIOENCODING=ascii)
        # shows '?' for it: never a traceback halfway through `ergo stats` in German
        sys.stdout.reconfigure(errors="replace")
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
        print(one_line(error), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
