"""The Redis client a process uses: one bounded pool where a burst waits for a connection instead of failing."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

# Redis runs one command at a time, so more connections than this buy no throughput; they only cost
# memory and file descriptors. A burst of messages beyond it queues in the pool.
MAX_CONNECTIONS = 64
# How long a command may wait for a free connection before it fails (and the child gets `internal`).
WAIT_SECONDS = 10.0


def connect(url: str, *, max_connections: int = MAX_CONNECTIONS) -> Redis:
    """A client for `url` whose pool blocks when full (redis-py's default pool raises at 100 in flight)."""
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=WAIT_SECONDS)
    return Redis.from_pool(pool)
