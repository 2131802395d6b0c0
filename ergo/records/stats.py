"""`ergo stats`: counts per kind and per day, the longest stretch at the keyboard, hydration against a goal.

Pure: history rows and time spans in, plain numbers out; the zone and the
period are passed in (like ergo/timing/policy.py). Days on which ergo never ran are
gaps (None), never zeros: no data is not "no breaks".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

from ergo.i18n import _, format_date, format_percent, format_time, ngettext
from ergo.records.diary import Row, diary

SAME_STRETCH = timedelta(minutes=1)  # presence spans closer than this are one stretch (a daemon restart, say)
COUNTS = ("reminded", "done", "snoozed", "skipped", "natural_breaks", "dropped", "failed")


class SpanLike(Protocol):
    start: datetime
    end: datetime


@dataclass
class KindStats:
    """One kind's counts over a period (or a day)."""

    reminded: int = 0
    done: int = 0  # answers "done" (button, command, timed break), with or without a reminder waiting
    snoozed: int = 0
    skipped: int = 0
    natural_breaks: int = 0
    dropped: int = 0  # held too long and skipped
    failed: int = 0
    answered_with_break: int = 0  # reminders whose outcome was a break (done or a natural break)

    @property
    def breaks(self) -> int:
        """Breaks taken: done answers plus natural breaks."""
        return self.done + self.natural_breaks

    @property
    def share(self) -> float | None:
        """Share of reminders answered with a break; None without reminders."""
        return None if self.reminded == 0 else self.answered_with_break / self.reminded

    def as_json(self) -> dict[str, Any]:
        return {**{name: getattr(self, name) for name in COUNTS}, "breaks": self.breaks,
                "answered_with_break": self.answered_with_break, "share_answered_with_break": self.share}


@dataclass
class DayStats:
    """One local day; `kinds` is None when ergo did not run that day (a gap)."""

    day: date
    hours_covered: float
    kinds: dict[str, KindStats] | None

    @property
    def ran(self) -> bool:
        return self.kinds is not None

    @property
    def reminded(self) -> int | None:
        return None if self.kinds is None else sum(k.reminded for k in self.kinds.values())

    @property
    def breaks(self) -> int | None:
        return None if self.kinds is None else sum(k.breaks for k in self.kinds.values())


@dataclass
class Stats:
    start: date
    end: date  # inclusive
    kinds: dict[str, KindStats]
    days: list[DayStats]
    hours_covered: float
    longest_stretch: tuple[datetime, datetime] | None
    hydration_goal: int | None
    hydration_days_met: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def longest_stretch_seconds(self) -> float | None:
        return None if self.longest_stretch is None else (self.longest_stretch[1] - self.longest_stretch[0]).total_seconds()

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(), "to": self.end.isoformat(),
            "hours_covered": round(self.hours_covered, 4),
            "kinds": {kind: k.as_json() for kind, k in self.kinds.items()},
            "longest_stretch_seconds": self.longest_stretch_seconds,
            "longest_stretch": None if self.longest_stretch is None else
            {"start": self.longest_stretch[0].isoformat(), "end": self.longest_stretch[1].isoformat()},
            "hydration": {"done": self.kinds.get("hydration", KindStats()).done, "daily_goal": self.hydration_goal,
                          "days_goal_met": self.hydration_days_met},
            "days": [{"date": d.day.isoformat(), "ran": d.ran, "hours_covered": round(d.hours_covered, 4),
                      "reminded": d.reminded, "breaks": d.breaks,
                      "kinds": None if d.kinds is None else {k: v.as_json() for k, v in d.kinds.items()}}
                     for d in self.days],
        }


