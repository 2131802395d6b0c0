"""Which buttons a notification server gets, so every reminder shows whole: a pure function of the server.

Servers differ in how they draw actions (all checked with screenshots, see docs/notifications.md):

- dunst and mako draw no buttons: the actions wait in a menu (`dunstctl context`, `makoctl menu`).
  dunst's menu lists the `default` action like any other, by its label (an empty one as a blank line).
- xfce4-notifyd draws every labelled action as a button, the `default` one too, in one row that
  widens the bubble; an action whose label is empty is not drawn, a click on the bubble still runs it.
- GNOME's notification-daemon draws all actions but `default` in one row of a 400 px bubble; a row
  that does not fit pushes the last label and the close box out of the bubble.

So the `default` action (a click on the bubble: "Done") goes with an empty label, except where the
server lists it by its label (dunst): there it takes Done's label and the separate Done goes, so the
menu offers one "Done" and a click still answers Done. A server known to draw one narrow row gets a
row that fits: first the shorter labels, then fewer buttons, in every language (the labels arrive
translated; a German row is about a third longer than the English one). What is left out stays reachable
(`ergo skip`, `ergo snooze`, `ergo break`, the tray menu).
"""

from __future__ import annotations

from collections.abc import Mapping

Pair = tuple[str, str]

#: how wide a row of buttons may be, in `row_cost` units, for servers that draw one row of fixed width
#: (GetServerInformation's name). notification-daemon 3.20 (Debian 12) kept its close box at 38 and lost it at 43;
#: measured by tests/test_look_notifications.py with DejaVu Sans.
ROW_BUDGET: dict[str, int] = {"Notification Daemon": 37}

#: servers that list the default action by its label, like the others (GetServerInformation's name)
DEFAULT_LISTED = frozenset({"dunst"})

#: what a narrow row gives up, in order: ("short", key) takes the key's short label, ("drop", key) the button.
#: The last two steps are for the longest labels (a translation, a break of "10 minutes 30 seconds"): the row
#: always fits, keeping Done and, as long as its short label fits, the break button.
NARROWING: tuple[tuple[str, str], ...] = (("short", "start"), ("drop", "skip"), ("short", "snooze"),
                                          ("drop", "snooze"), ("drop", "start"))


def row_cost(actions: tuple[Pair, ...]) -> int:
    """A row's width in characters, plus 3 per drawn button for its padding (empty labels are not drawn)."""
    return sum(len(label) + 3 for _key, label in actions if label)


def fit(actions: tuple[Pair, ...], server: str, short: Mapping[str, str] | None = None) -> tuple[Pair, ...]:
    """The buttons for `server` (its GetServerInformation name): all of them, unless its one row is too narrow."""
    if server in DEFAULT_LISTED and any(key == "default" for key, _ in actions):
        done = dict(actions).get("done")
        if done:
            actions = tuple((key, done if key == "default" else label) for key, label in actions if key != "done")
    budget = ROW_BUDGET.get(server)
    if budget is None or row_cost(actions) <= budget:
        return actions
    short = short or {}
    for step, key in NARROWING:
        if step == "short":
            actions = tuple((k, short.get(k, label) if k == key else label) for k, label in actions)
        else:
            actions = tuple(pair for pair in actions if pair[0] != key)
        if row_cost(actions) <= budget:
            break
    return actions
