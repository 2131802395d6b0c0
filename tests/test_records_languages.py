"""`ergo report`, `ergo stats` and `ergo history` in the reader's language (issue 20).

The HTML report in every language ergo speaks, rendered by a real browser: nothing overflows its box.

A realistic month of history (every kind, answered as people do, a day ergo did not run, a hydration
goal) is written through ergo's own store into a real SQLite file; `ergo report --html` writes the page
in each language, and Debian's headless Chromium lays it out. A script added to a copy of the page
(the report itself carries none) measures every element: no box whose content is wider than it
(scrollWidth > clientWidth), nothing past the page's or the body's edge, and in the chart every label
inside the picture and clear of every other label. The German screenshot is read back with OCR.
`ergo stats` and `ergo history` under LANG=de_DE.UTF-8 are German, with German numbers and dates, and
English output loads neither gettext nor Babel.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ergo import i18n
from ergo.records.store import Store
from tests.desktop import require_tools
from tests.helpers import isolated_env
from tests.look import keep, read, require_look_tools

LANGUAGES = ("en", "de", "es", "fr", "it", "nl", "pt_BR")
#: a session's LANG for each (nl comes through the `language` setting instead)
SESSION_LANG = {"en": "C.UTF-8", "de": "de_DE.UTF-8", "es": "es_ES.UTF-8", "fr": "fr_FR.UTF-8", "it": "it_IT.UTF-8",
                "nl": "C.UTF-8", "pt_BR": "pt_BR.UTF-8"}
KINDS = {"posture": 10, "hydration": 30, "stretch": 45, "movement": 30, "breathing": 60, "workspace": 120,
         "strength": 90}
WIDTH = 860  # the window: the page is at most 820 px wide plus its margins

#: measures the laid-out page and writes what overflows into <body data-overflow>, and where the headings are
PROBE = """<script>
(function () {
  var out = [], boxes = {};
  function name(el) {
    var text = (el.textContent || "").trim().slice(0, 40);
    return el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined && el.className ?
      "." + el.className : "") + " '" + text + "'";
  }
  var page = document.documentElement.clientWidth, body = document.body.getBoundingClientRect();
  Array.prototype.forEach.call(document.body.querySelectorAll("*"), function (el) {
    if (el instanceof SVGElement && !(el instanceof SVGSVGElement)) return;
    var r = el.getBoundingClientRect();
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
      out.push("wider than its box: " + name(el) + " " + el.scrollWidth + " > " + el.clientWidth);
    if (r.width > 0 && (r.right > page + 0.5 || r.left < -0.5))
      out.push("past the page's edge: " + name(el) + " " + r.left.toFixed(1) + ".." + r.right.toFixed(1));
    if (r.width > 0 && (r.right > body.right + 0.5 || r.left < body.left - 0.5))
      out.push("past the body's edge: " + name(el) + " right " + r.right.toFixed(1) + " > " + body.right.toFixed(1));
  });
  Array.prototype.forEach.call(document.querySelectorAll("svg"), function (svg) {
    var s = svg.getBoundingClientRect();
    var texts = Array.prototype.map.call(svg.querySelectorAll("text"), function (t) {
      return [t, t.getBoundingClientRect()];
    });
    texts.forEach(function (a, i) {
      var r = a[1];
      if (r.left < s.left - 0.5 || r.right > s.right + 0.5 || r.top < s.top - 0.5 || r.bottom > s.bottom + 0.5)
        out.push("outside the chart: " + name(a[0]));
      texts.slice(i + 1).forEach(function (b) {
        var q = b[1];
        var w = Math.min(r.right, q.right) - Math.max(r.left, q.left);
        var h = Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top);
        if (w > 0.5 && h > 0.5) out.push("chart labels overlap: " + name(a[0]) + " and " + name(b[0]));
      });
    });
  });
  ["h1", "h2", "p.legend", "table th"].forEach(function (sel) {
    var el = document.querySelector(sel), r = el.getBoundingClientRect();
    boxes[sel] = [Math.floor(r.left), Math.floor(r.top), Math.ceil(r.width), Math.ceil(r.height)];
  });
  document.body.setAttribute("data-overflow", JSON.stringify(out));
  document.body.setAttribute("data-boxes", JSON.stringify(boxes));
  document.body.setAttribute("data-height", String(document.documentElement.scrollHeight));
})();
</script>"""


def write_month(state: Path, end: datetime, seed: int = 20) -> None:
    """Thirty office days through ergo's Store (its schema, its writes): every kind reminded at its
    interval from 08:00 to 16:00, answered as people do, natural breaks now and then, the spans ergo
    ran and you were at the keyboard; three days ago ergo did not run at all."""
    rng = random.Random(seed)
    store = Store(state / "state.sqlite3")
    try:
        for back in range(30, -1, -1):
            if back == 3:
                continue  # a gap: the chart's dashed box and "not running"
            start = (end - timedelta(days=back)).replace(hour=8, minute=0, second=0, microsecond=0)
            stop = min(start + timedelta(hours=8), end)
            if stop <= start:
                continue
            span = store.open_span("running", start)
            store.close_span(span, stop)
            for a, b in ((start, start + timedelta(hours=3)), (start + timedelta(hours=3, minutes=40), stop)):
                if b > a:
                    present = store.open_span("present", a)
                    store.close_span(present, b)
            for kind, minutes in KINDS.items():
                at = start + timedelta(minutes=minutes)
                while at < stop:
                    ref = store.record(at, kind, "delivered", f"via freedesktop, tip {kind}-{rng.randint(1, 9):02d}")
                    later = at + timedelta(seconds=rng.randint(5, 240))
                    answer = rng.random()
                    if answer < 0.5:
                        store.record(later, kind, "done", "via button", ref)
                    elif answer < 0.62:
                        store.record(later, kind, "snoozed", f"via button, until {later + timedelta(minutes=10):%H:%M}", ref)
                    elif answer < 0.72:
                        store.record(later, kind, "skipped", "via command", ref)
                    elif answer < 0.85:
                        store.record(later, kind, "dismissed", "closed without an answer", ref)
                    if rng.random() < 0.04:
                        store.record(later + timedelta(minutes=2), kind, "natural_break", "idle, 12 min")
                    at += timedelta(minutes=minutes)
    finally:
        store.close()


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("month") / "state"
    state.mkdir(mode=0o700)
    write_month(state, datetime.now(UTC))
    return state


def report_env(root: Path, state: Path, lang: str) -> dict[str, str]:
    """ergo's environment for one reader: LANG like a session's (nl through the `language` setting instead,
    which reaches the report through the settings cache)."""
    env = isolated_env(root, dict(os.environ), HYDRATION__DAILY_GOAL="6",
                       **{f"{kind.upper()}__ENABLED": "true" for kind in KINDS})
    for name in i18n.ENV_ORDER:
        env.pop(name, None)
    env["ERGO_STATE_DIR"] = str(state)
    # the same runtime dir on every call (isolated_env makes a new one for a deep root), so the settings
    # checked by one command are remembered for the next (ergo.config.cache); these commands open no socket
    env["ERGO_RUNTIME_DIR"] = str(root / "run")
    env["TZ"] = "UTC"
    env["LANG"] = SESSION_LANG[lang]
    if lang == "nl":
        env["ERGO_LANGUAGE"] = "nl"
    return env


def make_report(root: Path, state: Path, lang: str) -> Path:
    page = root / f"week-{lang}.html"
    done = subprocess.run([sys.executable, "-m", "ergo", "report", "--html", str(page)], env=report_env(root, state, lang),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return page


def chromium(root: Path, page: Path, *args: str, height: int = 1400) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={root / 'chromium'}",
         "--hide-scrollbars", f"--window-size={WIDTH},{height}", "--virtual-time-budget=2000", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False, env={**os.environ, "HOME": str(root), "LANG": "C.UTF-8"})


def measure(root: Path, page: Path) -> dict[str, object]:
    """Lay the page out in Chromium with the probe added to a copy: what overflows, the headings' boxes, the height."""
    probed = page.with_name(page.stem + "-probed.html")
    probed.write_text(page.read_text("utf-8").replace("</body>", PROBE + "\n</body>"), "utf-8")
    dom = chromium(root, probed, "--dump-dom").stdout
    found = {name: re.search(rf'data-{name}="([^"]*)"', dom) for name in ("overflow", "boxes", "height")}
    assert all(found.values()), f"the probe did not run: {dom[:500]}"
    unquote = lambda text: text.replace("&quot;", '"').replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")  # noqa: E731
    return {"overflow": json.loads(unquote(found["overflow"].group(1))),  # type: ignore[union-attr]
            "boxes": json.loads(unquote(found["boxes"].group(1))),  # type: ignore[union-attr]
            "height": int(found["height"].group(1))}  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_report_renders_in_chromium_in_each_language_without_overflow(lang: str, month: Path, tmp_path: Path) -> None:
    require_tools("chromium")
    page = make_report(tmp_path, month, lang)
    html = page.read_text("utf-8")
    gettext = i18n.translator(lang)
    speaks = {"en": "en", "nl": "nl"}.get(lang, SESSION_LANG[lang].split(".")[0].replace("_", "-"))
    assert f'<html lang="{speaks}">' in html, html[:120]
    for words in ("Your week with ergo", "Reminders and breaks, day by day", "Per kind", "Hours covered",
                  "not running", "answered with a break", "Arbeitsplatz" if lang == "de" else "workspace"):
        assert (gettext(words) if words != "Arbeitsplatz" else words) in html, f"{lang}: {gettext(words)!r} missing"
    if lang != "en":
        for english in ("Your week", "Per kind", "Hours covered", "not running", "Longest stretch", "Hydration:",
                        "reminders", " breaks", "drinks", "ergo ran", " to "):
            assert english not in html.split("<body>", 1)[1], f"{lang}: English {english!r} left in the page"
    today = datetime.now(UTC).date()
    assert i18n.format_date(today, "%d %b %Y", "yMMMd", setting=lang) in html, "the title's date in the language's format"
    percent = re.escape(i18n.format_percent(0.5, setting=lang)).replace("50", r"\d+")
    assert re.search(rf"<td>{percent}</td>", html), f"{lang}: no share written as {i18n.format_percent(0.5, setting=lang)!r}"

    laid_out = measure(tmp_path, page)
    assert laid_out["overflow"] == [], f"{lang}: " + "\n".join(laid_out["overflow"])  # type: ignore[arg-type]
    if lang not in ("de", "fr"):
        return  # the probe has measured it; two screenshots are enough to look at (ERGO_LOOK_DIR keeps them)
    shot = tmp_path / f"report-{lang}.png"
    chromium(tmp_path, page, f"--screenshot={shot}", height=int(laid_out["height"]) + 20)  # type: ignore[call-overload]
    assert shot.exists()
    keep(shot)
    if lang == "de":  # what a German reader sees, read back from the screenshot
        require_look_tools()
        boxes = laid_out["boxes"]
        assert "Deine Woche mit ergo" in read(shot, tuple(boxes["h1"])), read(shot, tuple(boxes["h1"]))  # type: ignore[index]
        chart = read(shot, tuple(boxes["h2"]))  # type: ignore[index]
        assert "Erinnerungen und Pausen" in chart and "Tag" in chart, chart
        legend = read(shot, tuple(boxes["p.legend"]))  # type: ignore[index]
        assert "Haltung" in legend and "Arbeitsplatz" in legend, legend


