"""The opening hours a supervisor edits in the console (every process reads them from Redis).

The edit is a structured form (`console/domain/hours_form.py`); what is stored is the `OPENING_HOURS` text
the form's schedule writes, so the gateway's `HoursSource` and the settings read one format.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from chatbot.clock import Clock
from chatbot.domain.hours import STOCKHOLM, OpeningHours, ScheduleError, Span, holiday_name
from chatbot.store.hours import HoursStore
from console.domain.deskpart import DeskError
from console.domain.hours_form import Checked, HoursForm

log = logging.getLogger(__name__)

PREVIEW_DAYS = 14


@dataclass(frozen=True)
class PreviewDay:
    """One day as children will be told it: its spans (none: closed), and why (`week`, `exception`,
    `holiday`, with the holiday's name in the reader's language)."""

    day: date
    spans: tuple[Span, ...]
    reason: str
    holiday: str = ""


@dataclass(frozen=True)
class InForce:
    """The hours in force, and the fault of a saved edit that cannot be read (then the settings' apply)."""

    hours: OpeningHours
    unreadable: ScheduleError | None = None


class Opening:
    def __init__(self, default: OpeningHours, store: HoursStore | None, clock: Clock) -> None:
        self.hours = default
        self._default_hours = default
        self._hours_store = store
        self._clock = clock

    def today(self) -> date:
        return self._clock.now().astimezone(STOCKHOLM).date()

    async def in_force(self) -> InForce:
        """The supervisor's edit if there is one and it reads, else the settings' hours."""
        saved = await self._hours_store.get() if self._hours_store else None
        if saved is None:
            return InForce(self._default_hours)
        try:
            return InForce(OpeningHours.parse(*saved))
        except ScheduleError as exc:
            return InForce(self._default_hours, exc)

    async def form(self) -> HoursForm:
        """The editor's form for the hours in force (exceptions from today on)."""
        return HoursForm.of((await self.in_force()).hours, self.today())

    def check(self, form: HoursForm) -> Checked:
        """The schedule the form describes (as of today); `HoursRefused` when a field is wrong."""
        return form.check(self.today())

    async def save(self, checked: Checked) -> None:
        """Store a checked schedule as the `OPENING_HOURS` text every process reads."""
        if self._hours_store is None:
            raise DeskError("bad_hours", "no store for edited opening hours")
        await self._hours_store.set(*checked.hours.text())
        self.hours = checked.hours

    def preview(self, hours: OpeningHours, language: str, days: int = PREVIEW_DAYS) -> list[PreviewDay]:
        """The coming `days` days from today, as children will be told them."""
        today = self.today()
        out = []
        for offset in range(days):
            day = today + timedelta(days=offset)
            spans = hours.spans_on(day)
            if day in hours.exceptions:
                out.append(PreviewDay(day, spans, "exception"))
            elif (name := holiday_name(day, language)) is not None:
                out.append(PreviewDay(day, spans, "holiday", name))
            else:
                out.append(PreviewDay(day, spans, "week"))
        return out

    async def load(self) -> OpeningHours:
        found = await self.in_force()
        if found.unreadable is not None:
            log.error(
                "saved opening hours cannot be read (%s); using the settings' hours", found.unreadable.code
            )
        self.hours = found.hours
        return self.hours
