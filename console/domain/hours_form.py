"""The opening hours as a supervisor edits them: a week grid and dated exceptions, read from a form exactly as
typed, checked field by field, and turned into the schedule (stored as the `OPENING_HOURS` text).

Field names (also the inputs' ids on the page, after "hours-"):
  d{0-6}-closed, d{i}-s{j}-from, d{i}-s{j}-to                    Monday is d0
  x{k}-date, x{k}-closed, x{k}-s{j}-from, x{k}-s{j}-to          the k-th dated exception
Blank span rows and blank exception rows are left out and the rest numbered again in order, so a problem's
field is the field of the form as it is shown again.

Choices (docs/console-api.md, "Opening hours"): a day that is neither closed nor given a span is a mistake,
not a closed day; a span must end after it starts, on the same day; spans of a day may not overlap; a
dated exception for a day that has passed is not an error (it changes nothing) but is left out of what is
saved, and the supervisor is told; the same date twice is an error.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time

from chatbot.domain.hours import OpeningHours, ScheduleError, Span, clock_text, read_time

MAX_SPANS = 6
"""Spans a day can have (a split shift or two is real; more is a slip of the hand)."""
MAX_EXCEPTIONS = 60

_SPAN_FIELD = re.compile(r"^(d[0-6]|x\d{1,3})-s(\d{1,2})-(from|to)$")
_ROW_FIELD = re.compile(r"^x(\d{1,3})-(date|closed)$")


@dataclass(frozen=True)
class SpanField:
    start: str = ""
    end: str = ""

    @property
    def blank(self) -> bool:
        return not self.start.strip() and not self.end.strip()


@dataclass(frozen=True)
class DayField:
    """A weekday of the grid, or a dated exception (then `day` is the date as typed)."""

    closed: bool
    spans: tuple[SpanField, ...] = ()
    day: str = ""


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: `field` is a field name above, `code` one of `PROBLEMS`."""

    field: str
    code: str
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)


PROBLEMS = (
    "missing_time",  # one of from/to is empty
    "bad_time",  # not a time of day
    "ends_before_start",  # params start, end
    "overlap",  # params other (the earlier span it overlaps)
    "too_many_spans",  # params count
    "no_spans",  # neither closed nor open at any time
    "missing_date",
    "bad_date",
    "duplicate_date",  # params date
    "too_many_exceptions",  # params count
)


