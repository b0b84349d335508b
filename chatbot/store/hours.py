"""Opening hours a supervisor edited in the console, read by the gateway so children are told the truth."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis

from chatbot.domain.hours import OpeningHours, ScheduleError
from chatbot.store import keys

log = logging.getLogger(__name__)

# How stale the dialogue's copy may be: an edit reaches children within this many seconds, and a busy
# gateway reads Redis for it a few times a minute instead of once per message.
REFRESH_SECONDS = 15.0


class HoursSource:
    """The supervisor's hours when set (and valid), else the hours from settings."""

    def __init__(
        self,
        redis: Redis,
        default: OpeningHours,
        *,
        refresh: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._default = default
        self._refresh = refresh
        self._monotonic = monotonic
        self._current = default
        self._read_at: float | None = None

    @property
    def latest(self) -> OpeningHours:
        """The last hours read, without waiting (for code that cannot await)."""
        return self._current

    async def current(self) -> OpeningHours:
        now = self._monotonic()
        if self._read_at is None or now - self._read_at >= self._refresh:
            self._current = await self._read()
            self._read_at = now
        return self._current

    async def _read(self) -> OpeningHours:
        try:
            raw = await self._redis.hgetall(keys.HOURS)  # type: ignore[misc]
        except Exception:
            # Redis blipped: keep what we had rather than fail a child's message over it.
            log.warning("could not read the edited opening hours; keeping the last known", exc_info=True)
            return self._current
        if not raw:
            return self._default
        data = {_text(k): _text(v) for k, v in raw.items()}
        try:
            return OpeningHours.parse(data.get("weekly", ""), data.get("exceptions", ""))
        except ScheduleError as exc:
            # The console validates before saving; this guards against a hand edit in Redis.
            log.warning("edited opening hours in Redis are invalid (%s); using the settings", exc)
            return self._default


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
