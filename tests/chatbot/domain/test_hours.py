"""Opening hours: weekly schedule in Stockholm time, Swedish holidays, exceptions, localized moments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chatbot.domain.hours import STOCKHOLM, OpeningHours, ScheduleError, format_moment, holiday_name
from chatbot.settings import Settings, SettingsError

STHLM = ZoneInfo("Europe/Stockholm")


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=STHLM)


HOURS = OpeningHours.parse("mon-thu 09:00-16:00; fri 09:00-12:00, 13:00-15:00")


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (at(2026, 11, 23, 8, 59), False),  # Monday before nine
        (at(2026, 11, 23, 9, 0), True),
        (at(2026, 11, 23, 15, 59), True),
        (at(2026, 11, 23, 16, 0), False),
        (at(2026, 11, 27, 12, 30), False),  # Friday lunch gap
        (at(2026, 11, 27, 13, 0), True),
        (at(2026, 11, 28, 11, 0), False),  # Saturday
        (at(2026, 12, 24, 10, 0), False),  # Christmas Eve, a Thursday: de facto holiday
        (at(2026, 6, 19, 10, 0), False),  # Midsummer Eve
        (at(2026, 1, 6, 10, 0), False),  # Epiphany, a Tuesday
    ],
)
def test_is_open(moment: datetime, is_open: bool) -> None:
    assert HOURS.is_open(moment) is is_open


def test_utc_input_is_read_in_stockholm_time() -> None:
    # 08:30 UTC in November is 09:30 in Stockholm (UTC+1); in June 07:30 UTC is 09:30 (UTC+2).
    assert HOURS.is_open(datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    assert HOURS.is_open(datetime(2026, 6, 15, 7, 30, tzinfo=UTC))
    assert not HOURS.is_open(datetime(2026, 6, 15, 6, 30, tzinfo=UTC))


def test_next_opening_skips_weekends_and_holidays() -> None:
    assert HOURS.next_opening(at(2026, 11, 23, 10, 0)) is None  # open now
    assert HOURS.next_opening(at(2026, 11, 23, 7, 0)) == at(2026, 11, 23, 9, 0)
    assert HOURS.next_opening(at(2026, 11, 27, 12, 10)) == at(2026, 11, 27, 13, 0)
    assert HOURS.next_opening(at(2026, 11, 27, 18, 0)) == at(2026, 11, 30, 9, 0)
    # Christmas: 24, 25, 26 closed, 27 Sunday, then Monday the 28th.
    assert HOURS.next_opening(at(2026, 12, 23, 17, 0)) == at(2026, 12, 28, 9, 0)


def test_exceptions_open_or_close_a_day() -> None:
    hours = OpeningHours.parse("mon-fri 09:00-16:00", "2026-12-24 10:00-13:00; 2026-11-25 closed")
    assert hours.is_open(at(2026, 12, 24, 11, 0))
    assert not hours.is_open(at(2026, 12, 24, 13, 0))
    assert not hours.is_open(at(2026, 11, 25, 10, 0))
    assert hours.next_opening(at(2026, 11, 24, 17, 0)) == at(2026, 11, 26, 9, 0)
    assert hours.closes_at(at(2026, 12, 24, 11, 0)) == at(2026, 12, 24, 13, 0)


def test_nothing_scheduled_means_no_next_opening() -> None:
    hours = OpeningHours.parse("")
    assert hours.next_opening(at(2026, 11, 23, 10, 0)) is None


@pytest.mark.parametrize(
    ("weekly", "exceptions", "fragment", "code"),
    [
        ("monday 09:00-16:00", "", "days are", "bad_days"),
        ("fri-mon 09:00-16:00", "", "forward", "days_backwards"),
        ("mon 9-16", "", "times are", "bad_span"),
        ("mon 16:00-09:00", "", "ends before", "ends_before_start"),
        ("mon 25:00-26:00", "", "not a time", "bad_time"),
        ("mon 09:00-16:00", "24/12 closed", "date like", "bad_date"),
        ("mon-fri 09:00-16:00; fri 13:00-17:00", "", "overlaps", "overlap"),
        ("mon 09:00-16:00", "2026-12-23 10:00-12:00, 11:00-13:00", "overlaps", "overlap"),
    ],
)
def test_bad_schedules_say_what_is_wrong(weekly: str, exceptions: str, fragment: str, code: str) -> None:
    with pytest.raises(ScheduleError, match=fragment) as caught:
        OpeningHours.parse(weekly, exceptions)
    assert caught.value.code == code  # the console says it in the reader's language by this code
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env({"OPENING_HOURS": weekly, "OPENING_EXCEPTIONS": exceptions})


def test_a_schedule_writes_the_text_it_is_read_from() -> None:
    weekly = "mon-wed 09:00-16:00; fri 09:00-12:00, 13:00-15:00; sun 10:00-24:00"
    hours = OpeningHours.parse(
        "mon 09:00-16:00; tue-wed 09:00-16:00; sun 10:00-24:00; fri 13:00-15:00, 09:00-12:00",
        "2026-12-30 closed; 2026-12-23 10:00-13:00",
    )
    assert hours.text() == (weekly, "2026-12-23 10:00-13:00; 2026-12-30 closed")
    assert OpeningHours.parse(*hours.text()) == hours
    assert OpeningHours.parse("").text() == ("", "")


def test_holidays_are_named_in_the_readers_language() -> None:
    assert holiday_name(date(2026, 12, 24), "sv") == "Julafton"
    assert holiday_name(date(2026, 12, 24), "en") == "Christmas Eve"
    assert holiday_name(date(2026, 12, 22), "sv") is None


def test_moments_are_formatted_in_the_childs_language() -> None:
    moment = at(2026, 11, 23, 9, 0)
    assert format_moment(moment, "sv") == "mån 23 november 09:00"
    assert format_moment(moment, "en") == "Mon 23 November, 09:00"
    assert format_moment(moment, "ar") == "الاثنين 23 نوفمبر، الساعة \u206609:00\u2069"
    assert format_moment(moment, "en-GB") == format_moment(moment, "en")
    assert format_moment(moment, "xx-nonsense") == format_moment(moment, "sv")


def test_holiday_calendar_covers_the_years_asked() -> None:
    hours = OpeningHours.parse("mon-sun 09:00-16:00")
    assert not hours.is_open(at(2030, 12, 25, 10, 0))
    assert hours.spans_on(date(2030, 12, 27)) != ()


def test_the_day_an_answer_is_counted_for_is_stockholms_at_every_minute_around_midnight_and_dst() -> None:
    """The counts' day is kept per UTC minute: it must still turn at Stockholm's midnight, in winter,
    in summer and on the nights the clocks change."""
    from chatbot.domain.conversations import _shown_day

    for start in (
        datetime(2026, 12, 31, 22, 50, tzinfo=UTC),  # New Year, UTC+1
        datetime(2027, 6, 25, 21, 50, tzinfo=UTC),  # Midsummer, UTC+2
        datetime(2027, 3, 27, 22, 50, tzinfo=UTC),  # the night the clocks go forward
        datetime(2027, 10, 30, 21, 50, tzinfo=UTC),  # the night they go back
    ):
        for seconds in range(0, 30 * 60, 17):
            now = start + timedelta(seconds=seconds)
            assert _shown_day(now) == now.astimezone(STOCKHOLM).date().isoformat(), now