class HoursRefused(ValueError):
    """The form has problems; nothing was saved."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(", ".join(f"{p.field}:{p.code}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Checked:
    """A form that passed: the schedule, and the typed exception dates left out because they have passed."""

    hours: OpeningHours
    past: tuple[date, ...] = ()


@dataclass(frozen=True)
class HoursForm:
    days: tuple[DayField, ...]
    """Monday first, seven of them."""
    exceptions: tuple[DayField, ...] = ()

    @classmethod
    def of(cls, hours: OpeningHours, today: date) -> HoursForm:
        """The form for the schedule in force; exceptions that have passed are not shown (they do nothing)."""
        days = tuple(
            DayField(closed=not hours.weekly.get(i), spans=_span_fields(hours.weekly.get(i, ())))
            for i in range(7)
        )
        exceptions = tuple(
            DayField(closed=not spans, spans=_span_fields(spans), day=day.isoformat())
            for day, spans in sorted(hours.exceptions.items())
            if day >= today
        )
        return cls(days, exceptions)

    @classmethod
    def read(cls, fields: Mapping[str, object]) -> HoursForm:
        """What was typed, kept as text (nothing is lost or corrected before the supervisor sees it again)."""
        spans: dict[str, dict[int, dict[str, str]]] = {}
        rows: dict[int, dict[str, str]] = {}
        for name, value in fields.items():
            text = value if isinstance(value, str) else ""
            if found := _SPAN_FIELD.match(name):
                owner, index, end = found.group(1), int(found.group(2)), found.group(3)
                spans.setdefault(owner, {}).setdefault(index, {})[end] = text
            elif found := _ROW_FIELD.match(name):
                rows.setdefault(int(found.group(1)), {})[found.group(2)] = text
        for owner in spans:
            if owner.startswith("x"):
                rows.setdefault(int(owner[1:]), {})

        def typed(owner: str) -> tuple[SpanField, ...]:
            found = [
                SpanField(s.get("from", ""), s.get("to", "")) for _, s in sorted(spans.get(owner, {}).items())
            ]
            return tuple(s for s in found if not s.blank)

        days = tuple(
            DayField(closed=bool(fields.get(f"d{i}-closed")), spans=typed(f"d{i}")) for i in range(7)
        )
        exceptions = []
        for k, row in sorted(rows.items()):
            made = DayField(
                closed=bool(row.get("closed")), spans=typed(f"x{k}"), day=row.get("date", "").strip()
            )
            if made.day or made.closed or made.spans:
                exceptions.append(made)
        return cls(days, tuple(exceptions))

    def check(self, today: date) -> Checked:
        """The schedule this form describes, or `HoursRefused` with every problem found."""
        problems: list[Problem] = []
        weekly: dict[int, tuple[Span, ...]] = {}
        for i, day in enumerate(self.days):
            if not day.closed:
                weekly[i] = _check_spans(f"d{i}", day.spans, problems)
        exceptions: dict[date, tuple[Span, ...]] = {}
        past: list[date] = []
        for k, row in enumerate(self.exceptions):
            spans = () if row.closed else _check_spans(f"x{k}", row.spans, problems)
            if k >= MAX_EXCEPTIONS:
                problems.append(Problem(f"x{k}-date", "too_many_exceptions", {"count": str(MAX_EXCEPTIONS)}))
                continue
            if not row.day:
                problems.append(Problem(f"x{k}-date", "missing_date"))
                continue
            try:
                when = date.fromisoformat(row.day)
            except ValueError:
                problems.append(Problem(f"x{k}-date", "bad_date"))
                continue
            if when in exceptions or when in past:
                problems.append(Problem(f"x{k}-date", "duplicate_date", {"date": when.isoformat()}))
            elif when < today:
                past.append(when)
            else:
                exceptions[when] = spans
        if problems:
            raise HoursRefused(problems)
        hours = OpeningHours({d: s for d, s in weekly.items() if s}, exceptions)
        # The text is what is stored and what the gateway reads: it must read back as this very schedule.
        if OpeningHours.parse(*hours.text()) != hours:
            raise RuntimeError(f"opening hours do not survive their text: {hours.text()!r}")
        return Checked(hours, tuple(past))


def _span_fields(spans: tuple[Span, ...]) -> tuple[SpanField, ...]:
    return tuple(SpanField(clock_text(start), clock_text(end)) for start, end in spans)


def _check_spans(owner: str, typed: tuple[SpanField, ...], problems: list[Problem]) -> tuple[Span, ...]:
    """The spans of one day (sorted), adding a problem for each field that is wrong."""
    if not typed:
        problems.append(Problem(f"{owner}-s0-from", "no_spans"))
        return ()
    good: list[tuple[int, Span]] = []
    for j, span in enumerate(typed):
        name = f"{owner}-s{j}"
        if j >= MAX_SPANS:
            problems.append(Problem(f"{name}-from", "too_many_spans", {"count": str(MAX_SPANS)}))
            continue
        start = _time(span.start, f"{name}-from", problems)
        end = _time(span.end, f"{name}-to", problems, end=True)
        if start is None or end is None:
            continue
        if end <= start:
            params = {"start": clock_text(start), "end": clock_text(end)}
            problems.append(Problem(f"{name}-to", "ends_before_start", params))
            continue
        for _, (other_start, other_end) in good:
            if start < other_end and other_start < end:
                other = f"{clock_text(other_start)}–{clock_text(other_end)}"
                problems.append(Problem(f"{name}-from", "overlap", {"other": other}))
                break
        else:
            good.append((j, (start, end)))
    return tuple(sorted(span for _, span in good))


def _time(text: str, name: str, problems: list[Problem], *, end: bool = False) -> time | None:
    if not text.strip():
        problems.append(Problem(name, "missing_time"))
        return None
    try:
        return read_time(text, end=end)
    except ScheduleError:
        problems.append(Problem(name, "bad_time"))
        return None
