"""The tip catalog: short reminders in ergo's own words, each traceable to a seed document and section.

The catalog is data (catalog.toml beside this file); rotation is a pure function
over the ids already shown, so the daemon can persist it and tests can replay it.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib import resources
from collections.abc import Callable

from ergo.i18n import N_
from ergo.timing.worktime import WorkHours

#: Reminder kinds that are on by default; the others in the catalog are optional.
DEFAULT_KINDS = ("posture", "hydration", "stretch", "movement")


#: A tip's `basis` when the topic is the documents' but the particular advice is general practice.
GENERAL_PRACTICE = "general practice"
#: Tips with `when = "evening"` (sleeping posture) come only near the end of the day's work hours: in the
#: last EVENING_LEFT of a work window, or from EVENING_FROM o'clock when work hours cover the whole day.
#: Both numbers are ergo's choice.
EVENING_LEFT = timedelta(minutes=90)
#: What `ergo tips` says of such tips, and of general-practice ones (marked for translation: ergo.i18n).
EVENING_LABEL = N_("only near the end of the day's work hours")
GENERAL_PRACTICE_LABEL = N_("general practice: the document gives the topic, not this advice")
EVENING_FROM = 18


@dataclass(frozen=True)
class Tip:
    id: str
    kind: str
    text: str
    source: str  # seed file name in shared/seeds
    section: str  # section heading in that file, verbatim
    basis: str = ""  # "general practice": the document gives the topic, not this particular advice
    when: str = ""  # "evening": only near the end of the day's work hours


def load_catalog() -> dict[str, list[Tip]]:
    """All tips grouped by kind, in catalog order."""
    raw = tomllib.loads(resources.files(__package__).joinpath("catalog.toml").read_text("utf-8"))
    catalog: dict[str, list[Tip]] = {}
    for entry in raw.get("tip", []):
        tip = Tip(**{k: entry[k] for k in ("id", "kind", "text", "source", "section", "basis", "when") if k in entry})
        catalog.setdefault(tip.kind, []).append(tip)
    return catalog


def localized(catalog: dict[str, list[Tip]], gettext: Callable[[str], str]) -> dict[str, list[Tip]]:
    """The catalog with each tip's text in the reader's language (ergo.i18n.translator); ids, sources and
    sections stay as they are (they cite the English documents)."""
    return {kind: [replace(tip, text=gettext(tip.text)) for tip in tips] for kind, tips in catalog.items()}


@dataclass(frozen=True)
class Source:
    """One seed document: its file name, its first line, and the title a reader is shown."""

    file: str
    heading: str
    title: str


@dataclass(frozen=True)
class RedFlag:
    """The warning signs that call for a professional, as 002 gives them (`quote`, verbatim, inside `text`):
    at the top of `ergo tips` and in every plan's list, first notification, daily step and end."""

    text: str
    quote: str
    source: str
    section: str


def _sources_toml() -> dict:
    return tomllib.loads(resources.files(__package__).joinpath("sources.toml").read_text("utf-8"))


def load_sources() -> dict[str, Source]:
    """The seed documents by file name, so a tip's `source` can be shown as a title."""
    return {entry["file"]: Source(entry["file"], entry["heading"], entry["title"]) for entry in _sources_toml()["source"]}


def cite(file: str, section: str, sources: dict[str, Source]) -> str:
    """How a tip or a plan step names where it comes from: the document's title, its file, the section."""
    known = sources.get(file)
    title = f"{known.title} ({file})" if known else file
    return f"source: {title}, section \"{section}\""


def label(tip: Tip) -> str:
    """What `ergo tips` adds after a tip's source when the advice itself is general practice (English: the
    caller translates it, ergo.i18n)."""
    return GENERAL_PRACTICE_LABEL if tip.basis == GENERAL_PRACTICE else ""


def is_evening(hours: WorkHours, now: datetime) -> bool:
    """Whether `now` is near the end of the day's work hours (for sleeping-posture tips)."""
    if hours.always:
        return now.astimezone(hours.zone).hour >= EVENING_FROM
    window = hours.window_at(now)
    return window is not None and window[1] - now <= EVENING_LEFT


def red_flag() -> RedFlag:
    entry = _sources_toml()["red_flag"]
    return RedFlag(entry["text"], entry["quote"], entry["source"], entry["section"])


def next_tip(tips: list[Tip], shown: set[str], rng: random.Random | None = None,
             evening: bool = True) -> tuple[Tip, set[str]]:
    """Pick a tip not yet shown in this cycle; start a new cycle once all were shown. Evening tips
    (sleeping posture) wait, unshown, for an `evening` pick.

    Returns the tip and the new set of shown ids (the caller stores it).
    """
    if not tips:
        raise ValueError("no tips to choose from")
    if not evening and any(not t.when for t in tips):
        tips = [t for t in tips if not t.when]
        if all(t.id in shown for t in tips):  # the daytime ones are all shown: a new cycle, evening ones kept
            shown = shown - {t.id for t in tips}
    fresh = [t for t in tips if t.id not in shown]
    if not fresh:
        fresh, shown = list(tips), set()
    tip = (rng or random.Random()).choice(fresh)
    return tip, shown | {tip.id}
