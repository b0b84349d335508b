"""The Redis client a process uses: one bounded pool where a burst waits for a connection instead of failing.

With sentinels (REDIS_SENTINELS) the pool asks them for the current primary on every new connection, so
after a failover the next command reaches the promoted replica; connections to the old primary fail
(refused, or READONLY once it is demoted) and are replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool


class _BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):  # type: ignore[misc]
    """Sentinel's pool (asks for the primary, drops connections to a demoted one) that waits for a free
    connection like the plain one, instead of raising when a burst finds all 64 in use."""


# Redis runs one command at a time, so more connections than this buy no throughput; they only cost
# memory and file descriptors. A burst of messages beyond it queues in the pool.
MAX_CONNECTIONS = 64
# How long a command may wait for a free connection before it fails (and the child gets `internal`).
WAIT_SECONDS = 10.0
# A dead primary must not hang a command for the OS's TCP timeout: fail fast, the caller retries.
SOCKET_TIMEOUT = 5.0


def connect(
    url: str,
    *,
    max_connections: int = MAX_CONNECTIONS,
    sentinels: Sequence[tuple[str, int]] = (),
    master_name: str = "stodchat",
) -> Redis:
    """A client for `url` whose pool blocks when full (redis-py's default pool raises at 100 in flight);
    with `sentinels`, for the primary they name `master_name` (the URL then gives db and password)."""
    if not sentinels:
        pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=WAIT_SECONDS)
        return Redis.from_pool(pool)
    options = _url_options(url)
    sentinel = Sentinel(
        list(sentinels),
        sentinel_kwargs={"socket_timeout": SOCKET_TIMEOUT, "socket_connect_timeout": SOCKET_TIMEOUT},
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
        **options,
    )
    primary: Redis = sentinel.master_for(
        master_name,
        connection_pool_class=_BlockingSentinelPool,
        max_connections=max_connections,
        timeout=WAIT_SECONDS,
    )
    return primary


def _url_options(url: str) -> dict[str, Any]:
    """db, username and password from a redis:// URL (host and port come from the sentinels)."""
    if not url:
        return {}
    parts = urlsplit(url)
    options: dict[str, Any] = {}
    path = parts.path.strip("/")
    if path.isdigit():
        options["db"] = int(path)
    if parts.username:
        options["username"] = unquote(parts.username)
    if parts.password:
        options["password"] = unquote(parts.password)
    return options
