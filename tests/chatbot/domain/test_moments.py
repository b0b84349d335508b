"""Dates and times children read come from locales/dates.yml, not from a library's locale data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatbot.domain.moments import DateFormatError, DateFormats, default_formats

# 07:00 UTC on a Monday in December is 08:00 in Stockholm; 07:00 UTC in June is 09:00 (summer time).
WINTER = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
SUMMER = datetime(2027, 6, 21, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "moment", "day", "clock"),
    [
        ("sv", "mån 7 december 08:00", "7 december", "08:00"),
        ("en", "Mon 7 December, 08:00", "7 December", "08:00"),
        ("ar", "الاثنين 7 ديسمبر، الساعة \u206608:00\u2069", "7 ديسمبر", "\u206608:00\u2069"),
    ],
)
def test_each_language_has_its_own_explicit_pattern(locale: str, moment: str, day: str, clock: str) -> None:
    formats = default_formats()
    assert formats.moment(WINTER, locale) == moment
    assert formats.day(WINTER, locale) == day
    assert formats.clock(WINTER, locale) == clock


def test_the_time_is_stockholm_time_in_summer_too() -> None:
    assert default_formats().moment(SUMMER, "sv") == "mån 21 juni 09:00"


def test_a_language_without_formats_reads_swedish() -> None:
    assert default_formats().moment(WINTER, "pl") == default_formats().moment(WINTER, "sv")


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        default_formats().moment(datetime(2026, 12, 7, 8, 0), "sv")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("en: {}\n", "source language"),
        ("sv: [1, 2]\n", "sv: expected"),
        ("sv: {weekdays: [a], months: [], moment: x, date: x, time: x}\n", "7 names"),
        (
            "sv: {weekdays: [a,b,c,d,e,f,g], months: [a,b,c,d,e,f,g,h,i,j,k,l], moment: '{year}', date: x, time: x}\n",
            "unknown placeholder",
        ),
        (
            "sv: {weekdays: [a,b,c,d,e,f,g], months: [a,b,c,d,e,f,g,h,i,j,k,l], moment: x, date: x}\n",
            "time must",
        ),
    ],
)
def test_a_malformed_file_says_which_language_and_field(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "dates.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DateFormatError, match=fragment):
        DateFormats.load(path)
