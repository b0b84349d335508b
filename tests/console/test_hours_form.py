"""The opening-hours editor's form: what was typed is read as it was, turned into the schedule (and the text
the gateway reads), and every problem is named on its field."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from chatbot.clock import FixedClock
from chatbot.domain.hours import OpeningHours, ScheduleError
from console.domain.hours_form import MAX_EXCEPTIONS, MAX_SPANS, PROBLEMS, HoursForm, HoursRefused, Problem
from console.domain.opening import Opening
from console.labels import HOURS_PROBLEMS, SCHEDULE_FAULTS

TODAY = date(2026, 11, 24)  # a Tuesday
WEEK = "mon-thu 09:00-16:00; fri 09:00-12:00, 13:00-15:00"


def week_fields(**changes: str) -> dict[str, str]:
    """The form a browser posts for WEEK (weekend closed), with `changes` (field: value, "" to empty)."""
    fields = {f"d{i}-s0-from": "09:00" for i in range(5)} | {f"d{i}-s0-to": "16:00" for i in range(4)}
    fields |= {"d4-s0-to": "12:00", "d4-s1-from": "13:00", "d4-s1-to": "15:00"}
    fields |= {"d5-closed": "1", "d6-closed": "1", "d5-s0-from": "", "d5-s0-to": "", "csrf": "x"}
    fields |= changes
    return fields


def refused(fields: dict[str, str]) -> list[Problem]:
    with pytest.raises(HoursRefused) as caught:
        HoursForm.read(fields).check(TODAY)
    return caught.value.problems


def test_the_form_of_the_schedule_in_force_reads_back_as_that_schedule() -> None:
    hours = OpeningHours.parse(WEEK, "2026-12-23 10:00-13:00; 2026-12-30 closed; 2026-11-02 closed")
    form = HoursForm.of(hours, TODAY)
    assert [d.closed for d in form.days] == [False] * 5 + [True, True]
    assert [(s.start, s.end) for s in form.days[4].spans] == [("09:00", "12:00"), ("13:00", "15:00")]
    # The exception of a day that has passed is not shown: it changes nothing any more.
    assert [(x.day, x.closed) for x in form.exceptions] == [("2026-12-23", False), ("2026-12-30", True)]

    fields = week_fields(**{"x0-date": "2026-12-23", "x0-s0-from": "10:00", "x0-s0-to": "13:00"})
    fields |= {"x1-date": "2026-12-30", "x1-closed": "1", "x1-s0-from": "", "x2-date": ""}
    checked = HoursForm.read(fields).check(TODAY)
    assert checked.past == ()
    assert checked.hours.text() == (WEEK, "2026-12-23 10:00-13:00; 2026-12-30 closed")
    assert OpeningHours.parse(*checked.hours.text()) == checked.hours


def test_closing_a_day_keeps_its_typed_times_but_saves_it_closed() -> None:
    form = HoursForm.read(week_fields(**{"d1-closed": "1"}))
    assert form.days[1].closed and form.days[1].spans[0].start == "09:00"  # shown again as typed
    hours = form.check(TODAY).hours
    assert hours.text()[0] == "mon 09:00-16:00; wed-thu 09:00-16:00; fri 09:00-12:00, 13:00-15:00"


def test_blank_rows_are_left_out_and_the_rest_numbered_in_order() -> None:
    fields = week_fields(**{"d0-s0-from": "", "d0-s0-to": "", "d0-s3-from": "13:00", "d0-s3-to": "16:00"})
    fields |= {"d0-s10-from": "08:00", "d0-s10-to": "09:00", "x5-date": "2026-12-01", "x5-closed": "1"}
    form = HoursForm.read(fields)
    assert [(s.start, s.end) for s in form.days[0].spans] == [("13:00", "16:00"), ("08:00", "09:00")]
    assert [x.day for x in form.exceptions] == ["2026-12-01"]
    assert form.check(TODAY).hours.weekly[0] == ((time(8), time(9)), (time(13), time(16)))


def test_a_past_exception_is_left_out_and_reported_not_refused() -> None:
    fields = week_fields(
        **{"x0-date": "2025-12-23", "x0-closed": "1", "x1-date": "2026-11-24", "x1-closed": "1"}
    )
    checked = HoursForm.read(fields).check(TODAY)
    assert checked.past == (date(2025, 12, 23),)
    assert checked.hours.text()[1] == "2026-11-24 closed"  # today is not past


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"d2-s0-to": ""}, Problem("d2-s0-to", "missing_time")),
        ({"d2-s0-from": ""}, Problem("d2-s0-from", "missing_time")),
        ({"d2-s0-from": "25:00"}, Problem("d2-s0-from", "bad_time")),
        ({"d2-s0-to": "noon"}, Problem("d2-s0-to", "bad_time")),
        ({"d2-s0-to": "08:00"}, Problem("d2-s0-to", "ends_before_start", {"start": "09:00", "end": "08:00"})),
        ({"d2-s0-to": "09:00"}, Problem("d2-s0-to", "ends_before_start", {"start": "09:00", "end": "09:00"})),
        (
            {"d2-s1-from": "15:00", "d2-s1-to": "17:00"},
            Problem("d2-s1-from", "overlap", {"other": "09:00–16:00"}),
        ),
        (
            {"d2-s1-from": "08:00", "d2-s1-to": "20:00"},
            Problem("d2-s1-from", "overlap", {"other": "09:00–16:00"}),
        ),
        ({"d5-closed": ""}, Problem("d5-s0-from", "no_spans")),
        ({"x0-s0-from": "10:00", "x0-s0-to": "12:00"}, Problem("x0-date", "missing_date")),
        ({"x0-date": "2026-13-01", "x0-closed": "1"}, Problem("x0-date", "bad_date")),
        ({"x0-date": "23/12", "x0-closed": "1"}, Problem("x0-date", "bad_date")),
        ({"x0-date": "2026-12-23"}, Problem("x0-s0-from", "no_spans")),
        (
            {"x0-date": "2026-12-23", "x0-closed": "1", "x1-date": "2026-12-23", "x1-closed": "1"},
            Problem("x1-date", "duplicate_date", {"date": "2026-12-23"}),
        ),
        (
            {"x0-date": "2026-12-23", "x0-s0-from": "13:00", "x0-s0-to": "10:00"},
            Problem("x0-s0-to", "ends_before_start", {"start": "13:00", "end": "10:00"}),
        ),
    ],
)
def test_every_problem_is_named_on_its_field(changes: dict[str, str], problem: Problem) -> None:
    assert refused(week_fields(**changes)) == [problem]


def test_touching_times_are_not_an_overlap() -> None:
    hours = HoursForm.read(week_fields(**{"d2-s1-from": "16:00", "d2-s1-to": "18:00"})).check(TODAY).hours
    assert hours.weekly[2] == ((time(9), time(16)), (time(16), time(18)))


def test_every_problem_of_a_form_is_found_at_once_and_limits_hold() -> None:
    fields = week_fields(**{"d0-s0-to": "08:00", "d3-s0-from": "", "x0-date": "x", "x0-closed": "1"})
    for j in range(MAX_SPANS + 1):
        fields |= {f"d6-s{j}-from": f"{j + 1:02d}:00", f"d6-s{j}-to": f"{j + 1:02d}:30"}
    fields["d6-closed"] = ""
    problems = refused(fields)
    assert [(p.field, p.code) for p in problems] == [
        ("d0-s0-to", "ends_before_start"),
        ("d3-s0-from", "missing_time"),
        (f"d6-s{MAX_SPANS}-from", "too_many_spans"),
        ("x0-date", "bad_date"),
    ]
    many = week_fields()
    for k in range(MAX_EXCEPTIONS + 1):
        many |= {f"x{k}-date": date.fromordinal(TODAY.toordinal() + k).isoformat(), f"x{k}-closed": "1"}
    assert refused(many) == [Problem(f"x{MAX_EXCEPTIONS}-date", "too_many_exceptions", {"count": "60"})]


def test_every_code_has_words_on_the_page() -> None:
    assert set(HOURS_PROBLEMS) == set(PROBLEMS)
    codes = set()
    for weekly, exceptions in [
        ("monday 09:00-16:00", ""),
        ("fri-mon 09:00-16:00", ""),
        ("mon 9-16", ""),
        ("mon 25:00-26:00", ""),
        ("mon 16:00-09:00", ""),
        ("mon 09:00-12:00, 11:00-16:00", ""),
        ("mon 09:00-16:00", "24/12 closed"),
    ]:
        with pytest.raises(ScheduleError) as caught:
            OpeningHours.parse(weekly, exceptions)
        codes.add(caught.value.code)
    assert codes == set(SCHEDULE_FAULTS)


def test_the_preview_names_holidays_and_exceptions_in_the_readers_language() -> None:
    hours = OpeningHours.parse("mon-fri 09:00-16:00", "2026-12-23 10:00-13:00; 2026-12-24 10:00-12:00")
    opening = Opening(hours, None, FixedClock(datetime(2026, 12, 22, 22, 30, tzinfo=UTC)))  # 23:30 there
    days = opening.preview(hours, "sv", days=5)
    assert [(d.day.day, d.reason, d.holiday, d.spans) for d in days] == [
        (22, "week", "", ((time(9), time(16)),)),
        (23, "exception", "", ((time(10), time(13)),)),
        (24, "exception", "", ((time(10), time(12)),)),  # an exception opens Christmas Eve
        (25, "holiday", "Juldagen", ()),
        (26, "holiday", "Annandag jul", ()),
    ]
    assert opening.preview(hours, "en", days=4)[3].holiday == "Christmas Day"
