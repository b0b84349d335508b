"""When a person is available: a weekly schedule in Europe/Stockholm, Swedish holidays and exceptions.

Schedules are text so that settings and supervisors can write them:
  weekly:     "mon-thu 09:00-16:00; fri 09:00-15:00"
  exceptions: "2026-12-23 10:00-13:00; 2026-12-30 closed"
Public holidays and the de facto ones (Midsummer Eve, Christmas Eve, New Year's Eve) are closed unless an
exception opens them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
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
    """An opening-hours text could not be read; the message says which part and why."""


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
                raise ScheduleError(f"{part!r}: expected a date like 2026-12-23") from None
            special[day] = () if spans_text.strip() == "closed" else tuple(_spans(spans_text, part))
        return cls({d: tuple(sorted(s)) for d, s in week.items()}, special)

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
            raise ScheduleError(f"{part!r}: days are mon tue wed thu fri sat sun, e.g. mon-fri")
        a, b = _DAYS.index(first), _DAYS.index(last or first)
        if b < a:
            raise ScheduleError(f"{part!r}: a day range must go forward, e.g. mon-fri")
        out.extend(range(a, b + 1))
    return out


def _spans(text: str, part: str) -> list[Span]:
    spans: list[Span] = []
    for piece in text.replace(" ", "").split(","):
        match = _SPAN.match(piece)
        if not match:
            raise ScheduleError(f"{part!r}: times are like 09:00-16:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = time(h1, m1), time(h2, m2) if (h2, m2) != (24, 0) else time.max
        except ValueError:
            raise ScheduleError(f"{part!r}: {piece} is not a time of day") from None
        if end <= start:
            raise ScheduleError(f"{part!r}: {piece} ends before it starts")
        spans.append((start, end))
    return spans
