"""`ergo stats`: a simulated month through the real Engine and a real SQLite store (no sleeping; the one
time-travel seam the standards allow), exact counts; gaps for days ergo did not run; the terminal chart."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ergo.timing.policy import Engine
from ergo.timing.decisions import Deliver, Outcome, Record, ReminderSpec, Timing
from ergo.records.stats import KindStats, bar, compute, longest_stretch
from ergo.records.store import Span, Store
from ergo.timing.worktime import WorkHours
from tests.helpers import isolated_env

ZONE = ZoneInfo("Europe/Berlin")
FIRST, LAST = date(2026, 10, 29), date(2026, 11, 27)  # 30 days: 22 weekdays, 8 weekend days


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), ZONE).astimezone(UTC)


def _simulate_month(store: Store) -> None:
    """Office days 09:00-17:00, a locked lunch 12:20-12:50, and a person who answers like clockwork:
    posture Done each time but Skip at the end of the day; hydration Done, then Snooze 10 min (and Done when it
    comes back), then no answer. ergo runs only on weekdays, 09:00-17:00."""
    hours = WorkHours.parse("mon-fri", "09:00-17:00", ZONE)
    specs = {"posture": ReminderSpec("posture", timedelta(hours=1), timedelta(minutes=5), hours),
             "hydration": ReminderSpec("hydration", timedelta(hours=2), None, hours)}
    engine: Engine | None = None
    day = FIRST
    while day <= LAST:
        if day.weekday() >= 5:
            day += timedelta(days=1)
            continue
        start, lunch, back, end = _at(day, 9), _at(day, 12, 20), _at(day, 12, 50), _at(day, 17)
        engine = engine or Engine.start(specs, Timing(), start)
        running, present = store.open_span("running", start), store.open_span("present", start)
        t = start
        hydration_seen = 0
        while True:
            wake = engine.next_wakeup(t)
            t = min(x for x in (wake, lunch, back, end) if x is not None and x > t)
            if t >= end:
                break
            outcomes: list[Outcome] = []
            if t == lunch:
                engine.leave(t, "locked")
                store.close_span(present, t)
            elif t == back:
                outcomes += engine.back(t, "locked")
                present = store.open_span("present", t)
            outcomes += engine.tick(t)
            for outcome in outcomes:
                if isinstance(outcome, Record):
                    store.record(outcome.at, outcome.kind, outcome.event, outcome.detail, outcome.ref)
                    continue
                assert isinstance(outcome, Deliver)
                for kind in outcome.kinds:
                    ref = store.record(t, kind, "delivered", "via freedesktop")
                    if kind == "posture":
                        verdict = "skipped" if t.astimezone(ZONE).hour == 16 else "done"
                        answers = engine.answer(t, kind, verdict, detail="via button", ref=ref)
                    else:
                        hydration_seen += 1
                        if hydration_seen == 2:
                            answers = engine.answer(t, kind, "snoozed", until=t + timedelta(minutes=10), detail="via button", ref=ref)
                        elif hydration_seen in (1, 3):
                            answers = engine.answer(t, kind, "done", detail="via command", ref=ref)
                        else:
                            answers = []  # the last one of the day goes unanswered
                    for answer in answers:
                        assert isinstance(answer, Record)
                        store.record(answer.at, answer.kind, answer.event, answer.detail, answer.ref)
        store.close_span(running, end)
        store.close_span(present, end)
        day += timedelta(days=1)


def _month(tmp_path: Path) -> Store:
    store = Store(tmp_path / "state.sqlite3")
    _simulate_month(store)
    return store


def test_a_simulated_month_gives_exact_counts(tmp_path: Path) -> None:
    store = _month(tmp_path)
    since, until = _at(FIRST, 0), _at(LAST + timedelta(days=1), 0)
    stats = compute(store.history(since, limit=10**6, until=until), store.spans("running", since, until),
                    store.spans("present", since, until), FIRST, LAST, ZONE, ["posture", "hydration"], hydration_goal=2)
    posture, hydration = stats.kinds["posture"], stats.kinds["hydration"]
    # posture each weekday: 10, 11, 12, then (lunch counts as its natural break) 13:50, 14:50, 15:50, 16:50
    assert (posture.reminded, posture.done, posture.skipped, posture.snoozed, posture.natural_breaks) == (154, 132, 22, 0, 22)
    assert posture.answered_with_break == 132 and posture.share == 132 / 154
    # hydration each weekday: 11:00 done, 13:00 snoozed, 13:10 done, 15:10 no answer
    assert (hydration.reminded, hydration.done, hydration.snoozed, hydration.skipped, hydration.natural_breaks) == (88, 44, 22, 0, 0)
    assert hydration.answered_with_break == 44
    assert len(stats.days) == 30
    gaps = [d.day for d in stats.days if not d.ran]
    assert len(gaps) == 8 and all(d.weekday() >= 5 for d in gaps)
    assert all(d.reminded is None and d.breaks is None for d in stats.days if not d.ran), "gaps, not zeros"
    assert all((d.reminded, d.breaks) == (11, 9) for d in stats.days if d.ran)  # 7+4 reminders; 6+2 done + 1 natural
    assert stats.hours_covered == 22 * 8
    assert stats.longest_stretch_seconds == 4 * 3600 + 10 * 60  # 12:50-17:00
    assert stats.hydration_goal == 2 and stats.hydration_days_met == 22
    data = stats.as_json()
    assert data["days"][2]["ran"] is False and data["days"][2]["reminded"] is None  # Sat 31 Oct
    assert data["kinds"]["hydration"]["share_answered_with_break"] == 0.5
    store.close()


def test_the_stats_command_draws_bars_and_gaps_in_unicode_or_ascii(tmp_path: Path) -> None:
    """Real CLI over a real store: today ran, yesterday did not (a gap), UTF-8 and ASCII terminals."""
    state = tmp_path / "state"
    store = Store(state / "state.sqlite3")
    now = datetime.now(UTC).replace(microsecond=0)
    span = store.open_span("running", now - timedelta(minutes=30))
    store.close_span(span, now)
    for minutes in (25, 15, 5):
        ref = store.record(now - timedelta(minutes=minutes), "posture", "delivered", "via console")
        store.record(now - timedelta(minutes=minutes) + timedelta(seconds=5), "posture", "done", "via command", ref)
    store.close()
    env = isolated_env(tmp_path, {**__import__("os").environ})
    env["ERGO_STATE_DIR"] = str(state)

    def run(*args: str, encoding: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ergo", "stats", *args], env={**env, "PYTHONIOENCODING": encoding},
                              capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=30, check=False)

    fancy = run(encoding="utf-8")
    assert fancy.returncode == 0, fancy.stderr
    assert "ergo not running" in fancy.stdout and "███" in fancy.stdout
    plain = run(encoding="ascii")
    assert plain.returncode == 0, plain.stderr
    assert "###" in plain.stdout and "█" not in plain.stdout and plain.stdout.isascii()
    data = json.loads(run("--day", "--json", encoding="utf-8").stdout)
    assert data["kinds"]["posture"]["reminded"] == 3 and data["kinds"]["posture"]["done"] == 3
    assert data["kinds"]["posture"]["share_answered_with_break"] == 1.0
    assert [d["ran"] for d in data["days"]] == [True]
    week = json.loads(run("--week", "--json", encoding="utf-8").stdout)
    assert len(week["days"]) == 7 and week["days"][0]["reminded"] is None  # a week ago: not running, a gap


def test_bars_and_stretches() -> None:
    assert bar(3, 6, 8, True) == "████" and bar(3, 6, 8, False) == "####"
    assert bar(1, 16, 8, True) == "▌" and bar(0, 6, 8, True) == ""
    t = datetime(2026, 11, 23, 9, tzinfo=UTC)
    spans = [Span("present", t, t + timedelta(hours=1)), Span("present", t + timedelta(hours=1, seconds=20), t + timedelta(hours=2)),
             Span("present", t + timedelta(hours=3), t + timedelta(hours=4, minutes=30))]
    assert longest_stretch(spans, t, t + timedelta(days=1)) == (t, t + timedelta(hours=2))  # 2h beats 1h30m
    assert longest_stretch(spans, t, t + timedelta(hours=1, minutes=30)) == (t, t + timedelta(hours=1, minutes=30))


def test_open_spans_reach_the_last_sign_of_life_and_a_crash_closes_them_there(tmp_path: Path) -> None:
    """No write each minute for the running span: it ends at the daemon's sign of life (a file time)."""
    marker = tmp_path / "ergo.alive"
    store = Store(tmp_path / "state.sqlite3", alive_marker=marker)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    store.open_span("running", t0)
    store.mark_alive(t0 + timedelta(minutes=40))
    window = (t0 - timedelta(days=1), t0 + timedelta(days=1))
    [span] = store.spans("running", *window)
    assert abs((span.end - (t0 + timedelta(minutes=40))).total_seconds()) < 1
    store.close()  # a crash: the span was never closed
    again = Store(tmp_path / "state.sqlite3", alive_marker=marker)
    again.close_stale_spans()  # what the next start does first
    again.mark_alive(t0 + timedelta(minutes=90))  # the new daemon's sign of life must not stretch the old span
    [span] = again.spans("running", *window)
    assert abs((span.end - (t0 + timedelta(minutes=40))).total_seconds()) < 1
    again.close()


