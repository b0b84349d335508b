"""With a replica, a child's message is acknowledged only once the replica has it (REDIS_ACK_REPLICAS), so a
failover to the replica cannot lose a message the child saw acknowledged."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis as sync_redis
from redis.asyncio import Redis

from chatbot.model import Entry, Role
from chatbot.redis_server import RedisServer
from chatbot.store import keys
from chatbot.store.conversations import ConversationStore, IngestStatus
from tests.topology import wait_for_replication

STALL_S = 0.8


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[RedisServer, RedisServer]]:
    quick = ["--repl-diskless-sync-delay", "0"]
    with RedisServer(tmp_path / "primary", extra_args=quick) as primary:
        replica = RedisServer(
            tmp_path / "replica",
            extra_args=[
                *quick,
                "--enable-debug-command",
                "local",
                "--replicaof",
                "127.0.0.1",
                str(primary.port),
            ],
        )
        with replica:
            wait_for_replication(replica.port)
            yield primary, replica


async def _ingest_while_the_replica_stalls(primary: RedisServer, replica: RedisServer, ack: int) -> float:
    redis = Redis.from_url(primary.url)
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF, ack_replicas=ack)
    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    now_ms = int(now.timestamp() * 1000)
    conv_id = f"replicaconv{ack}"
    await store.create(f"replicasess{ack}", conv_id, now_ms=now_ms, retention=3600, locale="sv")
    await asyncio.sleep(0.2)  # the create has reached the replica before it stalls

    def stall() -> None:
        with sync_redis.Redis(port=replica.port) as client:
            client.execute_command("DEBUG", "SLEEP", STALL_S)

    stalled = asyncio.get_running_loop().run_in_executor(None, stall)
    await asyncio.sleep(0.1)
    started = time.monotonic()
    result = await store.ingest(
        conv_id,
        Entry(Role.CHILD, "hej", now, client_id="r1"),
        now_ms=now_ms,
        burst=8,
        per_minute=30,
        retention=3600,
        max_entries=100,
    )
    elapsed = time.monotonic() - started
    assert result.status is IngestStatus.OK
    await stalled
    await redis.aclose()
    return elapsed


async def test_an_acknowledged_message_is_on_the_replica(pair: tuple[RedisServer, RedisServer]) -> None:
    primary, replica = pair
    elapsed = await _ingest_while_the_replica_stalls(primary, replica, ack=1)
    # The write waited for the stalled replica (its DEBUG SLEEP), so the replica has it.
    assert elapsed >= STALL_S - 0.3
    with sync_redis.Redis(port=replica.port) as client:
        assert client.llen(keys.log("replicaconv1")) == 1


async def test_without_it_the_answer_does_not_wait_for_the_replica(
    pair: tuple[RedisServer, RedisServer],
) -> None:
    primary, replica = pair
    assert await _ingest_while_the_replica_stalls(primary, replica, ack=0) < STALL_S - 0.3
