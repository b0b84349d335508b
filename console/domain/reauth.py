"""The fresh second factor an analyst gives before any ciphertext leaves the server (step-up re-auth).

Threat: a session left open (or stolen) on an analyst's machine. The session alone reaches case lists and
hashes; opening a file needs a TOTP code typed within the window (`CONSOLE_REAUTH_WINDOW`), bound to
this session, and a code is good once (a code seen over a shoulder at login cannot be replayed here).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatbot.clock import Clock
from chatbot.domain.model import to_ms
from console.domain.accounts import AccountService, Staff
from console.store.reauth import ReauthStore


class Reauth:
    def __init__(self, accounts: AccountService, store: ReauthStore, clock: Clock, *, window_s: int) -> None:
        self._accounts = accounts
        self._store = store
        self._clock = clock
        self.window_s = window_s

    async def confirm(self, staff: Staff, code: object) -> datetime:
        """Check the code (LoginRefused / LoginLocked otherwise); the session is fresh until the returned time."""
        await self._accounts.confirm_code(staff.name, code)
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
