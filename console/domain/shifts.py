"""Counsellors' shifts: who is on shift, available or away, with how many chats, and whose console is alive."""

from __future__ import annotations

import logging
from enum import StrEnum

from console.domain.deskpart import DeskError, DeskPart
from console.store.handoff import ShiftRecord

log = logging.getLogger(__name__)

MAX_DISPLAY_CHARS = 40
# A live socket's presence is refreshed every console tick (2 s); one not refreshed for this long belongs
# to a console process that died. Generous, so a slow tick or a little clock skew between processes never
# looks like a disconnect (it would only start the grace period, which the next heartbeat cancels).
PRESENCE_STALE_MS = 15_000


class Status(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"


class Shifts(DeskPart):
    async def on_shift(self) -> list[ShiftRecord]:
        """Everyone on shift now, available or away."""
        return await self._store.on_shift()

    async def shift(self, name: str) -> ShiftRecord | None:
        return await self._store.shift(name)

    async def assigned(self, name: str) -> list[str]:
        """The conversations a counsellor has now."""
        return await self._store.assigned(name)

    async def to_categorise(self, name: str) -> list[str]:
        """Ended chats of hers that wait for her categorisation."""
        return await self._store.to_categorise(name)

    async def set_status(
        self, name: str, status: Status | str, *, capacity: int, display: str
    ) -> ShiftRecord:
        try:
            chosen = Status(status)
        except ValueError:
            raise DeskError("bad_status", "status is available or away") from None
        display = display.strip()
        if not display or len(display) > MAX_DISPLAY_CHARS:
            raise DeskError("bad_display", f"the name children see must be 1-{MAX_DISPLAY_CHARS} characters")
        if not 1 <= capacity <= 10:
            raise DeskError("bad_capacity", "capacity is between 1 and 10 chats")
        await self._store.set_shift(
            name, status=chosen.value, capacity=capacity, display=display, now_ms=self._now_ms()
        )
        record = await self._store.shift(name)
        assert record is not None
        log.info("%s is %s (capacity %d)", name, chosen.value, capacity)
        return record

    async def connected(self, name: str, conn: str) -> None:
        """A counsellor's console is back: their conversations stay theirs (the grace period stops)."""
        await self.alive([(name, conn)])

    async def alive(self, sockets: list[tuple[str, str]]) -> None:
        """Heartbeat of this process's (name, conn) sockets; one that stops beating goes stale on its own."""
        if sockets:
            await self._store.presence_up(sockets, stale_at_ms=self._now_ms() + PRESENCE_STALE_MS)

    async def disconnected(self, name: str, conn: str) -> None:
        """A socket closed; if it was the counsellor's last one anywhere, the grace period starts."""
        grace_ms = self._settings.handoff_grace * 1000
        if await self._store.presence_down(name, conn, now_ms=self._now_ms(), grace_ms=grace_ms):
            log.info("%s has no console open; grace period of %d s started", name, grace_ms // 1000)