def test_the_probe_finds_a_long_label_in_a_fixed_width_box(month: Path, tmp_path: Path) -> None:
    """A planted bug: the legend's labels in boxes 4em wide. German "Arbeitsplatz" does not fit, and the
    probe says so; a day label made long enough to run into its neighbour is caught in the chart."""
    require_tools("chromium")
    page = make_report(tmp_path, month, "de")
    html = page.read_text("utf-8")
    planted = page.with_name("planted.html")
    planted.write_text(html.replace(".legend span {", ".legend span { display: inline-block; width: 4em; overflow: hidden;"),
                       "utf-8")
    found = measure(tmp_path, planted)["overflow"]
    assert any("wider than its box" in line and "Arbeitsplatz" in line for line in found), found  # type: ignore[union-attr]
    crowded = page.with_name("crowded.html")
    label = i18n.format_date(datetime.now(UTC).date(), "%d %b", "dMMM", setting="de")
    crowded.write_text(html.replace(f">{label}</text>", ">Mittwoch, der 2. Dezember 2026</text>"), "utf-8")
    found = measure(tmp_path, crowded)["overflow"]
    assert any("overlap" in line or "outside the chart" in line for line in found), found  # type: ignore[union-attr]


# --- ergo stats and ergo history in German --------------------------------------------------------------

