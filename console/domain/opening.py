"""The opening hours a supervisor edits in the console (every process reads them from Redis)."""

from __future__ import annotations

import logging

from chatbot.domain.hours import OpeningHours, ScheduleError
from chatbot.store.hours import HoursStore
from console.domain.deskpart import DeskError

log = logging.getLogger(__name__)


class Opening:
    def __init__(
        self, default: OpeningHours, store: HoursStore | None, *, weekly: str, exceptions: str
    ) -> None:
        self.hours = default
        self._default_hours = default
        self._hours_store = store
        self._default_text = (weekly, exceptions)

    async def text(self) -> tuple[str, str]:
        """The (weekly, exceptions) texts in force: the supervisor's edit, else the settings'."""
        saved = await self._hours_store.get() if self._hours_store else None
        return saved or self._default_text

    async def set(self, weekly: object, exceptions: object) -> None:
        if not isinstance(weekly, str) or not isinstance(exceptions, str) or self._hours_store is None:
            raise DeskError("bad_hours", "opening hours are text")
        try:
            parsed = OpeningHours.parse(weekly.strip(), exceptions.strip())
        except ScheduleError as exc:
            raise DeskError("bad_hours", str(exc)) from None
        await self._hours_store.set(weekly.strip(), exceptions.strip())
        self.hours = parsed

    async def load(self) -> OpeningHours:
        saved = await self._hours_store.get() if self._hours_store else None
        if saved is None:
            self.hours = self._default_hours
            return self.hours
        try:
            self.hours = OpeningHours.parse(*saved)
        except ScheduleError:
            log.error("saved opening hours cannot be read; using the settings' hours")
            self.hours = self._default_hours
        return self.hours
