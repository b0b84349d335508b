"""The production Redis client: a burst of commands beyond its pool waits for a connection, never fails."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis.exceptions
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from chatbot.redis_server import RedisServer
from chatbot.store import client, keys
from tests.cluster import LocalCluster
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


async def test_cluster_client_learns_the_nodes_spreads_the_groups_and_hears_every_node(
    redis_cluster: LocalCluster,
) -> None:
    """REDIS_CLUSTER_NODES may name one node: the client learns the others. The groups' tags put the
    data on every primary, and a listener hears a notification published on any of them (a cluster
    broadcasts classic PUBLISH), which is how every process's notifications reach every other."""
    on_cluster = client.connect("", cluster_nodes=redis_cluster.nodes[:1])
    listener = on_cluster.pubsub(ignore_subscribe_messages=True)
    try:
        assert isinstance(on_cluster, RedisCluster)
        await on_cluster.set(keys.QUEUE + ":probe", "1", ex=60)
        holders = set()
        for group in keys.GROUPS:
            key = f"{keys.tagged(group)}:probe"
            await on_cluster.set(key, group, ex=60)
            holders.add(on_cluster.get_node_from_key(key).port)
        assert holders == {port for _, port in redis_cluster.nodes}

        await listener.subscribe(keys.NOTIFY_STAFF)
        for _, port in redis_cluster.nodes:
            direct = Redis(port=port)
            await direct.publish(keys.NOTIFY_STAFF, f"from {port}")
            await direct.aclose()
        heard = set()
        async with asyncio.timeout(5):
            while len(heard) < len(redis_cluster.nodes):
                message = await listener.get_message(timeout=1.0)
                if message is not None:
                    heard.add(message["data"].decode())
        assert heard == {f"from {port}" for _, port in redis_cluster.nodes}
    finally:
        await listener.aclose()
        await on_cluster.aclose()