def ergo(root: Path, state: Path, lang: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "ergo", *args], env=report_env(root, state, lang),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout


def test_ergo_stats_speaks_german_with_german_numbers_and_dates(month: Path, tmp_path: Path) -> None:
    de = i18n.translator("de")
    today = datetime.now(UTC).date()
    lines = ergo(tmp_path, month, "de", "stats").splitlines()
    first = i18n.format_date(today - timedelta(days=6), "", "EEEdMMM", setting="de")
    assert lines[0].startswith(f"{first} bis {i18n.format_date(today, '', 'EEEdMMM', setting='de')}: ergo lief "), lines[0]
    assert re.fullmatch(r".*: ergo lief \d+ h \d\d min", lines[0]), lines[0]  # "48 h 00 min"
    assert lines[2].split() == ["Art", "erinnert", "erledigt", "verschoben", "übersprungen", "natürlich", "beantwortet"]
    rows = [line for line in lines if line.split() and line.split()[0] in KINDS]
    assert len(rows) == len(KINDS) and all(re.search(r" \d+\xa0%$", row) for row in rows), rows  # "52 %"
    assert de("answered = share of reminders answered with a break (done or a natural break)") in lines
    stretch = next(line for line in lines if line.startswith("längste Zeit an der Tastatur ohne Pause: "))
    assert re.search(r": \d+ h \d\d min \((Mo|Di|Mi|Do|Fr|Sa|So) \d\d:\d\d–\d\d:\d\d\)$", stretch), stretch
    assert any(re.fullmatch(r"Trinken: \d+ Getränke an \d+ Tagen; Ziel 6 am Tag an \d+ davon erreicht", line)
               for line in lines), lines
    gap = i18n.format_date(today - timedelta(days=3), "", "EEEdMMM", setting="de")
    assert any(line.startswith(gap) and line.endswith("· ergo lief nicht") for line in lines), lines
    assert any(line.split()[:4] == i18n.format_date(today, "", "EEEdMMM", setting="de").split() + ["erinnert"]
               for line in lines if line.strip()), "today's bar, labelled in German"
    text = "\n".join(lines)
    for english in ("reminded", "breaks", "kind", "longest", "drinks", "hydration:", "not running", " to "):
        assert english not in text, f"English {english!r} in German `ergo stats`"


