"""Work hours: parsing days and windows, windows across midnight, and DST in a real zone."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ergo.timing.worktime import Window, WorkHours, WorkHoursError, local_zone, parse_days, parse_hours

BERLIN = ZoneInfo("Europe/Berlin")
SPRING_2026 = date(2026, 3, 29)  # 02:00 CET -> 03:00 CEST
FALL_2026 = date(2026, 10, 25)  # 03:00 CEST -> 02:00 CET


def at(day: date, clock: str, zone=BERLIN, fold: int = 0) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=zone, fold=fold).astimezone(UTC)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail instead of hanging the whole run (pure-Python loops see SIGALRM)."""

    def expired(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"did not finish within {seconds}s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def libc_tz(value: str) -> Iterator[None]:
    """Set TZ for this process and libc (time.tzset), as a shell's `TZ=... ergo` does; restored after."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = value
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def hours_of(span: tuple[datetime, datetime] | None, zone: ZoneInfo) -> tuple[str, str] | None:
    return None if span is None else tuple(moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") for moment in span)


# --- days -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("mon,wed,fri", {0, 2, 4}),
        ("sat-sun", {5, 6}),
        ("fri-mon", {4, 5, 6, 0}),
        ("Monday-Tuesday", {0, 1}),
        (" mon - wed , sun ", {0, 1, 2, 6}),
        ("every day", set(range(7))),
        ("daily", set(range(7))),
        ("everyday", set(range(7))),
        ("All", set(range(7))),
        ("*", set(range(7))),
        ("mon-sun", set(range(7))),
        ("tue", {1}),
    ],
)
def test_parse_days(text: str, days: set[int]) -> None:
    assert parse_days(text) == frozenset(days)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("mon-funday", '"funday" is not a day'),
        ("", "empty entry"),
        ("mon,,fri", "empty entry"),
        ("mon-wed-fri", "not a day range"),
        ("weekdays", '"weekdays" is not a day'),
    ],
)
def test_bad_days(text: str, fragment: str) -> None:
    with pytest.raises(WorkHoursError, match=fragment) as caught:
        parse_days(text)
    assert "\n" not in str(caught.value)


# --- hours ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "windows"),
    [
        ("09:00-17:30", [Window(540, 1050)]),
        ("13:30-18:00, 09:00-12:30", [Window(540, 750), Window(810, 1080)]),  # sorted
        ("00:00-24:00", [Window(0, 1440)]),
        ("22:00-06:00", [Window(1320, 1800)]),  # crosses midnight
        ("9:05-9:10", [Window(545, 550)]),
        ("18:00-24:00, 00:00-06:00", [Window(0, 360), Window(1080, 1440)]),  # touching is fine
        ("12:00-13:00, 09:00-12:00", [Window(540, 720), Window(720, 780)]),  # in either order
        ("00:00-06:00, 18:00-24:00", [Window(0, 360), Window(1080, 1440)]),
        ("22:00-06:00, 06:00-22:00", [Window(360, 1320), Window(1320, 1800)]),
        ("06:00-22:00, 22:00-06:00", [Window(360, 1320), Window(1320, 1800)]),
        ("00:00-23:59", [Window(0, 1439)]),
        (" 09:00 - 17:30 ", [Window(540, 1050)]),
    ],
)
def test_parse_hours(text: str, windows: list[Window]) -> None:
    assert list(parse_hours(text)) == windows


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("25:00-26:00", '"25:00" is not a time of day'),
        ("09:00-25:00", '"25:00" is not a time of day'),
        ("09:60-10:00", '"09:60" is not a time of day'),
        ("24:00-06:00", '"24:00" is not a time of day'),  # 24:00 only as an end
        ("9-5", '"9" is not a time of day'),
        ("09:00", "is not a time window"),
        ("09:00-12:00-13:00", '"09:00-12:00-13:00" is not a time window'),
        ("09:00-24:01", '"24:01" is not a time of day'),
        ("22:00-24:30", '"24:30" is not a time of day'),
        ("9:5-10:00", '"9:5" is not a time of day'),
        ("109:00-10:00", '"109:00" is not a time of day'),
        ("", "is not a time window"),
        ("09:00-09:00", "empty window"),
        ("09:00-12:00, 11:00-13:00", "overlap"),
        ("22:00-06:00, 05:00-07:00", "overlap"),  # the night window reaches into the morning
        ("05:00-07:00, 22:00-06:00", "overlap"),  # the same, written the other way round
        ("22:00-02:00, 23:00-01:00", "overlap"),
    ],
)
def test_bad_hours(text: str, fragment: str) -> None:
    with pytest.raises(WorkHoursError, match=fragment) as caught:
        parse_hours(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (parse_days, "mon-funday", '"funday" is not a day (use mon, tue, wed, thu, fri, sat, sun)'),
        (parse_days, "mon,,fri", '"mon,,fri" has an empty entry (write e.g. mon-fri or mon,wed,fri)'),
        (parse_days, "mon-wed-fri", '"mon-wed-fri" is not a day range (write e.g. mon-fri)'),
        (parse_hours, "09:00", '"09:00" is not a time window (write e.g. 09:00-17:30)'),
        (parse_hours, "9 -17:00", '"9" is not a time of day (write HH:MM, e.g. 09:00)'),
        (parse_hours, "09:00- 25:00", '"25:00" is not a time of day (hours 00-23, minutes 00-59; 24:00 only as an end)'),
        (parse_hours, "09:00-09:00", '"09:00-09:00" is an empty window (start and end are the same)'),
        (parse_hours, "09:00-12:00, 11:00-13:00", "windows 09:00-12:00 and 11:00-13:00 overlap"),
    ],
)
def test_the_whole_message_names_the_bad_part_and_how_to_write_it(parse, text: str, message: str) -> None:
    with pytest.raises(WorkHoursError) as caught:
        parse(text)
    assert str(caught.value) == message


def test_window_text() -> None:
    assert [str(w) for w in parse_hours("22:00-06:00, 09:00-17:00")] == ["09:00-17:00", "22:00-06:00"]
    assert str(parse_hours("18:00-24:00")[0]) == "18:00-24:00"


# --- always ---------------------------------------------------------------


def test_always_default() -> None:
    hours = WorkHours.parse("mon-sun", "00:00-24:00", UTC)
    assert hours.always
    assert hours.describe() == "every day, all day"
    moment = datetime(2026, 5, 5, 3, tzinfo=UTC)
    start, end = hours.window_at(moment)
    assert start <= moment < end
    assert hours.next_start(moment) is None


@pytest.mark.parametrize(("days", "hours"), [("mon-fri", "00:00-24:00"), ("every day", "09:00-17:00")])
def test_not_always(days: str, hours: str) -> None:
    assert not WorkHours.parse(days, hours, UTC).always


def test_touching_windows_covering_every_day_do_not_hang() -> None:
    """Regression: an unbounded merge loop in WorkHours._extend never returned here (`ergo schedule` hung)."""
    hours = WorkHours.parse("every day", "00:00-12:00, 12:00-24:00", UTC)
    with time_limit(0.5):
        window = hours.window_at(datetime(2026, 5, 5, 10, tzinfo=UTC))
    assert window is not None and window[0] <= datetime(2026, 5, 5, 10, tzinfo=UTC) < window[1]


def test_touching_windows_on_some_days_merge() -> None:
    hours = WorkHours.parse("mon-fri", "00:00-12:00, 12:00-24:00", UTC)
    with time_limit(2):
        start, end = hours.window_at(datetime(2026, 5, 5, 10, tzinfo=UTC))  # a Tuesday
    assert start == datetime(2026, 5, 5, 0, tzinfo=UTC)  # Tuesday 00:00 (the span holding `now`)
    assert end == datetime(2026, 5, 9, 0, tzinfo=UTC)  # Friday 24:00: every touching span joined


def test_windows_touching_all_week_round_are_one_window_cut_a_week_on() -> None:
    """Touching windows that cover every instant never end: window_at gives one window, cut a week
    after its first span ends (so callers get an end, and `ergo schedule` does not hang)."""
    hours = WorkHours.parse("every day", "00:00-12:00, 12:00-24:00", UTC)
    tuesday = date(2026, 5, 5)
    assert hours.window_at(at(tuesday, "10:00", UTC)) == (at(tuesday, "00:00", UTC), at(tuesday + timedelta(days=7), "12:00", UTC))


def test_many_touching_windows_merge_to_the_real_end_of_the_week() -> None:
    """Four touching windows a weekday are one window from Monday 00:00 to Saturday 00:00: the whole
    working week, however many windows it is made of (the end is where work hours really end)."""
    hours = WorkHours.parse("mon-fri", "00:00-06:00, 06:00-12:00, 12:00-18:00, 18:00-24:00", UTC)
    monday, saturday = date(2026, 5, 4), date(2026, 5, 9)
    assert hours.window_at(at(monday, "10:00", UTC)) == (at(monday, "06:00", UTC), at(saturday, "00:00", UTC))


# --- windows in time (UTC zone) -------------------------------------------


def test_window_at_and_next_start_office_hours() -> None:
    hours = WorkHours.parse("mon-fri", "09:00-12:30, 13:30-18:00", UTC)
    tuesday = date(2026, 5, 5)
    assert hours.window_at(at(tuesday, "10:00", UTC)) == (at(tuesday, "09:00", UTC), at(tuesday, "12:30", UTC))
    assert hours.window_at(at(tuesday, "12:30", UTC)) is None  # end is exclusive
    assert hours.window_at(at(tuesday, "09:00", UTC)) is not None  # start inclusive
    assert hours.next_start(at(tuesday, "12:45", UTC)) == (at(tuesday, "13:30", UTC), at(tuesday, "18:00", UTC))
    # strictly after: from the very start of a window, the next one (a caller walking starts moves on)
    assert hours.next_start(at(tuesday, "09:00", UTC)) == (at(tuesday, "13:30", UTC), at(tuesday, "18:00", UTC))
    friday_evening = at(date(2026, 5, 8), "18:00", UTC)
    assert hours.window_at(friday_evening) is None
    assert hours.next_start(friday_evening)[0] == at(date(2026, 5, 11), "09:00", UTC)  # Monday


def test_window_crossing_midnight_belongs_to_the_day_it_starts() -> None:
    hours = WorkHours.parse("fri", "22:00-06:00", UTC)
    friday, saturday = date(2026, 5, 8), date(2026, 5, 9)
    span = (at(friday, "22:00", UTC), at(saturday, "06:00", UTC))
    assert hours.window_at(at(saturday, "02:00", UTC)) == span
    assert hours.window_at(at(friday, "23:59", UTC)) == span
    assert hours.window_at(at(saturday, "06:00", UTC)) is None
    assert hours.window_at(at(saturday, "22:30", UTC)) is None  # Saturday is not a work day
    assert hours.window_at(at(friday, "02:00", UTC)) is None  # Thursday night is not either
    assert hours.next_start(at(saturday, "07:00", UTC))[0] == at(date(2026, 5, 15), "22:00", UTC)


def test_touching_windows_across_midnight_merge() -> None:
    hours = WorkHours.parse("every day", "18:00-24:00, 00:00-06:00", UTC)
    day = date(2026, 5, 5)
    assert hours.window_at(at(day, "20:00", UTC)) == (at(day, "18:00", UTC), at(day + timedelta(days=1), "06:00", UTC))


def test_next_start_a_week_on_when_today_is_the_only_work_day() -> None:
    hours = WorkHours.parse("fri", "22:00-06:00", UTC)
    friday = date(2026, 5, 8)
    assert hours.next_start(at(friday, "23:00", UTC)) == (at(friday + timedelta(days=7), "22:00", UTC), at(friday + timedelta(days=8), "06:00", UTC))
    assert WorkHours(frozenset(), parse_hours("09:00-17:00"), UTC).next_start(at(friday, "08:00", UTC)) is None  # no work day


@pytest.mark.parametrize("text", ["09:00-17:00", "02:30-05:00"])  # the second starts in the spring gap
def test_spans_are_utc_instants_whatever_the_machines_zone(text: str) -> None:
    """spans_on, window_at and next_start give UTC datetimes (what status and the schedule print from),
    also on a machine set to another zone."""
    hours = WorkHours.parse("every day", text, BERLIN)
    with libc_tz("Asia/Tokyo"):
        spans = hours.spans_on(SPRING_2026) + [hours.next_start(at(SPRING_2026, "00:00"))]
        spans.append(hours.window_at(spans[0][0]))
    assert all(moment.utcoffset() == timedelta(0) for span in spans for moment in span)
    assert spans[0][0] == at(SPRING_2026, text[:5] if text < "02" or text > "03" else "03:00")


def test_the_work_hours_zone_decides_the_day_not_the_machines() -> None:
    """New York's Monday evening is Tuesday in UTC (the machine's zone here): the next window is
    Monday 22:00 in New York, not Tuesday's; the same on the other side of UTC, in Tokyo."""
    new_york, tokyo = ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")
    monday = date(2026, 5, 4)
    with libc_tz("UTC"):
        evening = WorkHours.parse("every day", "22:00-23:00", new_york)
        assert hours_of(evening.next_start(at(monday, "21:00", new_york)), new_york) == ("2026-05-04 22:00", "2026-05-04 23:00")
        assert hours_of(evening.window_at(at(monday, "22:30", new_york)), new_york) == ("2026-05-04 22:00", "2026-05-04 23:00")
        touching = WorkHours.parse("every day", "12:00-20:00, 20:00-23:00", new_york)  # 20:00 is 00:00 UTC
        assert hours_of(touching.window_at(at(monday, "13:00", new_york)), new_york) == ("2026-05-04 12:00", "2026-05-04 23:00")
    with libc_tz("America/New_York"):
        morning = WorkHours.parse("every day", "01:00-02:00", tokyo)  # Tokyo's 01:00 is New York's noon the day before
        assert hours_of(morning.next_start(at(monday, "00:30", tokyo)), tokyo) == ("2026-05-04 01:00", "2026-05-04 02:00")
        assert hours_of(morning.window_at(at(monday, "01:30", tokyo)), tokyo) == ("2026-05-04 01:00", "2026-05-04 02:00")


