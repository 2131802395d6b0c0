"""What `ergo stats` counts, at its edges: a day runs from local midnight to local midnight, a day ergo did not
run is a gap, every run and every history row of a day counts once, the longest stretch at the keyboard, the
hydration goal, and a chart whose bars are the numbers beside them. Pure: rows and spans in, numbers out."""

from __future__ import annotations

import re
import time as _time
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ergo import i18n
from ergo.records import stats as stats_module
from ergo.records.stats import SAME_STRETCH, chart, compute, longest_stretch, render
from ergo.records.store import HistoryRow, Span

ZONE = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 23)  # a Monday
H = timedelta(hours=1)


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), ZONE)


def _rows(*events: tuple[datetime, str, str]) -> list[HistoryRow]:
    return [HistoryRow(at, kind, event, "", id=n) for n, (at, kind, event) in enumerate(events, 1)]


def _running(*spans: tuple[datetime, datetime]) -> list[Span]:
    return [Span("running", a, b) for a, b in spans]


def _present(*spans: tuple[datetime, datetime]) -> list[Span]:
    return [Span("present", a, b) for a, b in spans]


def test_a_day_runs_from_local_midnight_to_local_midnight_and_each_row_counts_once() -> None:
    nxt = DAY + timedelta(days=1)
    rows = _rows((_at(DAY, 0), "posture", "delivered"), (_at(DAY, 0, 30), "posture", "delivered"),
                 (_at(nxt, 0), "posture", "delivered"), (_at(nxt, 0, 30), "posture", "delivered"),
                 (_at(nxt + timedelta(days=1), 0), "posture", "delivered"))  # the day after the period
    stats = compute(rows, [], [], DAY, nxt, ZONE, ["posture"])
    assert [d.reminded for d in stats.days] == [2, 2]
    assert stats.kinds["posture"].reminded == 4


def test_hours_covered_add_up_every_run_of_a_day() -> None:
    """A daemon restarted at lunch ran twice that day: both runs count, in the period and on the day."""
    stats = compute([], _running((_at(DAY, 9), _at(DAY, 10)), (_at(DAY, 11), _at(DAY, 11, 30))), [], DAY, DAY,
                    ZONE, ["posture"])
    assert stats.hours_covered == 1.5 and stats.days[0].hours_covered == 1.5


def test_ergo_stopped_at_midnight_did_not_run_the_next_day_and_one_started_at_midnight_did() -> None:
    """Days ergo did not run are gaps: a run that ended as a day began, or began as the day ended, is not that
    day's; a daemon that has just started at midnight (its span has no length yet) ran on the day it started."""
    sun, mon, tue = DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)
    running = _running((_at(sun, 22), _at(mon, 0)), (_at(tue, 0), _at(tue, 0)))
    stats = compute([], running, [], sun, tue, ZONE, ["posture"])
    assert [d.ran for d in stats.days] == [True, False, True]
    assert [d.reminded for d in stats.days] == [0, None, 0]
    assert [d.hours_covered for d in stats.days] == [2, 0, 0]


def test_a_presence_that_ended_as_the_period_began_is_no_stretch() -> None:
    start, end = _at(DAY, 0), _at(DAY + timedelta(days=1), 0)
    assert longest_stretch(_present((start - 2 * H, start)), start, end) is None
    assert longest_stretch(_present((end, end + H)), start, end) is None
    stats = compute([], [], _present((start - 2 * H, start)), DAY, DAY, ZONE, ["posture"])
    assert stats.longest_stretch is None and stats.as_json()["longest_stretch"] is None


def test_the_longest_stretch_counts_the_period_after_presence_from_before_it() -> None:
    start, end = _at(DAY, 0), _at(DAY + timedelta(days=1), 0)
    present = _present((start - 3 * H, start - 2 * H), (start + 9 * H, start + 10 * H))
    assert longest_stretch(present, start, end) == (start + 9 * H, start + 10 * H)


def test_presence_spans_closer_than_a_minute_are_one_stretch_and_a_minute_apart_two() -> None:
    t = _at(DAY, 9)
    joined = _present((t, t + H), (t + H + SAME_STRETCH - timedelta(seconds=1), t + 2 * H))
    assert longest_stretch(joined, t - H, t + 3 * H) == (t, t + 2 * H)
    apart = _present((t, t + H), (t + H + SAME_STRETCH, t + 2 * H))
    assert longest_stretch(apart, t - H, t + 3 * H) == (t, t + H)  # two stretches just under an hour


def test_the_longest_stretch_is_the_longest_and_of_equal_ones_the_first() -> None:
    t = _at(DAY, 9)
    longer_first = _present((t, t + 2 * H), (t + 3 * H, t + 4 * H))
    assert longest_stretch(longer_first, t, t + 12 * H) == (t, t + 2 * H)
    equal = _present((t, t + H), (t + 2 * H, t + 3 * H))
    assert longest_stretch(equal, t, t + 12 * H) == (t, t + H)
    stats = compute([], [], longer_first, DAY, DAY, ZONE, ["posture"])
    assert stats.longest_stretch_seconds == 2 * 3600


def test_a_row_stats_does_not_count_does_not_stop_the_rows_after_it() -> None:
    rows = _rows((_at(DAY, 9), "posture", "dismissed"), (_at(DAY, 10), "posture", "delivered"),
                 (_at(DAY, 10, 1), "posture", "done"))
    stats = compute(rows, [], [], DAY, DAY, ZONE, ["posture"])
    assert (stats.kinds["posture"].reminded, stats.kinds["posture"].done) == (1, 1)