def test_each_history_event_lands_in_its_own_count_and_a_stale_skip_is_dropped_not_skipped() -> None:
    """One row of each event on one day: every count is exactly one, and nothing else is counted."""
    from ergo.records.store import HistoryRow

    day = date(2026, 11, 23)
    events = ["delivered", "done", "snoozed", "skipped", "natural_break", "skipped_stale", "failed",
              "dismissed", "sending"]  # the last two are not counted
    rows = [HistoryRow(_at(day, 9, i), "posture", event, "", id=i + 1) for i, event in enumerate(events)]
    stats = compute(rows, [], [], day, day, ZONE, ["posture"])
    posture = stats.kinds["posture"]
    assert (posture.reminded, posture.done, posture.snoozed, posture.skipped, posture.natural_breaks, posture.dropped,
            posture.failed) == (1, 1, 1, 1, 1, 1, 1)
    assert stats.days[0].kinds is not None and stats.days[0].kinds["posture"].dropped == 1
    assert stats.as_json()["kinds"]["posture"]["dropped"] == 1 and stats.as_json()["kinds"]["posture"]["skipped"] == 1


def test_the_text_of_ergo_stats_line_by_line(monkeypatch) -> None:
    """Two days, one ran and one did not: the whole text, in Unicode and in ASCII."""
    import time as _time

    from ergo.records.stats import chart, hm, period, render
    from ergo.records.store import HistoryRow

    monkeypatch.setenv("TZ", "UTC")
    _time.tzset()
    try:
        zone = ZoneInfo("UTC")
        day = date(2026, 11, 23)
        rows, n = [], 0
        for minute, kind, event in ((0, "posture", "delivered"), (1, "posture", "done"), (10, "posture", "delivered"),
                                    (11, "posture", "snoozed"), (20, "hydration", "delivered"), (21, "hydration", "done"),
                                    (30, "hydration", "natural_break"), (40, "posture", "delivered"),
                                    (41, "posture", "skipped")):
            n += 1
            rows.append(HistoryRow(datetime.combine(day, time(9, minute), zone), kind, event, "", id=n,
                                   ref=n - 1 if event in ("done", "snoozed", "skipped") else None))
        running = [Span("running", datetime.combine(day, time(9), zone), datetime.combine(day, time(10, 30), zone))]
        present = [Span("present", datetime.combine(day, time(9, 5), zone), datetime.combine(day, time(9, 47), zone))]
        stats = compute(rows, running, present, day, day + timedelta(days=1), zone, ["posture", "hydration"],
                        hydration_goal=1)
        assert render(stats, True).splitlines() == [
            "Mon 23 Nov to Tue 24 Nov: ergo ran 1h30m",
            "",
            "kind       reminded  done snoozed skipped natural answered",
            "posture           3     1       1       1       0      33%",
            "hydration         1     1       0       0       1     100%",
            "answered = share of reminders answered with a break (done or a natural break)",
            "",
            "longest stretch at the keyboard without a break: 42m (Mon 09:05-09:47)",
            "hydration: 1 drink on 1 day; goal 1 a day met on 1 of them",
            "",
            "Mon 23 Nov  reminded   4 ██████████████████████████████",
            "            breaks     3 " + "▓" * 22 + "▌",  # 3/4 of 30 cells: 22 and a half
            "Tue 24 Nov  · ergo not running",
        ]
        posture = {"reminded": 3, "done": 1, "snoozed": 1, "skipped": 1, "natural_breaks": 0, "dropped": 0, "failed": 0,
                   "breaks": 1, "answered_with_break": 1, "share_answered_with_break": 1 / 3}
        hydration = {"reminded": 1, "done": 1, "snoozed": 0, "skipped": 0, "natural_breaks": 1, "dropped": 0, "failed": 0,
                     "breaks": 2, "answered_with_break": 1, "share_answered_with_break": 1.0}
        assert stats.as_json() == {
            "from": "2026-11-23", "to": "2026-11-24", "hours_covered": 1.5,
            "kinds": {"posture": posture, "hydration": hydration},
            "longest_stretch_seconds": 42 * 60.0,
            "longest_stretch": {"start": "2026-11-23T09:05:00+00:00", "end": "2026-11-23T09:47:00+00:00"},
            "hydration": {"done": 1, "daily_goal": 1, "days_goal_met": 1},
            "days": [{"date": "2026-11-23", "ran": True, "hours_covered": 1.5, "reminded": 4, "breaks": 3,
                      "kinds": {"posture": posture, "hydration": hydration}},
                     {"date": "2026-11-24", "ran": False, "hours_covered": 0.0, "reminded": None, "breaks": None,
                      "kinds": None}],
        }
        assert chart(stats, False) == ["Mon 23 Nov  reminded   4 " + "#" * 30, "            breaks     3 " + "=" * 22,
                                   "Tue 24 Nov  . ergo not running"]
        stats.hydration_goal = None
        assert "hydration: 1 drink (set hydration.daily_goal to count against a goal)" in render(stats, False).splitlines()
        stats.longest_stretch = None
        stats.kinds["stretch"] = KindStats()  # enabled, never reminded: no share to show
        del stats.kinds["hydration"]
        lines = render(stats, False).splitlines()
        assert "longest stretch at the keyboard: no presence recorded" in lines
        assert "stretch           0     0       0       0       0        -" in lines
        assert "hydration: 0 drinks (set hydration.daily_goal to count against a goal)" in lines
        assert [bar(1, 1, 8, True), bar(1, 1, 8, False), bar(1, 0, 8, True), bar(0.5, 1, 1, True), bar(1, 100, 8, True),
                bar(1, 100, 8, False), bar(6, 8, 1, True), bar(15, 16, 1, True), bar(2, 0.5, 1, False)] == [
            "████████", "########", "", "▌", "▏", "#", "▊", "▉", "####"]
        assert [hm(s) for s in (0, 29, 31, 59 * 60, 3600, 3900, 3629)] == ["0m", "0m", "1m", "59m", "1h00m", "1h05m",
                                                                           "1h00m"]
        assert period(date(2026, 11, 30), "day") == (date(2026, 11, 30), date(2026, 11, 30))
        assert period(date(2026, 11, 30), "week") == (date(2026, 11, 24), date(2026, 11, 30))
        assert period(date(2026, 11, 30), "month") == (date(2026, 11, 1), date(2026, 11, 30))
    finally:
        monkeypatch.delenv("TZ")
        _time.tzset()