# --- DST in Europe/Berlin, 2026 -------------------------------------------


def _walk(hours: WorkHours, first: datetime, last: datetime) -> tuple[dict[date, set[datetime]], dict[date, int]]:
    """Minute by minute: the window starts seen per local day of the start, and minutes inside per day."""
    starts: dict[date, set[datetime]] = {}
    minutes: dict[date, int] = {}
    moment = first
    while moment < last:
        window = hours.window_at(moment)
        if window is not None:
            start, end = window
            assert start <= moment < end
            day = start.astimezone(BERLIN).date()
            starts.setdefault(day, set()).add(start)
            minutes[day] = minutes.get(day, 0) + 1
        moment += timedelta(minutes=1)
    return starts, minutes


def _chain(hours: WorkHours, first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    spans = []
    moment = first
    while (upcoming := hours.next_start(moment)) is not None and upcoming[0] < last:
        spans.append(upcoming)
        moment = upcoming[0]
    return spans


@pytest.mark.parametrize(
    ("dst_day", "text", "full_windows"),
    [
        # full_windows: {days after the DST day of the window's start: its real length in minutes}
        pytest.param(SPRING_2026, "09:00-17:00", {0: 480}, id="spring-office"),
        pytest.param(SPRING_2026, "22:00-06:00", {-1: 420, 0: 480}, id="spring-night"),
        pytest.param(SPRING_2026, "01:00-04:00", {0: 120, 1: 180}, id="spring-around-gap"),
        pytest.param(FALL_2026, "09:00-17:00", {0: 480}, id="fall-office"),
        pytest.param(FALL_2026, "22:00-06:00", {-1: 540, 0: 480}, id="fall-night"),
        pytest.param(FALL_2026, "01:00-04:00", {0: 240, 1: 180}, id="fall-around-repeat"),
        # issue 16: a window with its start or end in the repeated hour keeps its nominal length (one pass)
        pytest.param(FALL_2026, "02:30-05:00", {0: 150, 1: 150}, id="fall-start-in-repeat"),
        pytest.param(FALL_2026, "01:30-02:30", {0: 60, 1: 60}, id="fall-end-in-repeat"),
        pytest.param(FALL_2026, "02:35-03:00", {0: 25, 1: 25}, id="fall-ends-where-the-clock-turns-back"),
        pytest.param(FALL_2026, "02:10-02:40", {0: 30, 1: 30}, id="fall-inside-repeat"),
    ],
)
def test_dst_neither_doubles_nor_skips_a_window(dst_day: date, text: str, full_windows: dict[int, int]) -> None:
    hours = WorkHours.parse("every day", text, BERLIN)
    first = at(dst_day - timedelta(days=1), "12:00")
    last = at(dst_day + timedelta(days=1), "12:00")
    starts, minutes = _walk(hours, first, last)
    # exactly one start per local day, at the window's wall-clock start; the DST day has its window
    assert {day: len(seen) for day, seen in starts.items()} == {day: 1 for day in starts}
    assert dst_day in starts
    start_clock = text.split("-")[0]
    assert {next(iter(seen)).astimezone(BERLIN).strftime("%H:%M") for seen in starts.values()} == {start_clock}
    # windows wholly inside the walk: their real length (a DST change stretches or shrinks them once)
    for offset, length in full_windows.items():
        assert minutes[dst_day + timedelta(days=offset)] == length, (offset, minutes)
    # next_start walks the same spans: ordered, none repeated, none empty
    chain = _chain(hours, first - timedelta(days=1), last)
    chain_starts = [start for start, _ in chain]
    assert chain_starts == sorted(set(chain_starts))
    assert all(end > start for start, end in chain)
    assert {next(iter(seen)) for seen in starts.values()} <= set(chain_starts)


def test_fall_back_night_repeated_hour_is_one_window() -> None:
    """02:15-02:45 on the fall-back night: 02:30 happens twice, the window starts once and lasts its
    30 minutes, on the first pass (it closes the first time the clock shows 02:45)."""
    hours = WorkHours.parse("every day", "02:15-02:45", BERLIN)
    starts, minutes = _walk(hours, at(FALL_2026 - timedelta(days=1), "12:00"), at(FALL_2026 + timedelta(days=1), "12:00"))
    assert {day: len(seen) for day, seen in starts.items()} == {FALL_2026: 1, FALL_2026 + timedelta(days=1): 1}
    first_0230 = at(FALL_2026, "02:30", fold=0)
    second_0230 = at(FALL_2026, "02:30", fold=1)
    assert second_0230 - first_0230 == timedelta(hours=1)
    assert hours.window_at(first_0230) == (at(FALL_2026, "02:15", fold=0), at(FALL_2026, "02:45", fold=0))
    assert hours.window_at(second_0230) is None  # the second pass is outside: not stretched across both
    assert minutes[FALL_2026] == 30


def test_office_hours_keep_their_wall_clock_across_both_changes() -> None:
    hours = WorkHours.parse("mon-sun", "09:00-17:00", BERLIN)
    for day in (SPRING_2026, FALL_2026):
        start, end = hours.next_start(at(day - timedelta(days=1), "18:00"))
        assert start.astimezone(BERLIN).strftime("%d %H:%M") == f"{day.day:02d} 09:00"
        assert end - start == timedelta(hours=8)
    # the UTC offset of 09:00 really changed
    assert at(SPRING_2026, "09:00").hour == 7 and at(FALL_2026, "09:00").hour == 8


@pytest.mark.parametrize(
    ("text", "minutes", "start_clock"),
    [("01:30-02:30", 30, "01:30"), ("02:30-03:30", 30, "03:00"), ("02:30-05:00", 120, "03:00"),
     ("02:45-04:00", 60, "03:00"), ("01:59-02:01", 1, "01:59")],
)
def test_spring_forward_window_touching_the_gap(text: str, minutes: int, start_clock: str) -> None:
    hours = WorkHours.parse("every day", text, BERLIN)
    starts, inside = _walk(hours, at(SPRING_2026, "00:00"), at(SPRING_2026, "12:00"))
    assert len(starts.get(SPRING_2026, ())) == 1, "the window was skipped on the spring-forward day"
    (start,) = starts[SPRING_2026]
    assert start.astimezone(BERLIN).strftime("%H:%M") == start_clock
    assert inside[SPRING_2026] == minutes


def test_a_window_wholly_in_the_skipped_hour_does_not_happen_that_day() -> None:
    """Berlin, 29 Mar 2026: the clock jumps from 02:00 to 03:00, so 02:10-02:40 never shows: no span
    that day (not an empty one a caller would take as a window), and the next day's as usual."""
    hours = WorkHours.parse("every day", "02:10-02:40", BERLIN)
    assert hours.spans_on(SPRING_2026) == []
    assert hours.next_start(at(SPRING_2026, "00:00")) == (at(SPRING_2026 + timedelta(days=1), "02:10"), at(SPRING_2026 + timedelta(days=1), "02:40"))


def test_a_window_in_the_repeated_hour_is_one_pass_of_its_nominal_length() -> None:
    """Berlin, 25 Oct 2026: 03:00 CEST turns back to 02:00 CET. 02:35-03:00 closes when the clock
    shows 03:00 (once, after the second pass), so it is the second 02:35-03:00 (CET), 25 minutes;
    02:10-02:40 closes the first time the clock shows 02:40, so it is the first pass (CEST)."""
    late = WorkHours.parse("every day", "02:35-03:00", BERLIN).spans_on(FALL_2026)
    assert [(s.astimezone(BERLIN).isoformat(), e.astimezone(BERLIN).isoformat()) for s, e in late] == [
        ("2026-10-25T02:35:00+01:00", "2026-10-25T03:00:00+01:00")]
    early = WorkHours.parse("every day", "02:10-02:40", BERLIN).spans_on(FALL_2026)
    assert [(s.astimezone(BERLIN).isoformat(), e.astimezone(BERLIN).isoformat()) for s, e in early] == [
        ("2026-10-25T02:10:00+02:00", "2026-10-25T02:40:00+02:00")]


def test_describe_names_the_days_and_windows() -> None:
    assert WorkHours.parse("fri-mon", "13:30-18:00, 09:00-12:30", UTC).describe() == "mon,fri,sat,sun 09:00-12:30, 13:30-18:00"
    assert WorkHours.parse("every day", "22:00-06:00", UTC).describe() == "mon,tue,wed,thu,fri,sat,sun 22:00-06:00"
    assert WorkHours.parse("mon-fri", "00:00-24:00", UTC).describe() == "mon,tue,wed,thu,fri 00:00-24:00"


# --- the machine's zone: real zone files, a real TZ variable, libc's own rules ----


def _copy_of(zone: str, tmp_path: Path) -> Path:
    copy = tmp_path / "localtime"
    copy.write_bytes(Path("/usr/share/zoneinfo", zone).read_bytes())
    return copy


def test_the_local_zone_is_the_zone_tz_names() -> None:
    assert local_zone(":Europe/Berlin") == ZoneInfo("Europe/Berlin")  # POSIX's leading colon
    assert local_zone("America/New_York") == ZoneInfo("America/New_York")


def test_the_local_zone_reads_the_tz_variable() -> None:
    with libc_tz("Asia/Tokyo"):
        assert local_zone() == ZoneInfo("Asia/Tokyo")
    with libc_tz(":America/New_York"):
        assert local_zone() == ZoneInfo("America/New_York")


@pytest.mark.parametrize("tz", ["Not/AZone", "", ":", "../../etc/passwd", "UTC+3"])
def test_without_a_zone_in_tz_the_local_zone_is_the_localtime_file(tz: str, tmp_path: Path) -> None:
    zone = local_zone(tz, localtime=_copy_of("Asia/Tokyo", tmp_path))
    assert getattr(zone, "key", None) == "localtime"
    assert zone.utcoffset(datetime(2026, 1, 1)) == timedelta(hours=9)
    new_york = local_zone(tz, localtime=_copy_of("America/New_York", tmp_path))  # with its DST rules
    assert new_york.utcoffset(datetime(2026, 1, 15)) == timedelta(hours=-5)
    assert new_york.utcoffset(datetime(2026, 7, 15)) == timedelta(hours=-4)


def test_the_localtime_file_is_etc_localtime() -> None:
    """With TZ unset, the machine's own /etc/localtime (where it has one) gives the zone and its rules."""
    system = Path("/etc/localtime")
    with libc_tz(""):
        zone = local_zone()
    if system.exists():
        with system.open("rb") as handle:
            rules = ZoneInfo.from_file(handle)
        assert getattr(zone, "key", None) == "localtime"
        for moment in (datetime(2026, 1, 15, 12), datetime(2026, 7, 15, 12)):
            assert zone.utcoffset(moment) == rules.utcoffset(moment)
    else:
        assert getattr(zone, "key", None) is None  # the fixed offset of the last resort


@pytest.mark.parametrize("rule", ["ABC-3", "XYZ+5"])
def test_without_zone_files_the_local_zone_is_the_offset_libc_sees(rule: str, tmp_path: Path) -> None:
    """A POSIX TZ rule zoneinfo cannot read, and no readable localtime file: the offset libc applies now,
    never a crash and never UTC by mistake (ABC-3 is three hours east of UTC, XYZ+5 five hours west)."""
    broken = tmp_path / "localtime"
    broken.write_bytes(b"not a zone file")
    expected = timedelta(hours=3 if rule == "ABC-3" else -5)
    with libc_tz(rule):
        for localtime in (broken, tmp_path / "missing"):
            zone = local_zone(localtime=localtime)
            assert zone.utcoffset(datetime.now()) == expected
