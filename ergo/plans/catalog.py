"""The plans shipped in this package, read into plain frozen data."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from importlib import resources
from collections.abc import Callable

from ergo.timing.durations import parse_duration
from ergo.tips import red_flag


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
    choice: str = ""  # the numbers and times ergo chose (the documents give none, or a range), shown labelled


@dataclass(frozen=True)
class ReminderRule:
    """What a running plan does to one ordinary reminder kind: held until its step `held_until` starts
    (then carrying `note`), or replaced by its steps `replaced_by` until the plan ends. `why` says so."""

    kind: str
    why: str
    held_until: str | None = None
    replaced_by: tuple[str, ...] = ()
    note: str = ""


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
    red_flag: str = ""  # the documents' warning signs (ergo.tips.red_flag), quoted from 002
    own_caution: str = ""  # ergo's own, labelled so in the text itself
    disclaimer: str = ""
    warning_sources: tuple[Source, ...] = ()
    skin_note: str = ""
    choices: tuple[str, ...] = ()  # ergo's own choices for the plan as a whole
    reminders: dict[str, ReminderRule] = field(default_factory=dict)

    @property
    def warning(self) -> str:
        """The warning signs in full, then ergo's own caution: in the first notification, once a day, at the end."""
        return " ".join(part for part in (self.red_flag, self.own_caution, self.disclaimer) if part)

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)


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
            shift=parse_duration(s["shift"]) if "shift" in s else timedelta(0), choice=s.get("choice", ""),
        ))
    options = {name: Option(name, _value(o["default"]), _value(o["min"]), _value(o["max"]))
               for name, o in raw.get("options", {}).items()}
    rules = {kind: ReminderRule(kind, r["why"], r.get("held_until"), tuple(r.get("replaced_by", ())), r.get("note", ""))
             for kind, r in raw.get("reminders", {}).items()}
    ids = {step.id for step in steps}
    for rule in rules.values():  # a rule names steps of its own plan (a typo would hold a kind for ever)
        named = set(rule.replaced_by) | ({rule.held_until} if rule.held_until else set())
        if not named <= ids:
            raise ValueError(f"plan {raw['name']}: reminders.{rule.kind} names a step it does not have")
    flag = red_flag() if raw.get("warning_signs") else None
    return Plan(
        name=raw["name"], title=raw["title"], summary=raw["summary"], length=parse_duration(raw["length"]),
        default_waking=raw["default_waking"], steps=tuple(steps), options=options,
        red_flag=flag.text if flag else "", own_caution=raw.get("own_caution", ""), disclaimer=raw.get("disclaimer", ""),
        warning_sources=((Source(flag.source, flag.section, flag.quote),) if flag else ())
        + tuple(Source(w["source"], w["section"], w["quote"]) for w in raw.get("warning_sources", [])),
        skin_note=raw.get("skin_note", ""), choices=tuple(raw.get("choices", ())), reminders=rules,
    )


def load_plans() -> dict[str, Plan]:
    """Every plan file in this package, by name, sorted."""
    plans = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            plan = _plan(tomllib.loads(entry.read_text("utf-8")))
            plans[plan.name] = plan
    return plans


def localized(plan: Plan, gettext: Callable[[str], str]) -> Plan:
    """The plan with every text a person reads in their language (ergo.i18n.translator): titles, summary,
    steps, the warning signs, cautions, notes and ergo's choices. Citations (file, heading, quote) stay
    English: they quote the documents."""
    return replace(
        plan, title=gettext(plan.title), summary=gettext(plan.summary), red_flag=gettext(plan.red_flag),
        own_caution=gettext(plan.own_caution), disclaimer=gettext(plan.disclaimer), skin_note=gettext(plan.skin_note),
        choices=tuple(map(gettext, plan.choices)),
        steps=tuple(replace(s, title=gettext(s.title), text=gettext(s.text), choice=gettext(s.choice)) for s in plan.steps),
        reminders={kind: replace(r, why=gettext(r.why), note=gettext(r.note)) for kind, r in plan.reminders.items()},
    )
