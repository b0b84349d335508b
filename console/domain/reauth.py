"""The fresh second factor an analyst gives before any ciphertext leaves the server (step-up re-auth).

Threat: a session left open (or stolen) on an analyst's machine. The session alone reaches case lists and
hashes; opening a file needs a TOTP code typed within the window (`CONSOLE_REAUTH_WINDOW`), bound to
this session, and a code is good once (a code seen over a shoulder at login cannot be replayed here).
Wrong codes count against this session only: STEP_UP_LIMIT of them end the session, so a stolen one gets
a handful of guesses, and the analyst's own sign-in is never locked by them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from chatbot.clock import Clock
from chatbot.model import to_ms
from console.domain.accounts import AccountService, LoginRefused, Staff, StaffSessions
from console.domain.throttle import STEP_UP_LIMIT
from console.store.reauth import ReauthStore

log = logging.getLogger(__name__)


class StepUpEnded(Exception):
    """Too many wrong codes in this session: it has been ended, and the analyst signs in again."""


class Reauth:
    def __init__(
        self,
        accounts: AccountService,
        store: ReauthStore,
        clock: Clock,
        sessions: StaffSessions,
        *,
        window_s: int,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._clock = clock
        self._sessions = sessions
        self.window_s = window_s

    async def confirm(self, staff: Staff, code: object) -> datetime:
        """Check the code; the session is fresh until the returned time. LoginRefused when it is wrong,
        StepUpEnded (and the session is over) at the STEP_UP_LIMIT-th wrong code."""
        throttle = self._accounts.throttle
        attempt = await throttle.step_up_attempt(staff.token_hash)
        if attempt > STEP_UP_LIMIT:  # parallel attempts: the session is ending already
            await self._end(staff)
        try:
            await self._accounts.confirm_code(staff.name, code)
        except LoginRefused:
            if attempt >= STEP_UP_LIMIT:
                await self._end(staff)
            raise
        await throttle.step_up_succeeded(staff.token_hash)
        now = self._clock.now()
        await self._store.mark(staff.token_hash, at_ms=to_ms(now), ttl_s=self.window_s)
        return now + timedelta(seconds=self.window_s)

    async def fresh_until(self, staff: Staff) -> datetime | None:
        """Until when this session may open files, or None when it must confirm a code first."""
        at_ms = await self._store.last(staff.token_hash)
        if at_ms is None:
            return None
        # The clock decides, not only the key's TTL: tests inject time, and a TTL rounds to seconds.
        until = datetime.fromtimestamp(at_ms / 1000, UTC) + timedelta(seconds=self.window_s)
        return until if self._clock.now() < until else None

    async def forget(self, staff: Staff) -> None:
        await self._store.forget(staff.token_hash)

    async def _end(self, staff: Staff) -> None:
        log.warning("session of %s ended: %d wrong step-up codes", staff.name, STEP_UP_LIMIT)
        await self._store.forget(staff.token_hash)
        await self._sessions.end(staff)
        raise StepUpEnded
