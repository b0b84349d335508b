"""The opening hours every process acts on: the supervisor's edit when set and valid, else the settings'.

The gateway keeps a copy refreshed on a schedule, so a busy gateway reads Redis a few times a minute
instead of once per message, and an edit reaches children within `REFRESH_SECONDS`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from chatbot.domain.hours import OpeningHours, ScheduleError
from chatbot.store.hours import HoursStore

log = logging.getLogger(__name__)

REFRESH_SECONDS = 15.0


class HoursSource:
    """The supervisor's hours when set (and valid), else the hours from settings."""

    def __init__(
        self,
        store: HoursStore,
        default: OpeningHours,
        *,
        refresh: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._default = default
        self._refresh = refresh
        self._monotonic = monotonic
        self._current = default
        self._read_at: float | None = None

    @property
    def default(self) -> OpeningHours:
        return self._default

    @property
    def latest(self) -> OpeningHours:
        """The last hours read, without waiting (for code that cannot await)."""
        return self._current

    async def current(self) -> OpeningHours:
        now = self._monotonic()
        # A clock that went back (a test's, or the wall clock set right) re-reads rather than waits.
        if self._read_at is None or not 0 <= now - self._read_at < self._refresh:
            self._current = await self._read()
            self._read_at = now
        return self._current

    async def _read(self) -> OpeningHours:
        try:
            saved = await self._store.get()
        except Exception:
            # Redis blipped: keep what we had rather than fail a child's message over it.
            log.warning("could not read the edited opening hours; keeping the last known", exc_info=True)
            return self._current
        if saved is None:
            return self._default
        try:
            return OpeningHours.parse(*saved)
        except ScheduleError as exc:
            # The console validates before saving; this guards against a hand edit in Redis.
            log.warning("edited opening hours in Redis are invalid (%s); using the settings", exc)
            return self._default