def period(end_day: date, length: str) -> tuple[date, date]:
    """(first, last) local day of "day", "week" (7 days) or "month" (30 days) ending on `end_day`."""
    days = {"day": 1, "week": 7, "month": 30}[length]
    return end_day - timedelta(days=days - 1), end_day


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The instants a local day starts and ends (DST days are 23 or 25 hours long)."""
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start, end


def _overlap(spans: list[SpanLike], start: datetime, end: datetime) -> timedelta:
    total = timedelta(0)
    for span in spans:
        lo, hi = max(span.start, start), min(span.end, end)
        if hi > lo:
            total += hi - lo
    return total


def _ran(spans: list[SpanLike], start: datetime, end: datetime) -> bool:
    """Whether ergo ran at some instant of [start, end): a span covers [its start, its end), or only its start
    while it has no length yet (a daemon that has just started). One that ended as the day began did not run."""
    return any(span.start < end and (span.end > start or span.start >= start) for span in spans)


def longest_stretch(present: list[SpanLike], start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The longest time at the keyboard without a break, within [start, end): joined presence spans (closer
    than SAME_STRETCH); of equally long stretches, the first."""
    best: tuple[datetime, datetime] | None = None
    current: tuple[datetime, datetime] | None = None
    for span in sorted(present, key=lambda s: s.start):
        lo, hi = max(span.start, start), min(span.end, end)
        if hi <= lo:
            continue
        if current is not None and lo - current[1] < SAME_STRETCH:
            current = (current[0], max(current[1], hi))
        else:
            current = (lo, hi)
        if best is None or current[1] - current[0] > best[1] - best[0]:
            best = current
    return best


def _count(rows: list[Row], kinds: list[str]) -> dict[str, KindStats]:
    stats = {kind: KindStats() for kind in kinds}
    names = {"delivered": "reminded", "done": "done", "snoozed": "snoozed", "skipped": "skipped",
             "natural_break": "natural_breaks", "skipped_stale": "dropped", "failed": "failed"}
    for row in rows:
        name = names.get(row.event)
        if name is None:
            continue
        entry = stats.setdefault(row.kind, KindStats())
        setattr(entry, name, getattr(entry, name) + 1)
    for entry in diary(rows):
        if entry.what == "reminder" and entry.outcome == "done":
            stats[entry.kind].answered_with_break += 1  # a reminder is a "delivered" row: counted above
    return stats


def compute(rows: list[Row], running: list[SpanLike], present: list[SpanLike], first: date, last: date,
            zone: tzinfo, kinds: list[str], hydration_goal: int | None = None) -> Stats:
    """Stats for the local days first..last (inclusive); `rows` may reach outside and are clipped by day."""
    days: list[DayStats] = []
    day = first
    in_period: list[Row] = []
    while day <= last:
        start, end = day_bounds(day, zone)
        todays = [r for r in rows if start <= r.at < end]
        in_period += todays
        covered = _overlap(running, start, end)
        ran = bool(todays) or _ran(running, start, end)
        days.append(DayStats(day, covered.total_seconds() / 3600, _count(todays, kinds) if ran else None))
        day += timedelta(days=1)
    period_start, period_end = day_bounds(first, zone)[0], day_bounds(last, zone)[1]
    met = None
    if hydration_goal is not None:
        met = sum(1 for d in days if d.kinds is not None and d.kinds.get("hydration", KindStats()).done >= hydration_goal)
    return Stats(first, last, _count(in_period, kinds), days, sum(d.hours_covered for d in days),
                 longest_stretch(present, period_start, period_end), hydration_goal, met)


# --- the terminal chart ---------------------------------------------------------------------------

EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(value: float, scale: float, width: int, unicode: bool) -> str:
    """A horizontal bar `value/scale` of `width` cells: Unicode eighth blocks, or '#' in ASCII."""
    if scale <= 0 or value <= 0:
        return ""
    cells = value / scale * width
    if not unicode:
        return "#" * max(1, round(cells))
    full, rest = int(cells), int((cells - int(cells)) * 8)
    return "█" * full + (EIGHTHS[rest] if rest else "") or "▏"


def day_label(day: date) -> str:
    """A day as the chart and the report's header show it: "Mon 23 Nov", "Mo., 23. Nov." (ergo.i18n)."""
    return format_date(day, "%a %d %b", "EEEdMMM")


def chart(stats: Stats, unicode: bool, width: int = 30) -> list[str]:
    """One line per day: reminders and breaks taken; a day ergo did not run says so instead of a zero bar."""
    scale = max([d.reminded or 0 for d in stats.days] + [d.breaks or 0 for d in stats.days] + [1])
    labels = [day_label(d.day) for d in stats.days]
    label_w = max([10] + [len(label) for label in labels])
    # TRANSLATORS: the two bars of one day in `ergo stats` (reminders shown, breaks taken)
    reminded_word, breaks_word = _("reminded"), _("breaks")
    word_w = max(8, len(reminded_word), len(breaks_word))
    not_running = _("ergo not running")
    lines = []
    for d, label in zip(stats.days, labels):
        if not d.ran:
            lines.append(f"{label:<{label_w}}  {'·' if unicode else '.'} {not_running}")
            continue
        reminded, breaks = d.reminded or 0, d.breaks or 0
        lines.append(f"{label:<{label_w}}  {reminded_word:<{word_w}} {reminded:>3} {bar(reminded, scale, width, unicode)}")
        lines.append(f"{'':<{label_w}}  {breaks_word:<{word_w}} {breaks:>3} "
                     f"{bar(breaks, scale, width, unicode).replace('█', '▓').replace('#', '=')}")
    return lines


