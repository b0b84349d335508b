"""Console benchmark: atomic claims under contention, claim throughput, and the cost of one queue tick.

It starts a private redis-server and measures, on loopback only, with bounded loops:

  race        R rounds; in each, N counsellors on separate connections claim the same conversation at
              once. Reports winners per round (must be exactly 1) and the round's wall time.
  throughput  K queued conversations claimed one after another by counsellors with free slots: claims/s.
  tick        the console's periodic work (sweep + announce places + snapshot of queue and shifts), for
              each --queued size: the first tick (every child new), steady ticks (nothing moved), and
              ticks right after the head of the queue was claimed (every child behind is told a new
              place); with the Redis round trips of one steady tick, counted on the client's connections.

    .venv/bin/python bench/console_claims.py                        # about half a minute; stdout
    .venv/bin/python bench/console_claims.py --tick-only --queued 100 500
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from redis.asyncio import Connection, ConnectionPool, Redis

from chatbot.clock import SystemClock
from chatbot.content.library import ContentLibrary
from chatbot.content.loading import load_library
from chatbot.domain.hours import OpeningHours
from chatbot.domain.sessions import new_conversation_id
from chatbot.model import Entry, Role, to_ms
from chatbot.redis_server import RedisServer
from chatbot.settings import Settings
from chatbot.store import keys as chat_keys
from chatbot.store.conversations import ConversationStore
from chatbot.store.queue import QueueStore
from console.domain.desk import Desk
from console.domain.deskpart import DeskError
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


class CountingConnection(Connection):
    """A real connection that counts what it writes to the socket: one write is one round trip."""

    writes = 0

    async def send_packed_command(self, command: object, check_health: bool = True) -> None:
        CountingConnection.writes += 1
        await super().send_packed_command(command, check_health)  # type: ignore[arg-type]


async def tick(desk: Desk) -> None:
    """What console.live.Live.tick asks of Redis (the heartbeat aside)."""
    await desk.sweeper.sweep()
    await desk.waiting.announce_positions()
    await desk.waiting.queue()
    await desk.shifts.on_shift()


async def timed_tick(desk: Desk) -> float:
    start = time.perf_counter()
    await tick(desk)
    return (time.perf_counter() - start) * 1000


async def tick_bench(url: str, settings: Settings, content: ContentLibrary, size: int) -> str:
    client = Redis(connection_pool=ConnectionPool.from_url(url, connection_class=CountingConnection))
    await client.flushall()  # our private server only
    desk = desk_for(client, settings, content)
    await desk.shifts.set_status("c000", "available", capacity=10, display="c000")
    for _ in range(size):
        await queued(client, settings)
    first = await timed_tick(desk)
    steady = [await timed_tick(desk) for _ in range(5)]
    before = CountingConnection.writes
    await tick(desk)
    trips = CountingConnection.writes - before
    moved = []
    for _ in range(3):
        head = (await desk.waiting.queue())[0].conv_id
        await desk.actions.claim(head, "c000")
        moved.append(await timed_tick(desk))
    await client.aclose()
    return (
        f"tick:       {size} children queued: first {first:.1f} ms, steady median "
        f"{statistics.median(steady):.1f} ms ({trips} round trips), after a claim median "
        f"{statistics.median(moved):.1f} ms"
    )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as server:
        settings = Settings(redis_url=server.url, opening_hours=ALWAYS_OPEN)
        content = load_library(settings)
        if args.tick_only:
            for size in args.queued:
                print(await tick_bench(server.url, settings, content, size))
            return
        clients = [Redis.from_url(server.url) for _ in range(args.counsellors)]
        desks = [desk_for(c, settings, content) for c in clients]
        names = [f"c{i:03d}" for i in range(args.counsellors)]
        for desk, name in zip(desks, names, strict=True):
            await desk.shifts.set_status(name, "available", capacity=10, display=name)

        winners, times = [], []
        for _ in range(args.rounds):
            conv_id = await queued(clients[0], settings)
            start = time.perf_counter()
            results = await asyncio.gather(
                *(d.actions.claim(conv_id, n) for d, n in zip(desks, names, strict=True)),
                return_exceptions=True,
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
                for held in await desk.shifts.assigned(name):
                    await desk.actions.end(held, name)

        todo = [await queued(clients[0], settings) for _ in range(args.claims)]
        start = time.perf_counter()
        for i, conv_id in enumerate(todo):
            index = i % len(desks)
            await desks[index].actions.claim(conv_id, names[index])
            if (i + 1) % len(desks) == 0:
                for desk, name in zip(desks, names, strict=True):
                    for held in await desk.shifts.assigned(name):
                        await desk.actions.end(held, name)
        claim_rate = args.claims / (time.perf_counter() - start)

        print(f"race:       {args.rounds} rounds x {args.counsellors} concurrent claims of one conversation")
        print(f"            winners per round: min {min(winners)} max {max(winners)} (must be 1 and 1)")
        print(
            f"            round time p50 {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"
        )
        print(
            f"throughput: {args.claims} claims (each with its 'counsellor joined' notice): {claim_rate:.0f} claims/s"
        )
        for client in clients:
            await client.aclose()
        for size in args.queued:
            print(await tick_bench(server.url, settings, content, size))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counsellors", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument(
        "--queued", type=int, nargs="+", default=[100, 500], help="queue lengths for the tick"
    )
    parser.add_argument("--tick-only", action="store_true", help="skip the race and the throughput")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
