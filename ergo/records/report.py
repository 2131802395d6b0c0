"""`ergo report --html FILE`: one self-contained page (inline SVG and CSS; no script, nothing from the network).

Pure: a Stats (ergo.records.stats) in, the page's text out.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from ergo.records.stats import KindStats, Stats, hm

COLOURS = {  # one colour per kind, readable on white and apart for common colour blindness
    "posture": "#4e79a7", "hydration": "#59a14f", "stretch": "#f28e2b", "movement": "#e15759",
    "breathing": "#76b7b2", "workspace": "#edc948", "strength": "#b07aa1",
}
OTHER = "#9c755f"
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
.swatch { display: inline-block; width: .9em; height: .9em; border-radius: 2px; margin-right: .35em;
          vertical-align: -.1em; }
.legend span { margin-right: 1.2em; white-space: nowrap; }
svg text { font: 12px "DejaVu Sans", Arial, sans-serif; fill: #444; }
"""


def colour(kind: str) -> str:
    return COLOURS.get(kind, OTHER)


def _chart(stats: Stats) -> str:
    """Per day two stacked bars, reminded (light) and breaks taken (solid), each split by kind."""
    days = stats.days
    scale = max([d.reminded or 0 for d in days] + [d.breaks or 0 for d in days] + [1])
    plot_h = CHART_H - TOP - BOTTOM
    slot = (CHART_W - LEFT) / max(len(days), 1)
    bar_w = min(28.0, slot / 3)
    parts = [f'<svg width="{CHART_W}" height="{CHART_H}" viewBox="0 0 {CHART_W} {CHART_H}" role="img" '
             f'aria-label="Reminders and breaks per day">']
    for tick in range(0, scale + 1, max(1, scale // 4)):
        y = TOP + plot_h - tick / scale * plot_h
        parts.append(f'<line x1="{LEFT}" x2="{CHART_W}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e4e4"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, day in enumerate(days):
        x0 = LEFT + i * slot + (slot - 2 * bar_w - 4) / 2
        label_x = LEFT + i * slot + slot / 2
        parts.append(f'<text x="{label_x:.1f}" y="{CHART_H - BOTTOM + 16}" text-anchor="middle">{day.day:%a}</text>')
        parts.append(f'<text x="{label_x:.1f}" y="{CHART_H - BOTTOM + 30}" text-anchor="middle">{day.day:%d %b}</text>')
        if day.kinds is None:
            parts.append(f'<rect x="{x0:.1f}" y="{TOP}" width="{2 * bar_w + 4:.1f}" height="{plot_h}" fill="none" '
                         f'stroke="#bbb" stroke-dasharray="4 3"/>')
            parts.append(f'<text x="{label_x:.1f}" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
                         f'transform="rotate(-90 {label_x:.1f} {TOP + plot_h / 2:.1f})">not running</text>')
            continue
        for offset, field, opacity in ((0.0, "reminded", 0.4), (bar_w + 4, "breaks", 1.0)):
            y = TOP + plot_h
            for kind, counts in day.kinds.items():
                value = counts.reminded if field == "reminded" else counts.breaks
                if value <= 0:
                    continue
                height = value / scale * plot_h
                y -= height
                parts.append(f'<rect x="{x0 + offset:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
                             f'fill="{colour(kind)}" fill-opacity="{opacity}"><title>{escape(kind)}: {value} '
                             f'{field}</title></rect>')
    parts.append(f'<line x1="{LEFT}" x2="{CHART_W}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#888"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def _table(stats: Stats) -> str:
    rows = ["<tr><th>kind</th><th>reminded</th><th>done</th><th>snoozed</th><th>skipped</th>"
            "<th>natural breaks</th><th>answered with a break</th></tr>"]
    for kind, k in stats.kinds.items():
        share = "–" if k.share is None else f"{k.share:.0%}"
        rows.append(f'<tr><td><span class="swatch" style="background:{colour(kind)}"></span>{escape(kind)}</td>'
                    f"<td>{k.reminded}</td><td>{k.done}</td><td>{k.snoozed}</td><td>{k.skipped}</td>"
                    f"<td>{k.natural_breaks}</td><td>{share}</td></tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def _hours(stats: Stats) -> str:
    cells = "".join(f"<th>{d.day:%a %d}</th>" for d in stats.days)
    values = "".join(f"<td>{_hm(d.hours_covered) if d.ran else 'not running'}</td>" for d in stats.days)
    return f"<table><tr><th></th>{cells}</tr><tr><td>ergo ran</td>{values}</tr></table>"


def _hm(hours: float) -> str:
    return hm(hours * 3600)  # the same words as `ergo stats`


def render(stats: Stats, generated: datetime) -> str:
    """The whole page."""
    legend = "".join(f'<span><span class="swatch" style="background:{colour(kind)}"></span>{escape(kind)}</span>'
                     for kind in stats.kinds)
    drinks = stats.kinds.get("hydration", KindStats()).done
    if stats.longest_stretch is None:
        stretch = "no presence recorded"
    else:
        a, b = stats.longest_stretch
        stretch = f"{_hm((stats.longest_stretch_seconds or 0) / 3600)} ({a.astimezone():%a %H:%M}–{b.astimezone():%H:%M})"
    goal = (f", goal {stats.hydration_goal} a day met on {stats.hydration_days_met} days"
            if stats.hydration_goal is not None else "")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ergo: {stats.start:%d %b} to {stats.end:%d %b %Y}</title>
<style>{CSS}</style>
</head>
<body>
<h1>Your week with ergo</h1>
<p class="muted">{stats.start:%a %d %b} to {stats.end:%a %d %b %Y} · ergo ran {_hm(stats.hours_covered)} ·
made {generated.astimezone():%Y-%m-%d %H:%M}</p>
<h2>Reminders and breaks, day by day</h2>
<p class="legend">{legend}</p>
<p class="muted">Left bar: reminders (light). Right bar: breaks taken, done or natural (solid). Dashed: ergo did not run.</p>
{_chart(stats)}
<h2>Per kind</h2>
{_table(stats)}
<p>Longest stretch at the keyboard without a break: {stretch}.<br>
Hydration: {drinks} drinks{goal}.</p>
<h2>Hours covered</h2>
{_hours(stats)}
<p class="muted">ergo gives general ergonomic reminders, not medical care. Numbness, tingling or weakness are a
reason to see a health professional.</p>
</body>
</html>
"""
