"""Limits on new conversations and queue joins per client and across all clients, by a keyed hash.

A client is known only as HMAC(day key, address); the day key is derived from SESSION_SECRET and the
day's number, lives in memory only and changes every day, so nothing in Redis or the logs leads back to
an address, and hashes from different days cannot be linked. Limits are generous (a school's pupils
share one address): see docs/security.md, "Floods of conversations", for how they are chosen.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from chatbot.clock import Clock
from chatbot.model import to_ms
from chatbot.settings import Settings
from chatbot.store.floods import Admission, Admitted, FloodStore

DAY_S = 86400
# A client hash on a conversation's record lives at most this long (and never longer than the
# conversation): long enough for a supervisor to block a troll the same day.
CLIENT_HASH_TTL = DAY_S


# Case-code lookups over HTTP per client. A code has 95 random bits, so guessing is hopeless at any
# rate; the limit is there anyway (issue 12), generous for a child who mistypes a few times.
CODE_LOOKUPS_BURST = 10
CODE_LOOKUPS_PER_HOUR = 30


# Return-code tries per client (the widget's "I have a return code"), counted before the code is checked.
# 95 random bits make guessing hopeless at any rate; generous for a child who mistypes a few times.
RETURN_CODES_BURST = 10
RETURN_CODES_PER_HOUR = 30


@dataclass(frozen=True)
class ClientId:
    """A client's hash under today's key and under yesterday's (a block made yesterday still holds)."""

    current: str
    previous: str


class ClientHasher:
    def __init__(self, secret: bytes, clock: Clock, trusted_proxies: tuple[str, ...] = ()) -> None:
        self._secret = secret
        self._clock = clock
        self._trusted = trusted_proxies
        self._keys: dict[int, bytes] = {}

    def identify_peer(self, peer: str | None, forwarded_for: list[str]) -> ClientId:
        """The hash of a connection's client: the peer, or behind trusted proxies the nearest
        untrusted X-Forwarded-For hop. The address is hashed here and goes no further."""
        return self.identify(client_address(peer or "unknown", forwarded_for, self._trusted))

    def _key(self, day: int) -> bytes:
        key = self._keys.get(day)
        if key is None:
            key = hmac.new(self._secret, f"client-key:{day}".encode(), hashlib.sha256).digest()
            self._keys = {d: k for d, k in self._keys.items() if d >= day - 1}
            self._keys[day] = key
        return key

    def identify(self, address: str) -> ClientId:
        day = to_ms(self._clock.now()) // 1000 // DAY_S

        def under(d: int) -> str:
            return hmac.new(self._key(d), address.encode(), hashlib.sha256).hexdigest()[:32]

        return ClientId(under(day), under(day - 1))


class FloodGuard:
    def __init__(self, store: FloodStore, clock: Clock, settings: Settings) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings

    async def admit_conversation(self, client: ClientId | None) -> Admitted:
        """May this client open a new conversation now? Resumes are never limited."""
        if client is None:
            return Admitted(Admission.OK, 0)
        s = self._settings
        return await self._store.admit_conversation(
            client.current,
            client.previous,
            now_ms=to_ms(self._clock.now()),
            burst=s.new_conversations_burst,
            per_hour=s.new_conversations_per_hour,
            busy_per_minute=s.busy_new_conversations_per_minute,
            pressure_allowance=s.pressure_allowance,
        )

    async def opened(self, conv_id: str, client: ClientId | None) -> None:
        """Note which client opened the conversation, so a supervisor can block it (hash only)."""
        if client is not None:
            ttl = min(CLIENT_HASH_TTL, self._settings.conversation_retention)
            await self._store.remember_client(conv_id, client.current, ttl=ttl)

    async def admit_queue_join(self, conv_id: str) -> bool:
        s = self._settings
        admitted = await self._store.admit_queue_join(
            conv_id,
            now_ms=to_ms(self._clock.now()),
            burst=s.queue_joins_burst,
            per_hour=s.queue_joins_per_hour,
        )
        return admitted.status is Admission.OK

    async def admit_code_lookup(self, client: ClientId) -> Admitted:
        return await self._store.take(
            "code",
            client.current,
            now_ms=to_ms(self._clock.now()),
            burst=CODE_LOOKUPS_BURST,
            per_hour=CODE_LOOKUPS_PER_HOUR,
        )

    async def admit_return_code(self, client: ClientId) -> Admitted:
        return await self._store.take(
            "return",
            client.current,
            now_ms=to_ms(self._clock.now()),
            burst=RETURN_CODES_BURST,
            per_hour=RETURN_CODES_PER_HOUR,
        )

    async def block_client_of(self, conv_id: str) -> bool:
        """Block the client that opened this conversation from new ones for CLIENT_BLOCK; False when its
        hash is no longer known (older than a day, or opened without an address)."""
        return await self._store.block_client_of(conv_id, seconds=self._settings.client_block)


def client_address(peer: str, forwarded_for: list[str], trusted_proxies: tuple[str, ...]) -> str:
    """The client's address (to be hashed at once, never kept): the peer, or, when the peer is a trusted
    proxy, the nearest X-Forwarded-For hop that is not one. Hops left of the first untrusted one are the
    client's own words and are never believed; without trusted proxies the header is ignored."""
    if not trusted_proxies or not _is_in(peer, trusted_proxies):
        return peer
    hops = [h.strip() for value in forwarded_for for h in value.split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _is_in(hop, trusted_proxies):
            return hop
    return peer


def _is_in(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)
