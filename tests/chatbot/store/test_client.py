"""The production Redis client: a burst of commands beyond its pool waits for a connection, never fails."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis.exceptions
from redis.asyncio import Redis

from chatbot.redis_server import RedisServer
from chatbot.store import client
from tests.topology import MASTER_NAME, SentinelServer


async def test_burst_beyond_the_pool_waits_instead_of_failing(redis_server: RedisServer) -> None:
    """redis-py's default pool raises "Too many connections" past its size: under load, that was
    `internal` errors for children. The bounded blocking pool queues them."""
    bounded = client.connect(redis_server.url, max_connections=4)
    try:
        # BLPOP with a timeout holds its connection, so 40 at once need 40 connections or a queue.
        results = await asyncio.gather(*(bounded.blpop([f"bench:none:{i}"], timeout=0.05) for i in range(40)))
        assert results == [None] * 40
        assert len(bounded.connection_pool._in_use_connections) == 0
        assert len(bounded.connection_pool._available_connections) <= 4
    finally:
        await bounded.aclose()


async def test_default_pool_fails_the_same_burst(redis_server: RedisServer) -> None:
    """The control: the failure the bounded pool prevents is real."""
    plain = Redis.from_url(redis_server.url, max_connections=4)
    try:
        results = await asyncio.gather(
            *(plain.blpop([f"bench:none:{i}"], timeout=0.05) for i in range(40)), return_exceptions=True
        )
        assert any(isinstance(r, redis.exceptions.MaxConnectionsError) for r in results)
    finally:
        await plain.aclose()


async def test_through_sentinel_the_primary_is_found_and_a_burst_waits_too(tmp_path: Path) -> None:
    """REDIS_SENTINELS: the client asks Sentinel for the primary, and its pool queues a burst like the
    plain one (redis-py's Sentinel pool would raise past its size)."""
    with RedisServer(tmp_path / "primary") as primary:
        sentinel = SentinelServer(tmp_path / "sentinel", primary.port)
        try:
            via = client.connect(
                "redis://sentinel/0",
                max_connections=4,
                sentinels=[("127.0.0.1", sentinel.port)],
                master_name=MASTER_NAME,
            )
            try:
                await via.set("sc:test:via-sentinel", "1", ex=60)
                assert await Redis.from_url(primary.url).get("sc:test:via-sentinel") == b"1"
                results = await asyncio.gather(
                    *(via.blpop([f"bench:none:{i}"], timeout=0.05) for i in range(40))
                )
                assert results == [None] * 40
            finally:
                await via.aclose()
        finally:
            sentinel.stop()
