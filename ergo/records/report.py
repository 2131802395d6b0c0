"""`ergo report --html FILE`: one self-contained page (inline SVG and CSS; no script, nothing from the network).

Pure: a Stats (ergo.records.stats) in, the page's text out, in the reader's language (ergo.i18n: every
heading, label and tooltip, dates, numbers and percentages in the language's formats, `<html lang>`).
The built-in kinds are named in that language too; a kind of your own is shown as you named it.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from ergo.i18n import N_, _, format_date, format_decimal, format_locale, format_time, ngettext
from ergo.records.stats import KindStats, Stats, hm, share_text, stretch_text

COLOURS = {  # one colour per kind, readable on white and apart for common colour blindness
    "posture": "#4e79a7", "hydration": "#59a14f", "stretch": "#f28e2b", "movement": "#e15759",
    "breathing": "#76b7b2", "workspace": "#edc948", "strength": "#b07aa1",
}
OTHER = "#9c755f"
# TRANSLATORS: the built-in reminder kinds as the HTML report's legend and table name them (short nouns)
KIND_NAMES = {"posture": N_("posture"), "hydration": N_("hydration"), "stretch": N_("stretch"),
              "movement": N_("movement"), "breathing": N_("breathing"), "workspace": N_("workspace"),
              "strength": N_("strength")}
CHART_W, CHART_H, TOP, BOTTOM, LEFT = 760, 300, 20, 50, 40

CSS = """
body { font: 15px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #222; margin: 2em auto;
       max-width: 820px; padding: 0 1em; background: #fff; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; }
.muted { color: #666; }
table { border-collapse: collapse; width: 100%; margin-top: .5em; }
th, td { padding: .3em .6em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td:first-child { white-space: nowrap; }  /* a kind's swatch and name on one line, in every language */
.swatch { display: inline-block; width: .9em; height: .9em; border-radius: 2px; margin-right: .35em;
          vertical-align: -.1em; }
.legend span { margin-right: 1.2em; white-space: nowrap; }
svg text { font: 12px "DejaVu Sans", Arial, sans-serif; fill: #444; }
"""


def colour(kind: str) -> str:
    return COLOURS.get(kind, OTHER)


def kind_name(kind: str) -> str:
    """A built-in kind in the reader's language; a kind of your own as you named it."""
    return _(KIND_NAMES[kind]) if kind in KIND_NAMES else kind


def html_lang() -> str:
    """The page's `lang`: the language ergo speaks now, as BCP 47 ("en", "de-DE", "pt-BR")."""
    return (format_locale() or "en").replace("_", "-")


def _number(value: int) -> str:
    return format_decimal(value)


def _chart(stats: Stats) -> str:
    """Per day two stacked bars, reminded (light) and breaks taken (solid), each split by kind."""
    days = stats.days
    scale = max([d.reminded or 0 for d in days] + [d.breaks or 0 for d in days] + [1])
    plot_h = CHART_H - TOP - BOTTOM
    slot = (CHART_W - LEFT) / max(len(days), 1)
    bar_w = min(28.0, slot / 3)
    label = escape(_("Reminders and breaks per day"))
    parts = [f'<svg width="{CHART_W}" height="{CHART_H}" viewBox="0 0 {CHART_W} {CHART_H}" role="img" '
             f'aria-label="{label}">']
    for tick in range(0, scale + 1, max(1, scale // 4)):
        y = TOP + plot_h - tick / scale * plot_h
        parts.append(f'<line x1="{LEFT}" x2="{CHART_W}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e4e4"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(tick)}</text>')
    not_running = escape(_("not running"))
    for i, day in enumerate(days):
        x0 = LEFT + i * slot + (slot - 2 * bar_w - 4) / 2
        label_x = LEFT + i * slot + slot / 2
        weekday, date_label = escape(format_date(day.day, "%a", "EEE")), escape(format_date(day.day, "%d %b", "dMMM"))
        parts.append(f'<text x="{label_x:.1f}" y="{CHART_H - BOTTOM + 16}" text-anchor="middle">{weekday}</text>')
        parts.append(f'<text x="{label_x:.1f}" y="{CHART_H - BOTTOM + 30}" text-anchor="middle">{date_label}</text>')
        if day.kinds is None:
            parts.append(f'<rect x="{x0:.1f}" y="{TOP}" width="{2 * bar_w + 4:.1f}" height="{plot_h}" fill="none" '
                         f'stroke="#bbb" stroke-dasharray="4 3"/>')
            parts.append(f'<text x="{label_x:.1f}" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
                         f'transform="rotate(-90 {label_x:.1f} {TOP + plot_h / 2:.1f})">{not_running}</text>')
            continue
        for offset, field, opacity in ((0.0, "reminded", 0.4), (bar_w + 4, "breaks", 1.0)):
            y = TOP + plot_h
            for kind, counts in day.kinds.items():
                value = counts.reminded if field == "reminded" else counts.breaks
                if value <= 0:
                    continue
                height = value / scale * plot_h
                y -= height
                words = {"kind": kind_name(kind), "count": value}
                # TRANSLATORS: a bar's tooltip in the report's chart, "posture: 7 reminders" / "posture: 3 breaks"
                tip = (ngettext("%(kind)s: %(count)d reminder", "%(kind)s: %(count)d reminders", value) if field == "reminded"
                       else ngettext("%(kind)s: %(count)d break", "%(kind)s: %(count)d breaks", value)) % words
                parts.append(f'<rect x="{x0 + offset:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
                             f'fill="{colour(kind)}" fill-opacity="{opacity}"><title>{escape(tip)}</title></rect>')
    parts.append(f'<line x1="{LEFT}" x2="{CHART_W}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#888"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def _table(stats: Stats) -> str:
    # TRANSLATORS: the column heads of the report's table per kind
    heads = (_("kind"), _("reminded"), _("done"), _("snoozed"), _("skipped"), _("natural breaks"),
             _("answered with a break"))
    rows = ["<tr>" + "".join(f"<th>{escape(head)}</th>" for head in heads) + "</tr>"]
    for kind, k in stats.kinds.items():
        share = share_text(k.share, "–")
        cells = "".join(f"<td>{escape(value)}</td>" for value in (
            _number(k.reminded), _number(k.done), _number(k.snoozed), _number(k.skipped), _number(k.natural_breaks), share))
        rows.append(f'<tr><td><span class="swatch" style="background:{colour(kind)}"></span>{escape(kind_name(kind))}</td>'
                    f"{cells}</tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def _hours(stats: Stats) -> str:
    cells = "".join(f"<th>{escape(format_date(d.day, '%a %d', 'EEEd'))}</th>" for d in stats.days)
    not_running = escape(_("not running"))
    values = "".join(f"<td>{escape(_hm(d.hours_covered)) if d.ran else not_running}</td>" for d in stats.days)
    # TRANSLATORS: the row of the report's "Hours covered" table: how long ergo ran each day
    ran = escape(_("ergo ran"))
    return f"<table><tr><th></th>{cells}</tr><tr><td>{ran}</td>{values}</tr></table>"


def _hm(hours: float) -> str:
    return hm(hours * 3600)  # the same words as `ergo stats`


def render(stats: Stats, generated: datetime) -> str:
    """The whole page."""
    legend = "".join(f'<span><span class="swatch" style="background:{colour(kind)}"></span>{escape(kind_name(kind))}</span>'
                     for kind in stats.kinds)
    drinks = stats.kinds.get("hydration", KindStats()).done
    stretch = stretch_text(stats)
    longest = (_("Longest stretch at the keyboard without a break: %(stretch)s.") % {"stretch": stretch} if stretch
               else _("Longest stretch at the keyboard without a break: no presence recorded."))
    drunk = ngettext("%(count)d drink", "%(count)d drinks", drinks) % {"count": drinks}
    if stats.hydration_goal is not None:
        days = stats.hydration_days_met or 0
        # TRANSLATORS: e.g. "Hydration: 12 drinks, goal 6 a day met on 2 days."
        hydration = ngettext("Hydration: %(drinks)s, goal %(goal)d a day met on %(count)d day.",
                             "Hydration: %(drinks)s, goal %(goal)d a day met on %(count)d days.", days) % {
            "drinks": drunk, "goal": stats.hydration_goal, "count": days}
    else:
        hydration = _("Hydration: %(drinks)s.") % {"drinks": drunk}
    made = generated.astimezone()
    span = {"start": format_date(stats.start, "%a %d %b", "EEEdMMM"), "end": format_date(stats.end, "%a %d %b %Y", "yMMMEd")}
    # TRANSLATORS: under the report's heading: "Thu 26 Nov to Wed 02 Dec 2026 · ergo ran 40h00m · made 2026-12-02 16:05"
    summary = _("%(start)s to %(end)s · ergo ran %(hours)s · made %(made)s") % {
        **span, "hours": _hm(stats.hours_covered),
        "made": _("%(day)s %(time)s") % {"day": format_date(made, "%Y-%m-%d", "short"), "time": format_time(made)}}
    title = _("ergo: %(start)s to %(end)s") % {"start": format_date(stats.start, "%d %b", "dMMM"),
                                                "end": format_date(stats.end, "%d %b %Y", "yMMMd")}
    words = {name: escape(text) for name, text in (
        ("title", title), ("summary", summary), ("longest", longest), ("hydration", hydration),
        ("heading", _("Your week with ergo")), ("chart", _("Reminders and breaks, day by day")),
        ("key", _("Left bar: reminders (light). Right bar: breaks taken, done or natural (solid). "
                  "Dashed: ergo did not run.")),
        ("per_kind", _("Per kind")), ("hours", _("Hours covered")),
        ("care", _("ergo gives general ergonomic reminders, not medical care. Numbness, tingling or weakness "
                   "are a reason to see a health professional.")))}
    return f"""<!DOCTYPE html>
<html lang="{html_lang()}">
<head>
<meta charset="utf-8">
<title>{words["title"]}</title>
<style>{CSS}</style>
</head>
<body>
<h1>{words["heading"]}</h1>
<p class="muted">{words["summary"]}</p>
<h2>{words["chart"]}</h2>
<p class="legend">{legend}</p>
<p class="muted">{words["key"]}</p>
{_chart(stats)}
<h2>{words["per_kind"]}</h2>
{_table(stats)}
<p>{words["longest"]}<br>
{words["hydration"]}</p>
<h2>{words["hours"]}</h2>
{_hours(stats)}
<p class="muted">{words["care"]}</p>
</body>
</html>
"""
