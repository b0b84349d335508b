"""Sign-in throttling that an attacker cannot turn against staff: per client and name, never per name alone.

Threat: guessing a counsellor's password, and the opposite, using the guard to deny her the shift. A limit
per name alone (the old "five failures lock the account from anywhere") hands every stranger who knows a
name a lock-out button (ASVS 6.3, V2.2.1). So the hard limits are per client: one client (a keyed hash of
its address, never the address) gets PAIR_LIMIT failures per name and CLIENT_LIMIT across names in a
window, then waits; the counsellor, from her own client, is untouched. Only a distributed attack, from at
least NAME_CEILING / PAIR_LIMIT clients, reaches the per-name ceiling, and even then answers for that name
are slowed (a progressive delay), never refused. The second factor is what makes guessing hopeless; these
limits only keep the password's guessing slow and the log quiet.

Step-up codes (a signed-in analyst re-entering a TOTP code) are counted per session: STEP_UP_LIMIT wrong
codes end that session (`console.domain.reauth`) and never touch the account's sign-in.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from chatbot.clock import Clock
from chatbot.model import to_ms
from console.store import keys
from console.store.throttle import Counted, Refused, ThrottleStore

log = logging.getLogger(__name__)

WINDOW_S = keys.LOGIN_WINDOW
PAIR_LIMIT = 5
"""Failures for one name from one client in a window; then that client waits for that name."""
CLIENT_LIMIT = 20
"""Failures from one client across names (spraying) in a window; then that client waits."""
NAME_CEILING = 50
"""Failures for one name from all clients in a window: ten clients at their pair limit. Above it every
answer for the name is delayed, starting at one second and doubling every DELAY_STEP failures."""
DELAY_STEP = 10
MAX_DELAY_S = 16.0
STEP_UP_LIMIT = 5
"""Wrong step-up codes in one session; then the session ends."""
LISTED = 500
"""Most client blocks, and most name blocks, the supervisors' list shows (a botnet makes thousands)."""

_HEX = r"[0-9a-f]{32}"
_SUBJECT = rf"(?:[a-z][a-z0-9_.-]{{1,31}}|~{_HEX})"
_MEMBER = re.compile(rf"^(?:client:{_HEX}|pair:{_SUBJECT}:{_HEX}|name:{_SUBJECT})$")

Pause = Callable[[float], Awaitable[None]]


class Locked(Exception):
    """This client has used up its failures (for this name, or for all names); wait out the window."""


class Kind(StrEnum):
    CLIENT = "client"
    PAIR = "pair"
    NAME = "name"


class State(StrEnum):
    LOCKED = "locked"
    """A client waits out the window (for one name, or for all)."""
    SLOWED = "slowed"
    """Every answer for the name is delayed: a distributed attack."""


@dataclass(frozen=True)
class Block:
    """A current lock-out or slow-down, as the supervisors' page shows it."""

    member: str
    """The counter's id: the lift form sends it back."""
    kind: Kind
    account: str
    """The account name; '' for a client's own limit or a name no account has."""
    client: str
    """The first hex digits of the client's keyed hash (to tell clients apart); '' for a name."""
    failures: int
    until: datetime
    state: State
    delay_s: float


def is_member(value: object) -> bool:
    return isinstance(value, str) and bool(_MEMBER.match(value))


