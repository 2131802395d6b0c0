"""What the everyday commands (`ergo status`, `schedule`, `plan`, the one-line confirmations) need to
speak the reader's language: the language to use, clock times in its format, and the daemon's hold
reasons in its words.

Light like `ergo status`: the standard library's `time` and ergo.i18n (which imports only `os`).
English never loads gettext or Babel and keeps ergo's own formats ("14:05", "Wed 14:05",
"Wed 02 Dec"); any other language formats with Babel's CLDR data (ergo.i18n).
"""

from __future__ import annotations

import time

from ergo import i18n
from ergo.i18n import _

TYPE_CHECKING = False  # datetime and typing stay off English `ergo status` (benchmarks/control.py)
if TYPE_CHECKING:
    from datetime import datetime

def speak(daemon_language: object) -> None:
    """Use the language the daemon's answer asks for: its configured `language` when set, else this
    process's environment (ergo.i18n.for_client)."""
    i18n.use(i18n.for_client(daemon_language))


def _locale() -> str | None:
    """The Babel locale of the language in use, None for English (ergo.i18n remembers it per language)."""
    return i18n.format_locale()


def _datetime(epoch: float) -> datetime:
    """A naive local datetime, for Babel (any language but English)."""
    from datetime import datetime

    return datetime.fromtimestamp(epoch)


def clock(epoch: float, seconds: bool = False) -> str:
    """A local clock time: "14:05" ("14:05:07" with `seconds`) in English; the locale's short (medium) time."""
    code = _locale()
    if code is None:
        return time.strftime("%H:%M:%S" if seconds else "%H:%M", time.localtime(epoch))
    if not seconds:
        return i18n.format_time(_datetime(epoch))
    from babel.dates import format_time

    return format_time(_datetime(epoch), format="medium", locale=code)


def day_clock(epoch: float) -> str:
    """A weekday and a clock time: "Wed 14:05"; "Mi., 14:05" in German."""
    if _locale() is None:
        return time.strftime("%a %H:%M", time.localtime(epoch))
    return i18n.format_date(_datetime(epoch), width="EHm")


def day(epoch: float) -> str:
    """A day heading: "Wed 02 Dec"; "Mi., 2. Dez." in German."""
    if _locale() is None:
        return time.strftime("%a %d %b", time.localtime(epoch))
    return i18n.format_date(_datetime(epoch), width="MMMEd")


def day_and_clock(epoch: float) -> str:
    """A date and a time: "Wed 02 Dec 14:05"; "Mi., 2. Dez., 14:05" in German (the locale joins them)."""
    code = _locale()
    if code is None:
        return time.strftime("%a %d %b %H:%M", time.localtime(epoch))
    from babel import Locale

    joined = Locale.parse(code).datetime_formats.get("short", "{1} {0}")
    return str(joined).replace("{1}", day(epoch)).replace("{0}", clock(epoch))


def local(iso_epoch: float | None, with_day: bool = False) -> str:
    """A moment as `ergo status` shows it: the clock time today (with seconds when it has some), the
    weekday too when it is another day or `with_day`; "-" for none."""
    if iso_epoch is None:
        return "-"
    value = time.localtime(iso_epoch)
    if value[:3] != time.localtime()[:3] or with_day:
        return day_clock(iso_epoch)
    return clock(iso_epoch, seconds=bool(value.tm_sec))


def hold(code: str | None) -> str:
    """The daemon's reason for holding reminders (ergo.timing.policy.Engine.hold and the status's `held`)
    in the reader's words; a reason this ergo does not know is shown as the daemon sent it."""
    words = {
        "paused": _("paused"),
        "asleep": _("asleep"),
        # TRANSLATORS: the screen is locked
        "locked": _("locked"),
        "quiet after resume": _("quiet after resume"),
        "away": _("away"),
        "do not disturb": _("do not disturb"),
        "busy": _("busy"),
    }
    return words.get(code or "", code or "")


def hours(line: str) -> str:
    """A work-hours line of `ergo schedule` (ergo.timing.timeline.work_hours): "every day, all day", or the
    config's own days and times ("mon-fri 09:00-17:00"), with " (for posture)" when the kinds differ."""
    text, sep, kind = line.partition(" (for ")
    shown = _("every day, all day") if text == "every day, all day" else text
    if sep and kind.endswith(")"):
        return _("%(hours)s (for %(kind)s)") % {"hours": shown, "kind": kind[:-1]}
    return shown


def event(text: str) -> str:
    """One event of the daemon's timeline (ergo.timing.timeline, ergo.daemon.control.schedule) in the
    reader's words; a text of another form (another ergo version) is shown as it came."""
    if text == "-- work hours begin":
        return _("-- work hours begin")
    if text == "-- work hours end":
        return _("-- work hours end")
    if text.startswith("-- plan ") and text.endswith(" ends"):
        return _("-- plan %(name)s ends") % {"name": text[len("-- plan "):-len(" ends")]}
    if text.startswith("plan ") and ": " in text:
        name, _sep, title = text[len("plan "):].partition(": ")
        # TRANSLATORS: a plan's step in `ergo schedule`: "plan acute-back: Gentle walk"
        return _("plan %(name)s: %(step)s") % {"name": name, "step": _(title)}
    if text.endswith("  (merged)"):
        # TRANSLATORS: several reminders in one notification, in `ergo schedule`: "posture + stretch  (merged)"
        return _("%(kinds)s  (merged)") % {"kinds": text[:-len("  (merged)")]}
    return text


def plan_why(text: str) -> str:
    """Why a plan holds a kind of reminder (ergo.plans.timing.reminder_holds: "acute-back plan: WHY"), in the
    reader's words; WHY is the plan's own text, translated when it came in English."""
    name, sep, why = text.partition(" plan: ")
    if not sep or " " in name:
        return _(text)
    # TRANSLATORS: why a plan holds some reminders: "acute-back plan: stretching comes back with ..."
    return _("%(name)s plan: %(why)s") % {"name": name, "why": _(why)}


_BUSY = (  # ergo.busy's reasons (the daemon says them in English): prefix, suffix, the reader's words
    ("in a call (microphone in use by ", ")", lambda x: _("in a call (microphone in use by %(app)s)") % {"app": x}),
    ("in a call (camera in use by ", ")", lambda x: _("in a call (camera in use by %(app)s)") % {"app": x}),
    ("in a meeting (", ")", lambda x: _("in a meeting (%(event)s)") % {"event": x}),
    ("presenting or full screen (", ")", lambda x: _("presenting or full screen (%(app)s)") % {"app": x}),
    ("presenting or watching (an application asks ", " to stay awake)",
     lambda x: _("presenting or watching (an application asks %(desktop)s to stay awake)") % {"desktop": x}),
)


def busy(reason: str) -> str:
    """Why the daemon counts you as busy (ergo.busy: "in a call (microphone in use by firefox)") in the
    reader's words; a reason of another form (a `command` source's own words) is shown as it came."""
    for prefix, suffix, words in _BUSY:
        if reason.startswith(prefix) and reason.endswith(suffix) and len(reason) > len(prefix) + len(suffix):
            return words(reason[len(prefix):-len(suffix)])
    return reason
