"""The deployment's topology on loopback: Redis primary + replica + Sentinel, two gateways, two consoles and
Debian's haproxy with deploy/haproxy.cfg in front of them. Every process it starts, it stops."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import redis as sync_redis
from aiohttp import web

from chatbot.clock import FixedClock
from chatbot.gateway.app import create_app as create_gateway
from chatbot.gateway.assembly import build_nlu
from chatbot.redis_server import RedisServer, find_binary, free_port, real_clock_env
from chatbot.settings import PROJECT_ROOT, Settings
from console.app import create_app as create_console

HAPROXY_CFG = PROJECT_ROOT / "deploy" / "haproxy.cfg"
MASTER_NAME = "stodchat"


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else "")
    if not found:
        # Loud, never a skip: these tests are the proof that the deployment's topology works.
        pytest.fail("haproxy is missing: run scripts/ensure-topology (scripts/test does)")
    return found


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Process:
    """A child process we started, stopped by its own handle (never by name)."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self._log = log.open("wb")
        # Sentinel and haproxy on the real clock under scripts/test-dates, like redis-server (jemalloc
        # deadlocks under libfaketime); they only count intervals.
        self.process = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, env=real_clock_env(env)
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class SentinelServer:
    """`redis-server sentinel.conf --sentinel` watching one primary, quick to act (tests wait for it)."""

    def __init__(self, data_dir: Path, primary_port: int) -> None:
        self.port = free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        conf = data_dir / "sentinel.conf"  # Sentinel rewrites its config: a file of its own
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {data_dir}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {primary_port} 1\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
            f"sentinel failover-timeout {MASTER_NAME} 10000\n"
            f"sentinel parallel-syncs {MASTER_NAME} 1\n"
        )
        self.process = Process([find_binary(), str(conf), "--sentinel"], data_dir / "sentinel.log")
        wait_for_port(self.port)

    def client(self) -> sync_redis.Redis:
        return sync_redis.Redis(port=self.port, socket_timeout=2)

    def primary_port(self) -> int:
        with self.client() as client:
            _host, port = client.execute_command("SENTINEL", "get-master-addr-by-name", MASTER_NAME)
        return int(port)

    def wait_for_replicas(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.client() as client:
                replicas = client.execute_command("SENTINEL", "replicas", MASTER_NAME)
            up = [r for r in replicas if "s_down" not in str(r.get("flags", ""))]
            if len(up) >= count:
                return
            time.sleep(0.1)
        raise TimeoutError(f"Sentinel did not see {count} replica(s) within {timeout} s")

    def stop(self) -> None:
        self.process.stop()


@dataclass
class App:
    """An aiohttp app (a gateway or a console) on its own loopback port."""

    app: web.Application
    port: int = field(default_factory=free_port)
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            runner, self.runner = self.runner, None
            await runner.cleanup()


@dataclass
class Topology:
    primary: RedisServer
    replica: RedisServer
    sentinel: SentinelServer
    gateways: list[App]
    consoles: list[App]
    chat_port: int
    console_port: int
    redirect_port: int
    settings: Settings

    @property
    def chat_url(self) -> str:
        return f"http://127.0.0.1:{self.chat_port}"

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"


def wait_for_replication(replica_port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    with sync_redis.Redis(port=replica_port, socket_timeout=2) as client:
        while time.monotonic() < deadline:
            info: dict[str, Any] = client.info("replication")
            if info.get("master_link_status") == "up":
                return
            time.sleep(0.05)
    raise TimeoutError("the replica did not catch up with the primary")


@contextlib.asynccontextmanager
async def running(base: Settings, clock: FixedClock, data_dir: Path) -> AsyncIterator[Topology]:
    """Start everything; stop everything, in reverse, whatever the test did."""
    haproxy = haproxy_binary()
    stack = contextlib.AsyncExitStack()
    async with stack:
        # No diskless-sync delay: the replica is in sync in milliseconds, not Redis's default 5 s.
        quick = ["--repl-diskless-sync-delay", "0"]
        primary = RedisServer(data_dir / "primary", extra_args=quick).start()
        stack.callback(primary.stop)
        replica = RedisServer(
            data_dir / "replica", extra_args=[*quick, "--replicaof", "127.0.0.1", str(primary.port)]
        ).start()
        stack.callback(replica.stop)
        wait_for_replication(replica.port)
        sentinel = SentinelServer(data_dir / "sentinel", primary.port)
        stack.callback(sentinel.stop)
        sentinel.wait_for_replicas(1)

        settings = replace(
            base,
            redis_url="redis://127.0.0.1/0",  # db only: Sentinel says where the primary is
            redis_sentinels=(("127.0.0.1", sentinel.port),),
            redis_master_name=MASTER_NAME,
            redis_ack_replicas=1,  # acknowledged means on the replica too: a failover loses none of it
            gateway_trusted_proxies=("127.0.0.1/32",),
            console_trusted_proxies=("127.0.0.1/32",),
        )
        # One intent model for both gateways (building it is most of a gateway's start; production
        # processes each build their own).
        nlu = build_nlu(settings)
        stack.push_async_callback(nlu.aclose)
        gateways = [App(create_gateway(settings, clock=clock, nlu=nlu)) for _ in range(2)]
        consoles = [App(create_console(settings, clock=clock, pause=_no_pause)) for _ in range(2)]
        for app in (*gateways, *consoles):
            await app.start()
            stack.push_async_callback(app.stop)

        chat_port, console_port, redirect_port = free_port(), free_port(), free_port()
        env = dict(
            os.environ,
            CHAT_BIND=f"127.0.0.1:{chat_port}",
            CHAT_BIND_OPTIONS="",
            REDIRECT_BIND=f"127.0.0.1:{redirect_port}",
            CONSOLE_BIND=f"127.0.0.1:{console_port}",
            CONSOLE_BIND_OPTIONS="",
            GATEWAY_1=f"127.0.0.1:{gateways[0].port}",
            GATEWAY_2=f"127.0.0.1:{gateways[1].port}",
            CONSOLE_1=f"127.0.0.1:{consoles[0].port}",
            CONSOLE_2=f"127.0.0.1:{consoles[1].port}",
        )
        proxy = Process([haproxy, "-db", "-f", str(HAPROXY_CFG)], data_dir / "haproxy.log", env)
        stack.callback(proxy.stop)
        wait_for_port(chat_port)
        wait_for_port(console_port)
        yield Topology(
            primary, replica, sentinel, gateways, consoles, chat_port, console_port, redirect_port, settings
        )


async def _no_pause(_seconds: float) -> None:
    await asyncio.sleep(0)
