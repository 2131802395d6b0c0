"""Human durations: what ergo accepts, what it refuses (with a hint), and round-trips."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ergo.timing.durations import HINT, DurationError, format_duration, parse_duration


@given(st.integers(min_value=1, max_value=86400))
def test_format_then_parse_round_trips_whole_seconds(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    text = format_duration(value)
    assert parse_duration(text) == value
    assert text == text.strip() and " " not in text


@given(st.integers(0, 3), st.integers(0, 30), st.integers(0, 200), st.integers(0, 200), st.booleans())
def test_parse_sums_the_parts(days: int, hours: int, minutes: int, seconds: int, spaced: bool) -> None:
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    if not parts:
        return
    text = (" " if spaced else "").join(parts)
    assert parse_duration(text) == timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("20m", timedelta(minutes=20)),
        ("20min", timedelta(minutes=20)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        (" 45m ", timedelta(minutes=45)),
        ("5M", timedelta(minutes=5)),
        ("PT45M", timedelta(minutes=45)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("0.5h", timedelta(minutes=30)),
        ("1.5m", timedelta(seconds=90)),
        ("2d", timedelta(days=2)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ],
)
def test_accepted_forms(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_a_timedelta_passes_through() -> None:
    assert parse_duration(timedelta(minutes=7)) == timedelta(minutes=7)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("45", "ambiguous"),
        ("45:00", "ambiguous"),
        ("1:30:00", "ambiguous"),
        ("abc", "not a duration"),
        ("", "not a duration"),
        ("   ", "not a duration"),
        ("m", "not a duration"),
        ("-5m", "is negative"),
        ("1h30", "not a duration"),
        ("1m1h", "not a duration"),
        ("PT", "not a duration"),
        (45, "not a duration"),
        (4.5, "not a duration"),
        (True, "not a duration"),
        (None, "not a duration"),
    ],
    ids=repr,
)
def test_rejected_forms_carry_the_hint(value: object, why: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(value)
    message = str(caught.value)
    assert why in message
    assert HINT in message  # "try 45m or 1h30m"
    assert "\n" not in message


def test_bare_number_message_says_to_add_a_unit() -> None:
    with pytest.raises(DurationError, match=r'"45" is ambiguous: add a unit'):
        parse_duration("45")


def test_duration_error_is_a_value_error() -> None:
    # pydantic validators turn ValueError into a validation error; DurationError must be one.
    assert issubclass(DurationError, ValueError)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=1, seconds=5), "1h5s"),
        (timedelta(hours=24), "24h"),
        (timedelta(days=2), "48h"),
        (timedelta(minutes=-5), "-5m"),
    ],
)
def test_format_is_the_shortest_form(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


@pytest.mark.parametrize("milliseconds", [200, 1500])
def test_sub_second_durations_round_trip(milliseconds: int) -> None:
    value = timedelta(milliseconds=milliseconds)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(("value", "text"), [
    (timedelta(0), "0s"), (timedelta(seconds=5), "5s"), (timedelta(seconds=90), "1m30s"), (timedelta(hours=2), "2h"),
    (timedelta(days=2, seconds=1), "48h1s"), (timedelta(seconds=1.5), "1.5s"), (timedelta(seconds=0.25), "0.25s"),
    (timedelta(hours=1, microseconds=1), "1h0.000001s"), (timedelta(seconds=10.1), "10.1s"),
    (timedelta(seconds=-90), "-1m30s"), (timedelta(microseconds=-500000), "-0.5s"),
])
def test_format_writes_the_shortest_exact_text(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


def test_lower_case_iso_and_the_far_too_long_message() -> None:
    assert parse_duration("pt45m") == timedelta(minutes=45) and parse_duration("p1d") == timedelta(days=1)
    exact = "9" * 23 + "d"  # 24 characters: shown whole
    with pytest.raises(DurationError) as caught:
        parse_duration(exact)
    assert str(caught.value) == f'"{exact}" is far too long ({HINT})'
    longer = "9" * 24 + "d"  # 25: cut to 20 and an ellipsis
    with pytest.raises(DurationError) as caught:
        parse_duration(longer)
    assert str(caught.value) == f'"{"9" * 20}..." is far too long ({HINT})'