def delay_for(failures: int) -> float:
    """Seconds an answer for a name waits, given that name's failures from all clients."""
    if failures < NAME_CEILING:
        return 0.0
    doublings = min((failures - NAME_CEILING) // DELAY_STEP, 30)  # a flood must not overflow the float
    return min(MAX_DELAY_S, 2.0**doublings)


class SignInThrottle:
    def __init__(
        self, store: ThrottleStore, clock: Clock, key: bytes, *, pause: Pause = asyncio.sleep
    ) -> None:
        self._store = store
        self._clock = clock
        self._key = key
        self._pause = pause

    def client_hash(self, client: str) -> str:
        """A keyed hash of the client address; the address itself is never stored."""
        return hmac.new(self._key, client.encode(), hashlib.sha256).hexdigest()[:32]

    def subject(self, name: str, *, known: bool) -> str:
        """How counters name a sign-in name: an account's own name, or a keyed hash of a name no account
        has (it may be a password typed into the wrong field). Both count exactly alike, so the limits
        tell a guesser nothing about which names exist."""
        if known:
            return name
        return "~" + hmac.new(self._key, b"name:" + name.encode(), hashlib.sha256).hexdigest()[:32]

    async def admit(self, client_hash: str, subject: str | None) -> int:
        """Before a password is checked, count the attempt (as a failure until it succeeds): Locked, and
        nothing counted, when this client has used its failures; slowed (never refused) when the name is
        over its ceiling. Returns this client's attempts for the name (for all names when `subject` is
        None: a malformed form). Counting first means parallel attempts cannot slip past the limit."""
        counters = [Counted(f"client:{client_hash}", CLIENT_LIMIT, guarded=True)]
        if subject is not None:
            counters += [
                Counted(f"pair:{subject}:{client_hash}", PAIR_LIMIT, guarded=True),
                Counted(f"name:{subject}", NAME_CEILING, slows_name=True),
            ]
        try:
            counts = await self._store.count(counters, now_ms=self._now_ms(), window_s=WINDOW_S)
        except Refused as refused:
            if refused.member.startswith("client:"):
                log.warning("login refused: too many failures from one client")
            else:
                log.warning(
                    "login refused for %s: too many failures for it from one client", _shown(str(subject))
                )
            raise Locked from None
        if subject is None:
            return counts[0]
        before = counts[2] - 1
        delay = delay_for(before)
        if delay:
            log.warning(
                "login for %s slowed by %.0f s: %d failures in window", _shown(subject), delay, before
            )
            await self._pause(delay)
        return counts[1]

    async def succeeded(self, client_hash: str, subject: str) -> None:
        """She is in: the attempt was no failure, and her own client's count for her name starts again
        (the name's ceiling keeps the others: it measures an attack, which her success does not end)."""
        await self._store.uncount([f"client:{client_hash}", f"name:{subject}"], now_ms=self._now_ms())
        await self._store.forget([f"pair:{subject}:{client_hash}"])

    async def forget_account(self, name: str) -> int:
        """Every counter of an account's name (an administrator reset or removed it)."""
        return await self._store.forget([f"name:{name}"], prefixes=(f"pair:{name}:",))

    async def blocks(self) -> list[Block]:
        """The current lock-outs and slow-downs, the most failures first."""
        now_ms = self._now_ms()
        found: list[Block] = []
        for counter in await self._store.blocks(now_ms=now_ms, most=LISTED):
            block = _block(counter.member, counter.failures, counter.until_ms)
            if block is not None:
                found.append(block)
        return sorted(found, key=lambda b: (-b.failures, b.member))

    async def lift(self, member: str) -> bool:
        """End one block now (a supervisor's decision); False when it had already ended."""
        return bool(await self._store.forget([member])) if is_member(member) else False

    # Step-up -----------------------------------------------------------------------------------

    async def step_up_attempt(self, session_hash: str) -> int:
        """Count a step-up attempt before its code is checked (so parallel ones cannot slip past the
        limit); which attempt in the window this is. A right code clears the count."""
        return await self._store.count_step_up(session_hash, now_ms=self._now_ms(), window_s=WINDOW_S)

    async def step_up_succeeded(self, session_hash: str) -> None:
        await self._store.clear_step_up(session_hash)

    def _now_ms(self) -> int:
        return to_ms(self._clock.now())


def _shown(subject: str) -> str:
    return "an unknown name" if subject.startswith("~") else subject


def _block(member: str, failures: int, until_ms: int) -> Block | None:
    kind_text, _, rest = member.partition(":")
    until = datetime.fromtimestamp(until_ms / 1000, UTC)
    if kind_text == Kind.CLIENT and failures >= CLIENT_LIMIT:
        return Block(member, Kind.CLIENT, "", rest[:8], failures, until, State.LOCKED, 0.0)
    if kind_text == Kind.PAIR and failures >= PAIR_LIMIT:
        subject, _, client = rest.rpartition(":")
        account = "" if subject.startswith("~") else subject
        return Block(member, Kind.PAIR, account, client[:8], failures, until, State.LOCKED, 0.0)
    if kind_text == Kind.NAME and failures >= NAME_CEILING:
        account = "" if rest.startswith("~") else rest
        return Block(member, Kind.NAME, account, "", failures, until, State.SLOWED, delay_for(failures))
    return None
