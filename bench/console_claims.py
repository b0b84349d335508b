"""Console benchmark: atomic claims under contention, claim throughput, and the cost of one queue tick.

It starts a private redis-server and measures, on loopback only, with bounded loops:

  race        R rounds; in each, N counsellors on separate connections claim the same conversation at
              once. Reports winners per round (must be exactly 1) and the round's wall time.
  throughput  K queued conversations claimed one after another by counsellors with free slots: claims/s.
  tick        the console's periodic work (sweep + announce positions + snapshot) with Q children queued.

    .venv/bin/python bench/console_claims.py            # about half a minute; a table on stdout
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis

from chatbot.clock import SystemClock
from chatbot.domain.content import ContentLibrary
from chatbot.domain.hours import OpeningHours
from chatbot.domain.model import Entry, Role, to_ms
from chatbot.domain.sessions import new_conversation_id
from chatbot.redis_server import RedisServer
from chatbot.settings import Settings
from chatbot.store import keys as chat_keys
from chatbot.store.conversations import ConversationStore
from chatbot.store.queue import QueueStore
from console.domain.desk import Desk, DeskError
from console.store.handoff import HandoffStore
from console.store.stats import StatsStore

ALWAYS_OPEN = "mon-sun 00:00-24:00"


def desk_for(redis: Redis, settings: Settings, content: ContentLibrary) -> Desk:
    return Desk(
        HandoffStore(redis),
        ConversationStore(redis, announce_to=chat_keys.NOTIFY_CHILDREN),
        QueueStore(redis),
        StatsStore(redis, retention=settings.stats_retention),
        content,
        SystemClock(),
        settings,
        OpeningHours.parse(ALWAYS_OPEN),
    )


async def queued(redis: Redis, settings: Settings) -> str:
    store = ConversationStore(redis, announce_to=chat_keys.NOTIFY_STAFF)
    conv_id = new_conversation_id()
    now = to_ms(SystemClock().now())
    await store.create("h" + conv_id, conv_id, now_ms=now, retention=600, locale="sv")
    await store.append(conv_id, [Entry(Role.BOT, "Hej", SystemClock().now())], now_ms=now, retention=600)
    await QueueStore(redis).enqueue(conv_id, now_ms=now, urgent=False, retention=600)
    return conv_id


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as server:
        settings = Settings(redis_url=server.url, opening_hours=ALWAYS_OPEN)
        content = ContentLibrary.load(settings.content_dir, settings.locales_dir)
        clients = [Redis.from_url(server.url) for _ in range(args.counsellors)]
        desks = [desk_for(c, settings, content) for c in clients]
        names = [f"c{i:03d}" for i in range(args.counsellors)]
        for desk, name in zip(desks, names, strict=True):
            await desk.set_status(name, "available", capacity=10, display=name)

        winners, times = [], []
        for _ in range(args.rounds):
            conv_id = await queued(clients[0], settings)
            start = time.perf_counter()
            results = await asyncio.gather(
                *(d.claim(conv_id, n) for d, n in zip(desks, names, strict=True)), return_exceptions=True
            )
            times.append(time.perf_counter() - start)
            winners.append(sum(not isinstance(r, BaseException) for r in results))
            assert all(
                isinstance(r, DeskError) and r.code == "taken"
                for r in results
                if isinstance(r, BaseException)
            )
            # Free the winner's slot again so every round has the same contenders.
            for desk, name in zip(desks, names, strict=True):
                for held in await desk.store.assigned(name):
                    await desk.end(held, name)

        todo = [await queued(clients[0], settings) for _ in range(args.claims)]
        start = time.perf_counter()
        for i, conv_id in enumerate(todo):
            index = i % len(desks)
            await desks[index].claim(conv_id, names[index])
            if (i + 1) % len(desks) == 0:
                for desk, name in zip(desks, names, strict=True):
                    for held in await desk.store.assigned(name):
                        await desk.end(held, name)
        claim_rate = args.claims / (time.perf_counter() - start)

        for _ in range(args.queued):
            await queued(clients[0], settings)
        tick_times = []
        for _ in range(5):
            start = time.perf_counter()
            await desks[0].sweep()
            await desks[0].announce_positions()
            await desks[0].queue()
            tick_times.append(time.perf_counter() - start)

        print(f"race:       {args.rounds} rounds x {args.counsellors} concurrent claims of one conversation")
        print(f"            winners per round: min {min(winners)} max {max(winners)} (must be 1 and 1)")
        print(
            f"            round time p50 {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"
        )
        print(
            f"throughput: {args.claims} claims (each with its 'counsellor joined' notice): {claim_rate:.0f} claims/s"
        )
        print(
            f"tick:       {args.queued} children queued: median {statistics.median(tick_times) * 1000:.1f} ms"
        )
        for client in clients:
            await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counsellors", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--queued", type=int, default=100)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
