"""Turns due reminder kinds into the words of one notification, rotating tips."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ergo.i18n import _, ngettext
from ergo.tips import Tip, next_tip

CUSTOM = "custom"


@dataclass(frozen=True)
class Message:
    """What one notification says, and which tips it used (for the log and the rotation)."""

    key: str
    title: str
    body: str
    tips: dict[str, str]  # kind -> tip id used for it

    @property
    def tip_ids(self) -> tuple[str, ...]:
        return tuple(self.tips.values())


@dataclass(frozen=True)
class KindText:
    """The words available for one kind: its title and either custom messages or catalog tips."""

    title: str
    tips: tuple[Tip, ...]
    break_words: str = ""  # "walk for 3 minutes" when the kind has a duration


def kind_texts(kind: str, title: str | None, messages: list[str], catalog: dict[str, list[Tip]],
               break_words: str = "") -> KindText:
    """Custom messages, when a user wrote some, replace the catalog's tips for that kind."""
    if messages:
        tips = tuple(Tip(f"{kind}-{CUSTOM}-{i + 1}", kind, text, CUSTOM, CUSTOM) for i, text in enumerate(messages))
    else:
        tips = tuple(catalog.get(kind, ()))
    return KindText(title or kind.capitalize(), tips, break_words)


def compose(
    kinds: tuple[str, ...],
    texts: dict[str, KindText],
    shown: dict[str, set[str]],
    rng: random.Random | None = None,
    evening: bool = True,
) -> tuple[Message, dict[str, set[str]]]:
    """One notification for `kinds`; returns it and the updated shown-tips sets. Evening tips (sleeping
    posture) only when `evening` (near the end of the day's work hours: ergo.tips.is_evening)."""
    shown = {k: set(v) for k, v in shown.items()}
    picked: list[tuple[str, Tip | None]] = []
    for kind in kinds:
        text = texts[kind]
        if text.tips:
            tip, shown[kind] = next_tip(list(text.tips), shown.get(kind, set()), rng, evening)
            picked.append((kind, tip))
        else:
            picked.append((kind, None))
    tip_ids = {kind: tip.id for kind, tip in picked if tip is not None}
    if len(picked) == 1:
        kind, tip = picked[0]
        # TRANSLATORS: a reminder with no tip to show; kind: its name in the config ("posture", "stretch")
        body = tip.text if tip else _("Time for your %(kind)s reminder.") % {"kind": kind}
        if texts[kind].break_words:
            body += f"\n{texts[kind].break_words[:1].upper()}{texts[kind].break_words[1:]}."
        return Message(kind, texts[kind].title, body, tip_ids), shown
    # short: the kinds are named once each, in the bullets
    title = ngettext("%(count)d break due", "%(count)d breaks due", len(picked)) % {"count": len(picked)}
    body = "\n".join(
        f"• {texts[kind].title}: {tip.text if tip else ''}".rstrip(": ")
        + (f" ({texts[kind].break_words})" if texts[kind].break_words else "")
        for kind, tip in picked)
    return Message("merged", title, body, tip_ids), shown
