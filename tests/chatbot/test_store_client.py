"""The production Redis client: a burst of commands beyond its pool waits for a connection, never fails."""

from __future__ import annotations

import asyncio

import redis.exceptions
from redis.asyncio import Redis

from chatbot.redis_server import RedisServer
from chatbot.store import client


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