def test_a_kind_turned_off_since_still_shows_what_happened() -> None:
    rows = [HistoryRow(_at(DAY, 9), "hydration", "delivered", "", id=1),
            HistoryRow(_at(DAY, 9, 1), "hydration", "done", "via button", id=2, ref=1)]
    stats = compute(rows, [], [], DAY, DAY, ZONE, ["posture"])
    assert list(stats.kinds) == ["posture", "hydration"]
    hydration = stats.kinds["hydration"]
    assert (hydration.reminded, hydration.done, hydration.answered_with_break) == (1, 1, 1)


def test_the_hydration_goal_counts_days_met_and_without_a_goal_says_none() -> None:
    rows = _rows((_at(DAY, 9), "posture", "delivered"))
    rows += _rows((_at(DAY + timedelta(days=1), 9), "posture", "delivered"))
    with_goal = compute(rows, [], [], DAY, DAY + timedelta(days=1), ZONE, ["posture"], hydration_goal=2)  # hydration off
    assert with_goal.hydration_days_met == 0
    assert "0 drinks on 2 days; goal 2 a day met on 0 of them" in render(with_goal, False)
    without = compute(rows, [], [], DAY, DAY, ZONE, ["posture", "hydration"])
    assert without.hydration_days_met is None
    assert without.as_json()["hydration"] == {"done": 0, "daily_goal": None, "days_goal_met": None}


def test_hours_in_json_are_rounded_to_four_places() -> None:
    stats = compute([], _running((_at(DAY, 9), _at(DAY, 9, 20))), [], DAY, DAY, ZONE, ["posture"])
    data = stats.as_json()
    assert data["hours_covered"] == 0.3333 and data["days"][0]["hours_covered"] == 0.3333


def test_a_week_running_day_and_night_reads_168_hours() -> None:
    first = DAY - timedelta(days=6)
    stats = compute([], _running((_at(first, 0), _at(DAY + timedelta(days=1), 0))), [], first, DAY, ZONE, ["posture"])
    assert stats.hours_covered == 168
    assert "168h00m" in render(stats, False).splitlines()[0]


def _numbers(line: str) -> tuple[int, str]:
    """The count and the bar of one chart line (the words before them are the reader's language)."""
    match = re.search(r" (\d+) ([^\d]*)$", line)
    assert match, line
    return int(match.group(1)), match.group(2)


def test_the_chart_shows_each_day_with_bars_as_long_as_its_numbers() -> None:
    """A gap first, then a day with one reminder answered (full bars: the scale is the busiest number), then a
    day ergo ran with nothing to count (zeros, no bars)."""
    sun, mon, tue = DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)
    rows = [HistoryRow(_at(mon, 9), "posture", "delivered", "", id=1),
            HistoryRow(_at(mon, 9, 1), "posture", "done", "", id=2, ref=1)]
    stats = compute(rows, _running((_at(mon, 9), _at(mon, 10)), (_at(tue, 9), _at(tue, 10))), [], sun, tue, ZONE,
                    ["posture"])
    lines = chart(stats, unicode=False, width=10)
    assert len(lines) == 5 and lines[0].startswith("Sun 22 Nov  .")
    assert [_numbers(line) for line in lines[1:]] == [(1, "#" * 10), (1, "=" * 10), (0, ""), (0, "")]


def _one_day_answered() -> list[HistoryRow]:
    return [HistoryRow(_at(DAY, 9), "posture", "delivered", "", id=1),
            HistoryRow(_at(DAY, 9, 1), "posture", "done", "", id=2, ref=1)]


@pytest.mark.parametrize("words", [{"reminded": "r", "breaks": "b"}, {"reminded": "reminders shown", "breaks": "b"},
                                   {"reminded": "r", "breaks": "breaks you took"}], ids=["short", "long-1", "long-2"])
def test_in_any_language_a_days_two_numbers_share_a_column(monkeypatch, words) -> None:
    """The words before the numbers are the reader's language: the numbers and bars still line up under each other,
    and where the words are no longer than English's they sit where English has them."""
    stats = compute(_one_day_answered(), [], [], DAY, DAY, ZONE, ["posture"])
    english = chart(stats, unicode=False, width=10)
    monkeypatch.setattr(stats_module, "_", lambda message: words.get(message, message))
    translated = chart(stats, unicode=False, width=10)
    columns = [line.index(" 1 ") for line in translated]
    assert columns[0] == columns[1], translated
    assert columns[0] >= max(map(len, words.values())) + 12
    if max(map(len, words.values())) <= len("reminded"):
        assert columns == [line.index(" 1 ") for line in english]


def test_days_and_the_stretch_are_dated_the_readers_way(monkeypatch) -> None:
    """In French the chart's days and the stretch's weekday are CLDR's (Babel), not English strftime."""
    monkeypatch.setattr(i18n, "_current", "fr")
    monkeypatch.setenv("TZ", "Europe/Berlin")
    _time.tzset()
    try:
        stats = compute(_one_day_answered(), [], _present((_at(DAY, 9, 5), _at(DAY, 9, 47))), DAY - timedelta(days=1),
                        DAY, ZONE, ["posture"])
        lines = chart(stats, unicode=False)
        assert lines[0].startswith("dim. 22 nov.  .") and lines[1].startswith("lun. 23 nov.  ")
        assert lines[1].index(" 1 ") == lines[2].index(" 1 "), lines  # labels longer than English's: still one column
        assert "42 min (lun. 09:05" in render(stats, False)
    finally:
        monkeypatch.undo()
        _time.tzset()