def hm(seconds: float) -> str:
    """A length as `ergo stats` and the HTML report both show it: rounded to the minute, 1h05m or 42m."""
    minutes = int(round(seconds / 60))
    if minutes >= 60:
        # TRANSLATORS: a length of time, 1h05m; keep it short (it sits in table cells)
        return _("%(hours)dh%(minutes)02dm") % {"hours": minutes // 60, "minutes": minutes % 60}
    # TRANSLATORS: a length of time under an hour, 42m
    return _("%(minutes)dm") % {"minutes": minutes}


def share_text(share: float | None, none: str = "-") -> str:
    """A share of reminders answered with a break: "33%", "33 %" in German (ergo.i18n)."""
    return none if share is None else format_percent(share)


def stretch_text(stats: Stats) -> str | None:
    """The longest stretch as "42m (Mon 09:05-09:47)", or None without presence."""
    if stats.longest_stretch is None:
        return None
    a, b = (t.astimezone() for t in stats.longest_stretch)
    return _("%(length)s (%(weekday)s %(start)s-%(end)s)") % {
        "length": hm((b - a).total_seconds()), "weekday": format_date(a, "%a", "EEE"),
        "start": format_time(a), "end": format_time(b)}


def _table(stats: Stats) -> list[str]:
    # TRANSLATORS: the column heads of `ergo stats`; "natural" is natural breaks, "answered" the share of
    # reminders answered with a break (explained under the table). Short words keep the table narrow.
    heads = [_("kind"), _("reminded"), _("done"), _("snoozed"), _("skipped"), _("natural"), _("answered")]
    body = [[kind, str(k.reminded), str(k.done), str(k.snoozed), str(k.skipped), str(k.natural_breaks),
             share_text(k.share)] for kind, k in stats.kinds.items()]
    widths = [max([least, len(head)] + [len(row[i]) for row in body])
              for i, (least, head) in enumerate(zip((10, 8, 5, 7, 7, 7, 8), heads))]

    def line(cells: list[str]) -> str:
        return " ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths)))

    return [line(heads), *(line(row) for row in body)]


def render(stats: Stats, unicode: bool) -> str:
    """The whole `ergo stats` text, in the reader's language (ergo.i18n)."""
    lines = [_("%(start)s to %(end)s: ergo ran %(hours)s") % {
        "start": day_label(stats.start), "end": day_label(stats.end), "hours": hm(stats.hours_covered * 3600)}]
    lines += ["", *_table(stats)]
    lines.append(_("answered = share of reminders answered with a break (done or a natural break)"))
    lines.append("")
    stretch = stretch_text(stats)
    if stretch is None:
        lines.append(_("longest stretch at the keyboard: no presence recorded"))
    else:
        lines.append(_("longest stretch at the keyboard without a break: %(stretch)s") % {"stretch": stretch})
    drinks = stats.kinds.get("hydration", KindStats()).done
    ran_days = sum(1 for d in stats.days if d.ran)
    drunk = ngettext("%(count)d drink", "%(count)d drinks", drinks) % {"count": drinks}
    if stats.hydration_goal is not None:
        on_days = ngettext("on %(count)d day", "on %(count)d days", ran_days) % {"count": ran_days}
        met = stats.hydration_days_met or 0
        # TRANSLATORS: e.g. "hydration: 12 drinks on 5 days; goal 6 a day met on 2 of them"
        lines.append(_("hydration: %(drinks)s %(days)s; goal %(goal)d a day met on %(met)d of them")
                     % {"drinks": drunk, "days": on_days, "goal": stats.hydration_goal, "met": met})
    else:
        lines.append(_("hydration: %(drinks)s (set hydration.daily_goal to count against a goal)") % {"drinks": drunk})
    lines += ["", *chart(stats, unicode)]
    return "\n".join(lines)
