"""The Redis client a process uses: one bounded pool where a burst waits for a connection instead of failing.

With sentinels (REDIS_SENTINELS) the pool asks them for the current primary on every new connection, so
after a failover the next command reaches the promoted replica; connections to the old primary fail
(refused, or READONLY once it is demoted) and are replaced.

With cluster nodes (REDIS_CLUSTER_NODES) it is redis-py's RedisCluster: it learns the slot map from any of
the nodes and sends each command to the primary of its key's slot (every script's keys share one slot by
their hash tag, chatbot/store/keys.py). It answers the same commands as a plain client, so the store is
typed against `Redis` and never asks which one it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
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
# See `_cluster`: a cluster node's pool raises when full instead of waiting.
CLUSTER_CONNECTIONS_PER_NODE = 4


def connect(
    url: str,
    *,
    max_connections: int = MAX_CONNECTIONS,
    sentinels: Sequence[tuple[str, int]] = (),
    master_name: str = "stodchat",
    cluster_nodes: Sequence[tuple[str, int]] = (),
) -> Redis:
    """A client for `url` whose pool blocks when full (redis-py's default pool raises at 100 in flight);
    with `sentinels`, for the primary they name `master_name` (the URL then gives db and password); with
    `cluster_nodes`, for the Redis Cluster they belong to (the URL then gives only the password)."""
    if cluster_nodes:
        return _cluster(url, cluster_nodes, max_connections)
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


def _cluster(url: str, nodes: Sequence[tuple[str, int]], max_connections: int) -> Redis:
    """A cluster client. redis-py's cluster nodes never wait for a free connection (a full pool raises), so
    each node may open CLUSTER_CONNECTIONS_PER_NODE times as many: a burst is served instead of failing."""
    options = _url_options(url)
    options.pop("db", None)  # a cluster has database 0 only
    cluster = RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in nodes],
        max_connections=max_connections * CLUSTER_CONNECTIONS_PER_NODE,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
        **options,
    )
    # The same commands, scripts, pipelines and pub/sub as a plain client (see the module docstring).
    return cast(Redis, cluster)
