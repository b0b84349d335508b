"""What processes tell each other over Redis pub/sub, parsed: the wire format of every notify channel.

Pub/sub only wakes a process ("conversation X has entries up to seq N"); the log stays the truth, so a
notification lost while Redis is away costs nothing but latency. Only this module knows the channels'
formats (keys.py names them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from chatbot.store import keys


@dataclass(frozen=True)
class Written:
    """Entries up to `seq` are in the conversation's log; `by_gateway`: written on the children's side."""

    conv_id: str
    seq: int
    by_gateway: bool


@dataclass(frozen=True)
class Typing:
    """One side is typing (or stopped): live only, never stored."""

    conv_id: str
    role: str
    on: bool


@dataclass(frozen=True)
class Urgent:
    """The crisis check hit in this conversation."""

    conv_id: str


@dataclass(frozen=True)
class Left:
    """A child left by some exit path: the console's outbox has it (this only wakes the console)."""


@dataclass(frozen=True)
class Other:
    """A message on a channel another package defines (the console's), with its text."""

    channel: str
    text: str


Notification = Written | Typing | Urgent | Left | Other

# Every channel a console process listens on: what either side wrote, typing, exits, alarms.
ALL_CHANNELS = (
    keys.NOTIFY_CHILDREN,
    keys.NOTIFY_STAFF,
    keys.NOTIFY_TYPING,
    keys.NOTIFY_LEFT,
    keys.NOTIFY_URGENT,
)


def gateway_channels(process: str) -> tuple[str, ...]:
    """What a gateway process listens on: the console's writes, typing, and the writes of other gateway
    processes on its conversations (keys.notify_process). Never its own writes: nothing to wake it for."""
    return (keys.NOTIFY_CHILDREN, keys.NOTIFY_TYPING, keys.notify_process(process))


def parse(channel: str, text: str) -> Notification | None:
    """The notification a message carries, or None for one that does not parse (never trusted blindly)."""
    if channel in (keys.NOTIFY_CHILDREN, keys.NOTIFY_STAFF) or channel.startswith(keys.NOTIFY_PROCESS):
        written = parse_written(text)
        if written is None:
            return None
        return Written(written[0], written[1], channel != keys.NOTIFY_CHILDREN)
    if channel == keys.NOTIFY_TYPING:
        parts = text.split(" ")
        if len(parts) != 3 or parts[2] not in ("0", "1"):
            return None
        return Typing(parts[0], parts[1], parts[2] == "1")
    if channel == keys.NOTIFY_URGENT:
        return Urgent(text)
    if channel == keys.NOTIFY_LEFT:
        return Left()
    return Other(channel, text)


def parse_written(raw: bytes | str) -> tuple[str, int] | None:
    """`conv_id seq` from a notify channel, or None for anything else."""
    parts = _text(raw).split(" ")
    if len(parts) != 2 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def written(conv_id: str, seq: int) -> str:
    """The message a write announces itself with (the Lua scripts build the same)."""
    return f"{conv_id} {seq}"


def typing(conv_id: str, role: str, on: bool) -> str:
    return f"{conv_id} {role} {int(on)}"


class Notifications:
    """Subscribes to notify channels and yields what arrives, parsed. Raises when Redis goes away: the
    caller waits a moment and listens again (nothing is lost, the log is the truth)."""

    def __init__(self, redis: Redis, parser: Callable[[str, str], Notification | None] = parse) -> None:
        self._redis = redis
        self._parse = parser

    async def listen(self, *channels: str) -> AsyncIterator[Notification]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(*channels)
            async for message in pubsub.listen():
                found = self._parse(_text(message.get("channel", b"")), _text(message.get("data", b"")))
                if found is not None:
                    yield found
        finally:
            await pubsub.aclose()

    async def typing(self, conv_id: str, role: str, on: bool) -> None:
        """A typing indicator for the other side: published only, never stored (see keys.NOTIFY_TYPING)."""
        await self._redis.publish(keys.NOTIFY_TYPING, typing(conv_id, role, on))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
