"""When a person is available: a weekly schedule in Europe/Stockholm, Swedish holidays and exceptions.

Schedules are text so that settings and supervisors can write them:
  weekly:     "mon-thu 09:00-16:00; fri 09:00-15:00"
  exceptions: "2026-12-23 10:00-13:00; 2026-12-30 closed"
Public holidays and the de facto ones (Midsummer Eve, Christmas Eve, New Year's Eve) are closed unless an
exception opens them. The spans of one day may not overlap (a child would be told the line closes at the end
of the first). `OpeningHours.text()` writes a schedule back in this format, which is how the console stores
the supervisor's grid (the gateway reads the same text).

A `ScheduleError` has a stable `code` and `params` (the console says them in the reader's language) besides
its English message (for settings errors and logs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import holidays

from chatbot.domain.moments import STOCKHOLM as STOCKHOLM  # the zone every schedule is in
from chatbot.domain.moments import default_formats

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
# How far ahead we look for the next opening; beyond this the answer is "not scheduled".
_HORIZON_DAYS = 60

Span = tuple[time, time]


class ScheduleError(ValueError):
    """An opening-hours text could not be read; the message says which part and why, in English.

    `code` names the fault for a reader in another language: `bad_days`, `days_backwards`, `bad_span`
    (not like 09:00-16:00), `bad_time` (no such time of day), `ends_before_start`, `overlap`, `bad_date`;
    `params` are what the message needs (`part`, `span`, `other`, all as they were written).
    """

    def __init__(self, code: str, message: str, **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class OpeningHours:
    weekly: Mapping[int, tuple[Span, ...]]
    exceptions: Mapping[date, tuple[Span, ...]] = field(default_factory=dict)
    tz: ZoneInfo = STOCKHOLM

    @classmethod
    def parse(cls, weekly: str, exceptions: str = "") -> OpeningHours:
        week: dict[int, list[Span]] = {}
        for part in _parts(weekly):
            days_text, _, spans_text = part.partition(" ")
            spans = _spans(spans_text, part)
            for weekday in _days(days_text, part):
                week.setdefault(weekday, []).extend(spans)
        special: dict[date, tuple[Span, ...]] = {}
        for part in _parts(exceptions):
            day_text, _, spans_text = part.partition(" ")
            try:
                day = date.fromisoformat(day_text)
            except ValueError:
                raise ScheduleError(
                    "bad_date", f"{part!r}: expected a date like 2026-12-23", part=part
                ) from None
            special[day] = (
                () if spans_text.strip() == "closed" else check_spans(_spans(spans_text, part), part)
            )
        return cls({d: check_spans(s, weekly) for d, s in week.items()}, special)

    def text(self) -> tuple[str, str]:
        """The (weekly, exceptions) texts that `parse` reads back as this schedule; days with the same spans
        run together ("mon-thu 09:00-16:00; fri 09:00-15:00"), exceptions in date order."""
        runs: list[tuple[int, int, tuple[Span, ...]]] = []
        for weekday in range(7):
            spans = self.weekly.get(weekday, ())
            if not spans:
                continue
            if runs and runs[-1][1] == weekday - 1 and runs[-1][2] == spans:
                runs[-1] = (runs[-1][0], weekday, spans)
            else:
                runs.append((weekday, weekday, spans))
        weekly = "; ".join(
            (_DAYS[a] if a == b else f"{_DAYS[a]}-{_DAYS[b]}") + " " + _spans_text(spans)
            for a, b, spans in runs
        )
        exceptions = "; ".join(
            f"{day.isoformat()} {_spans_text(spans) if spans else 'closed'}"
            for day, spans in sorted(self.exceptions.items())
        )
        return weekly, exceptions

    def spans_on(self, day: date) -> tuple[Span, ...]:
        if day in self.exceptions:
            return self.exceptions[day]
        if day in _swedish_holidays(day.year):
            return ()
        return self.weekly.get(day.weekday(), ())

    def is_open(self, moment: datetime) -> bool:
        local = _local(moment, self.tz)
        return any(start <= local.time() < end for start, end in self.spans_on(local.date()))

    def next_opening(self, moment: datetime) -> datetime | None:
        """The next moment at or after `moment` when the line opens (None if open now or none scheduled)."""
        if self.is_open(moment):
            return None
        local = _local(moment, self.tz)
        for offset in range(_HORIZON_DAYS):
            day = local.date() + timedelta(days=offset)
            for start, _end in self.spans_on(day):
                opening = datetime.combine(day, start, self.tz)
                if opening >= local:
                    return opening
        return None

    def closes_at(self, moment: datetime) -> datetime | None:
        local = _local(moment, self.tz)
        for start, end in self.spans_on(local.date()):
            if start <= local.time() < end:
                return datetime.combine(local.date(), end, self.tz)
        return None


def format_moment(moment: datetime, locale: str) -> str:
    """A weekday, date and time in the child's language, e.g. 'mån 23 november 10:00' (locales/dates.yml)."""
    return default_formats().moment(moment, locale)


