"""The plans shipped in this package, read into plain frozen data."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources

from ergo.timing.durations import parse_duration


@dataclass(frozen=True)
class Source:
    source: str  # seed file name in shared/seeds
    section: str  # heading line it sits under, verbatim
    quote: str  # the document's own words the step rests on, verbatim


@dataclass(frozen=True)
class Step:
    """One kind of reminder in a plan: repeated `every` (an option name or a duration), `per_day`
    times, or once `after` the start; only between `start` and `end` (None: the plan's end)."""

    id: str
    title: str
    text: str
    cite: Source
    start: timedelta = timedelta(0)
    end: timedelta | None = None
    every: str | None = None
    per_day: str | int | None = None
    after: timedelta | None = None
    shift: timedelta = timedelta(0)  # per_day steps: moved this much later (so they do not land on another step)


@dataclass(frozen=True)
class Option:
    name: str
    default: timedelta | int
    low: timedelta | int
    high: timedelta | int


@dataclass(frozen=True)
class Plan:
    name: str
    title: str
    summary: str
    length: timedelta
    default_waking: str
    steps: tuple[Step, ...]
    options: dict[str, Option]
    warning: str = ""
    warning_sources: tuple[Source, ...] = ()
    skin_note: str = ""
    stretch_note: str = ""


def _value(raw: object) -> timedelta | int:
    return raw if isinstance(raw, int) else parse_duration(raw)


def _plan(raw: dict) -> Plan:
    steps = []
    for s in raw.get("step", []):
        steps.append(Step(
            id=s["id"], title=s["title"], text=s["text"], cite=Source(s["source"], s["section"], s["quote"]),
            start=parse_duration(s.get("from", "0s")),
            end=None if s.get("until", "end") == "end" else parse_duration(s["until"]),
            every=s.get("every"), per_day=s.get("per_day"),
            after=parse_duration(s["after"]) if "after" in s else None,
            shift=parse_duration(s["shift"]) if "shift" in s else timedelta(0),
        ))
    options = {name: Option(name, _value(o["default"]), _value(o["min"]), _value(o["max"]))
               for name, o in raw.get("options", {}).items()}
    return Plan(
        name=raw["name"], title=raw["title"], summary=raw["summary"], length=parse_duration(raw["length"]),
        default_waking=raw["default_waking"], steps=tuple(steps), options=options, warning=raw.get("warning", ""),
        warning_sources=tuple(Source(w["source"], w["section"], w["quote"]) for w in raw.get("warning_sources", [])),
        skin_note=raw.get("skin_note", ""), stretch_note=raw.get("stretch_note", ""),
    )


def load_plans() -> dict[str, Plan]:
    """Every plan file in this package, by name, sorted."""
    plans = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            plan = _plan(tomllib.loads(entry.read_text("utf-8")))
            plans[plan.name] = plan
    return plans
