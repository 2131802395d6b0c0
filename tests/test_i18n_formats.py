"""Numbers, dates and times in the reader's language (issue 20 item 4): ergo.i18n's Babel formats,
and English keeping the formats ergo always printed."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime

import pytest

from ergo import i18n

WHEN = datetime(2026, 12, 2, 14, 5)


def test_english_keeps_the_24_hour_clock_and_a_point() -> None:
    assert i18n.format_time(WHEN, "en") == "14:05"
    assert i18n.format_date(WHEN, "%Y-%m-%d", setting="en") == "2026-12-02"
    assert i18n.format_decimal(1234.5, 1, "en") == "1234.5"
    assert i18n.format_percent(0.948, 1, "en") == "94.8%"


@pytest.mark.parametrize(("lang", "number", "percent", "day"), [
    ("de", "1234,5", "94,8\xa0%", "2. Dez."),
    ("fr", "1234,5", "94,8\xa0%", "2 déc."),
    ("es", "1234,5", "94,8\xa0%", "2 dic"),
    ("it", "1234,5", "94,8%", "2 dic"),
    ("nl", "1234,5", "94,8%", "2 dec"),
    ("pt_BR", "1234,5", "94,8%", "2 de dez."),
])
def test_each_language_writes_numbers_and_dates_its_own_way(lang: str, number: str, percent: str, day: str) -> None:
    assert i18n.format_decimal(1234.5, 1, lang) == number
    assert i18n.format_percent(0.948, 1, lang) == percent
    assert day in i18n.format_date(date(2026, 12, 2), width="EEEdMMM", setting=lang)
    assert i18n.format_time(WHEN, lang) == "14:05"  # all six use a 24-hour clock


def test_a_region_keeps_its_own_formats_and_an_unknown_region_its_language() -> None:
    assert i18n.format_locale("de_AT") == "de_AT"
    assert i18n.format_date(date(2026, 1, 2), width="long", setting="de_AT") == "2. Jänner 2026"
    assert i18n.format_locale("de_XX") == "de"
    assert i18n.format_locale("sv") is None and i18n.format_locale("en_GB") is None


def test_english_formats_never_load_babel() -> None:
    code = ("import sys; from datetime import datetime; from ergo import i18n; "
            "i18n.format_time(datetime.now(), 'en'); i18n.format_percent(0.5, 0, 'en'); "
            "i18n.format_date(datetime.now(), setting='en'); print('babel' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