@lru_cache(maxsize=256)
def format_clock(moment: datetime, locale: str) -> str:
    """A time of day in the child's language, e.g. '16:00' (locales/dates.yml)."""
    return default_formats().clock(moment, locale)


@lru_cache(maxsize=8)
def _swedish_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("SE", years=year, categories=("public", "de_facto"))


def holiday_name(day: date, language: str) -> str | None:
    """The Swedish public or de facto holiday on `day` (closed unless an exception opens it), named in
    `language` ("sv" or "en"), or None."""
    if day not in _swedish_holidays(day.year):
        return None
    named = _named_holidays(day.year, "sv" if language == "sv" else "en_US")
    return str(named.get(day) or _swedish_holidays(day.year).get(day))


def clock_text(moment: time) -> str:
    """A time of day as schedules write it: "09:00", and the end of the day as "24:00"."""
    return "24:00" if moment == time.max else moment.strftime("%H:%M")


def read_time(text: str, *, end: bool = False) -> time:
    """A time of day written "9:00" or "09:00" (an end may be "24:00"); else `ScheduleError("bad_time")`."""
    match = re.match(r"^(\d{1,2}):(\d{2})$", text.strip())
    if not match:
        raise ScheduleError("bad_time", f"{text!r}: times are like 09:00", span=text)
    hours, minutes = int(match.group(1)), int(match.group(2))
    if end and (hours, minutes) == (24, 0):
        return time.max
    try:
        return time(hours, minutes)
    except ValueError:
        raise ScheduleError("bad_time", f"{text!r} is not a time of day", span=text) from None


def check_spans(spans: list[Span], part: str = "") -> tuple[Span, ...]:
    """One day's spans in order; `ScheduleError("overlap")` if two of them share a moment."""
    ordered = tuple(sorted(spans))
    for (start, end), (next_start, next_end) in pairwise(ordered):
        if next_start < end:
            first = f"{clock_text(start)}-{clock_text(end)}"
            second = f"{clock_text(next_start)}-{clock_text(next_end)}"
            raise ScheduleError(
                "overlap", f"{part!r}: {second} overlaps {first}", part=part, span=second, other=first
            )
    return ordered


@lru_cache(maxsize=16)
def _named_holidays(year: int, language: str) -> holidays.HolidayBase:
    return holidays.country_holidays("SE", years=year, categories=("public", "de_facto"), language=language)


def _spans_text(spans: tuple[Span, ...]) -> str:
    return ", ".join(f"{clock_text(start)}-{clock_text(end)}" for start, end in spans)


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("opening hours need an aware datetime")
    return moment.astimezone(tz)


def _parts(text: str) -> list[str]:
    return [p.strip() for p in text.split(";") if p.strip()]


def _days(text: str, part: str) -> list[int]:
    out: list[int] = []
    for piece in text.lower().split(","):
        first, _, last = piece.partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise ScheduleError(
                "bad_days", f"{part!r}: days are mon tue wed thu fri sat sun, e.g. mon-fri", part=part
            )
        a, b = _DAYS.index(first), _DAYS.index(last or first)
        if b < a:
            raise ScheduleError(
                "days_backwards", f"{part!r}: a day range must go forward, e.g. mon-fri", part=part
            )
        out.extend(range(a, b + 1))
    return out


def _spans(text: str, part: str) -> list[Span]:
    spans: list[Span] = []
    for piece in text.replace(" ", "").split(","):
        match = _SPAN.match(piece)
        if not match:
            raise ScheduleError("bad_span", f"{part!r}: times are like 09:00-16:00", part=part, span=piece)
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = time(h1, m1), time(h2, m2) if (h2, m2) != (24, 0) else time.max
        except ValueError:
            raise ScheduleError(
                "bad_time", f"{part!r}: {piece} is not a time of day", part=part, span=piece
            ) from None
        if end <= start:
            raise ScheduleError(
                "ends_before_start", f"{part!r}: {piece} ends before it starts", part=part, span=piece
            )
        spans.append((start, end))
    return spans
