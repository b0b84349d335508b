"""Who is told of a write: a gateway process hears the writes of the other gateway processes with a socket
on the conversation, never its own (it delivers those itself); consoles hear everything on their channels."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from redis.asyncio import Redis

from chatbot.model import Entry, Role
from chatbot.store import keys
from chatbot.store.conversations import ConversationStore
from chatbot.store.notifications import Notifications, Written, gateway_channels

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
RETENTION = 3600
MARK = "mark"  # a conversation id no write uses: what each listener hears last


class Heard:
    """What one gateway process's listener receives, up to a mark published after the writes: pub/sub
    keeps the server's order, so everything written before the mark has arrived when the mark has."""

    def __init__(self, redis: Redis, process: str) -> None:
        self.process = process
        self.written: list[tuple[str, int]] = []
        self._redis = redis
        self._marks: asyncio.Queue[int] = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for notice in Notifications(self._redis).listen(*gateway_channels(self.process)):
            if isinstance(notice, Written) and notice.conv_id == MARK:
                self._marks.put_nowait(notice.seq)
            elif isinstance(notice, Written):
                self.written.append((notice.conv_id, notice.seq))

    async def until_mark(self, number: int) -> list[tuple[str, int]]:
        """Publishes mark `number` (again, until the subscription is live) and waits for it."""
        while True:
            await self._redis.publish(keys.notify_process(self.process), f"{MARK} {number}")
            with contextlib.suppress(TimeoutError):
                while await asyncio.wait_for(self._marks.get(), 0.2) != number:
                    pass
                got, self.written = self.written, []
                return got

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def listening(redis: Redis, *processes: str) -> AsyncIterator[list[Heard]]:
    heard = [Heard(redis, process) for process in processes]
    try:
        for one in heard:
            await one.until_mark(0)
        yield heard
    finally:
        for one in heard:
            await one.close()


def bot(text: str) -> Entry:
    return Entry(Role.BOT, text, NOW)


async def test_each_gateway_process_hears_only_the_other_processes_writes(redis: Redis) -> None:
    one = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF, process="one")
    two = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF, process="two")
    console = ConversationStore(redis, announce_to=keys.NOTIFY_CHILDREN)
    await one.create("h-c1", "c1", now_ms=NOW_MS, retention=RETENTION, locale="sv")
    await one.present("c1", retention=RETENTION)  # the child's first tab, on process one
    async with listening(redis, "one", "two", "three") as (heard_one, heard_two, heard_three):
        # Alone on the conversation: process one's writes wake nobody (before, every write woke it).
        ingested = await one.ingest(
            "c1", Entry(Role.CHILD, "hej", NOW, client_id="a"), now_ms=NOW_MS, burst=10,
            per_minute=60, retention=RETENTION, max_entries=100,
        )  # fmt: skip
        answered = await one.append("c1", [bot("svar")], now_ms=NOW_MS, retention=RETENTION)
        assert (ingested.seq, answered) == (1, 2)
        assert await heard_one.until_mark(1) == []
        assert await heard_two.until_mark(1) == []

        # A second tab on process two: each process hears what the other wrote, and only that.
        await two.present("c1", retention=RETENTION)
        await one.append("c1", [bot("från ett")], now_ms=NOW_MS, retention=RETENTION)
        await two.append("c1", [bot("från två")], now_ms=NOW_MS, retention=RETENTION)
        assert await heard_one.until_mark(2) == [("c1", 4)]
        assert await heard_two.until_mark(2) == [("c1", 3)]
        # A process with no socket on the conversation is never told of it.
        assert await heard_three.until_mark(1) == []
        # The console's writes reach every gateway once, on the children's channel.
        await console.append("c1", [Entry(Role.COUNSELLOR, "Hej", NOW)], now_ms=NOW_MS, retention=RETENTION)
        assert await heard_one.until_mark(3) == [("c1", 5)]
        assert await heard_two.until_mark(3) == [("c1", 5)]
        assert await heard_three.until_mark(2) == [("c1", 5)]

        # The tab on process two closes: process two is no longer told; the registry holds only one.
        await two.absent("c1", now_ms=NOW_MS, retention=RETENTION)
        await one.append("c1", [bot("igen")], now_ms=NOW_MS, retention=RETENTION)
        assert await heard_two.until_mark(4) == []
        assert await redis.hgetall(keys.listeners("c1")) == {b"one": b"1"}
        assert 0 < await redis.ttl(keys.listeners("c1")) <= RETENTION
        await one.absent("c1", now_ms=NOW_MS, retention=RETENTION)
        assert await redis.exists(keys.listeners("c1")) == 0


async def test_two_sockets_of_one_process_keep_it_registered_until_both_leave(redis: Redis) -> None:
    one = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF, process="one")
    await one.create("h-c2", "c2", now_ms=NOW_MS, retention=RETENTION, locale="sv")
    await one.present("c2", retention=RETENTION)
    await one.present("c2", retention=RETENTION)
    await one.absent("c2", now_ms=NOW_MS, retention=RETENTION)
    assert await redis.hgetall(keys.listeners("c2")) == {b"one": b"1"}
    await one.absent("c2", now_ms=NOW_MS, retention=RETENTION)
    await one.absent("c2", now_ms=NOW_MS, retention=RETENTION)  # a leave too many never goes negative
    assert await redis.exists(keys.listeners("c2")) == 0