def test_german_on_an_ascii_terminal_is_question_marks_not_a_traceback(month: Path, tmp_path: Path) -> None:
    """A pipe or terminal that cannot encode "ü" (PYTHONIOENCODING=ascii): the letter becomes '?', the
    command finishes; the chart falls back to ASCII bars as it always did."""
    for argv in (("stats",), ("history", "--days", "1"), ("tips", "posture")):
        done = subprocess.run([sys.executable, "-m", "ergo", *argv], env=report_env(tmp_path, month, "de") |
                              {"PYTHONIOENCODING": "ascii"}, capture_output=True, timeout=60, check=False)
        assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode()[-500:]
        assert done.stdout.isascii() and b"?" in done.stdout, done.stdout[:300]
    assert b"l?ngste Zeit an der Tastatur" in subprocess.run(
        [sys.executable, "-m", "ergo", "stats"], env=report_env(tmp_path, month, "de") | {"PYTHONIOENCODING": "ascii"},
        capture_output=True, timeout=60, check=False).stdout


def test_ergo_history_speaks_german_and_its_json_stays_english(month: Path, tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    lines = ergo(tmp_path, month, "de", "history", "--days", "2").splitlines()
    days = [i18n.format_date(today - timedelta(days=n), "", "EEEdMMM", setting="de") for n in (2, 1, 0)]
    assert [line for line in lines if not line.startswith("  ")][:-1] == [d for d in days if d in lines] and days[-1] in lines
    entries = [line for line in lines if line.startswith("  ")]
    assert all(re.match(r"  \d\d:\d\d  \w+ +\S", line) for line in entries), entries[:5]
    assert any(re.search(r"erinnert, erledigt mit dem Knopf um \d\d:\d\d$", line) for line in entries), entries[:20]
    assert any(re.search(r"erinnert, verschoben mit dem Knopf um \d\d:\d\d \(bis \d\d:\d\d\)$", line) for line in entries)
    assert any(line.endswith("erinnert, keine Antwort (gezeigt über freedesktop)") for line in entries)
    assert any(line.endswith("erinnert, ohne Antwort geschlossen um " + line[-5:]) for line in entries)
    assert re.fullmatch(r"\d+ Erinnerungen, \d+ mit einer Pause beantwortet; \d+ natürliche Pausen?|"
                        r"\d+ Erinnerungen, \d+ mit einer Pause beantwortet; 1 natürliche Pause", lines[-1]), lines[-1]
    for english in ("reminded", "with the button", "no answer", "shown via", "answered with a break"):
        assert not any(english in line for line in lines), f"English {english!r} in German `ergo history`"
    shown = json.loads(ergo(tmp_path, month, "de", "history", "--days", "2", "--json"))
    assert shown and {entry["what"] for entry in shown} <= {"reminder", "natural break"}
    assert any(entry["detail"] == "shown via freedesktop" for entry in shown), "the JSON is for programs: English"


@pytest.mark.parametrize("command", (("stats",), ("report", "--html", "week.html"), ("history",)))
def test_english_output_loads_neither_gettext_nor_babel(command: tuple[str, ...], month: Path, tmp_path: Path) -> None:
    """English costs nothing: once the settings are checked and remembered (ergo.config.cache), `ergo stats`
    and `ergo report` import neither gettext nor Babel (German, for contrast, loads both and a catalog).
    `ergo history` goes through argparse, which imports gettext for its own messages whatever the
    language: there English opens no catalog and loads no Babel."""
    argv = [*command[:-1], str(tmp_path / command[-1])] if command[0] == "report" else list(command)
    code = ("import runpy, sys\nsys.argv = ['ergo', *sys.argv[1:]]\ntry:\n    runpy.run_module('ergo', run_name='__main__')\n"
            "except SystemExit:\n    pass\nfrom ergo import i18n\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'gettext', 'babel'}), bool(i18n._translations))")
    ergo(tmp_path, month, "en", *argv)  # the first run checks the settings (pydantic-settings imports argparse, gettext)
    english = "['gettext'] False" if command[0] == "history" else "[] False"
    for lang, expected in (("en", english), ("de", "['babel', 'gettext'] True")):
        done = subprocess.run([sys.executable, "-c", code, *argv], env=report_env(tmp_path, month, lang),
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.stdout.strip().splitlines()[-1] == expected, (lang, done.stdout[-300:], done.stderr[-300:])


def test_the_diary_in_german_and_french_word_by_word(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each kind of entry, in German (the held reason reads verb-last after "weil") and French; a time on
    another day says its day in the language's format."""
    import time

    from ergo.records.diary import describe, diary
    from ergo.records.store import HistoryRow

    def row(i: int, minute: int, kind: str, event: str, detail: str = "", ref: int | None = None) -> HistoryRow:
        return HistoryRow(datetime(2026, 11, 23, 9, minute, tzinfo=UTC), kind, event, detail, i, ref)

    rows = [row(1, 0, "posture", "delivered", "via freedesktop"), row(2, 1, "posture", "done", "via button", 1),
            row(3, 5, "hydration", "delivered", "via console"), row(4, 20, "hydration", "natural_break", "idle, 14 min"),
            row(5, 30, "stretch", "skipped_stale", "held since 09:10 (away)"),
            row(6, 31, "movement", "failed", "no notification server"),
            row(7, 40, "posture", "delivered", "via freedesktop"),
            row(8, 45, "stretch", "delivered", "via freedesktop"),
            row(9, 46, "stretch", "snoozed", "via button, until 2026-11-24T08:00:00+00:00", 8)]
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        expected = {
            "de": ["erinnert, erledigt mit dem Knopf um 09:01", "erinnert, erledigt durch eine natürliche Pause um 09:20",
                   "natürliche Pause: weg von der Tastatur, 14 min",
                   "ab 09:10 zurückgehalten, weil du nicht an der Tastatur warst, dann verworfen: sie hatte länger "
                   "als ihr Intervall gewartet",
                   "fehlgeschlagen: konnte nicht gezeigt werden: no notification server",
                   "erinnert, keine Antwort (gezeigt über freedesktop)",
                   "erinnert, verschoben mit dem Knopf um 09:46 (bis Di., 24. Nov., 08:00)"],
            "fr": ["rappel, fait avec le bouton à 09:01", "rappel, fait par une pause naturelle à 09:20",
                   "pause naturelle : loin du clavier pendant 14 min",
                   "retenu depuis 09:10 parce que vous étiez loin du clavier, puis abandonné : il avait attendu plus "
                   "longtemps que son intervalle",
                   "échec : n'a pas pu être affiché : no notification server",
                   "rappel, sans réponse (affiché via freedesktop)",
                   "rappel, reporté avec le bouton à 09:46 (jusqu'à mar. 24 nov. à 08:00)"],
        }
        for lang, lines in expected.items():
            i18n.use(lang)
            assert [describe(entry) for entry in diary(rows)] == lines
    finally:
        i18n.use(i18n.AUTO)
        monkeypatch.delenv("TZ")
        time.tzset()
