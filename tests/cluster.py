"""A real local Redis Cluster of three primaries for the tests: three `redis-server --cluster-enabled yes`
on free ports, joined by `redis-cli --cluster create`, ready once every node reports `cluster_state:ok`."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from chatbot.redis_server import RedisServer, RedisServerError, free_port, real_clock_env
from chatbot.store import client as redis_client

PRIMARIES = 3


class LocalCluster:
    """Three cluster-enabled redis-servers (no replicas) with the 16384 slots spread over them."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.servers: list[RedisServer] = []

    @property
    def nodes(self) -> tuple[tuple[str, int], ...]:
        return tuple(("127.0.0.1", server.port) for server in self.servers)

    def start(self, timeout: float = 30.0) -> LocalCluster:
        for i in range(PRIMARIES):
            # The cluster bus listens on port + 10000: pick ports whose bus port is free as well.
            port = _port_with_free_bus()
            server = RedisServer(
                self.data_dir / f"node{i}",
                port=port,
                appendonly=False,
                extra_args=("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
            )
            self.servers.append(server.start())
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RedisServerError(
                "redis-cli is not on PATH (Debian's redis-tools): needed to create a cluster"
            )
        done = subprocess.run(
            [cli, "--cluster", "create", *(f"{h}:{p}" for h, p in self.nodes), "--cluster-yes"],
            capture_output=True,
            timeout=timeout,
            env=real_clock_env(),
            check=False,
        )
        if done.returncode != 0:
            self.stop()
            raise RedisServerError(f"redis-cli --cluster create failed: {done.stdout.decode()[-500:]}")
        deadline = time.monotonic() + timeout
        while not self._ok():
            if time.monotonic() > deadline:
                self.stop()
                raise RedisServerError(f"the cluster did not reach cluster_state:ok within {timeout} s")
            time.sleep(0.1)
        return self

    def _ok(self) -> bool:
        for _, port in self.nodes:
            client = redis.Redis(port=port, socket_connect_timeout=0.5)
            try:
                info = client.execute_command("CLUSTER", "INFO")
            finally:
                client.close()
            text = info.decode() if isinstance(info, bytes) else str(info)
            if "cluster_state:ok" not in text:
                return False
        return True

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _port_with_free_bus() -> int:
    for _ in range(100):
        port = free_port()
        if port + 10000 < 65536 and _free(port + 10000):
            return port
    raise RedisServerError("no free port whose cluster bus port (+10000) is free too")


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def another_client(client: Redis) -> Redis:
    """A second client (own connections) to the same Redis or cluster as `client`."""
    if isinstance(client, RedisCluster):
        nodes = tuple((node.host, node.port) for node in client.get_primaries())
        return redis_client.connect("", cluster_nodes=nodes)
    kwargs = client.connection_pool.connection_kwargs
    return Redis(host=kwargs["host"], port=kwargs["port"], db=kwargs.get("db", 0))
