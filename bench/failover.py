"""Faults under load: children chat through haproxy while a gateway is killed (-9), then the Redis primary.

Starts its own Redis primary + replica + Sentinel, two gateway processes (`python -m chatbot serve`, real
processes, so `kill -9` is a real crash) and Debian's haproxy with deploy/haproxy.cfg, all on loopback.
Each child sends messages at a steady rate and resends an unacknowledged one with the same client id (as
the widget does); after each fault it measures when every child had a message acknowledged again. At the
end it reads every child's log and counts what was lost (acknowledged, not in the log) and doubled (in
the log twice). Stops everything it started. Results: docs/reliability.md.

    .venv/bin/python bench/failover.py [--children 50] [--rate 2] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatbot.redis_server import RedisServer, free_port  # noqa: E402
from tests.topology import (  # noqa: E402
    HAPROXY_CFG,
    MASTER_NAME,
    Process,
    SentinelServer,
    haproxy_binary,
    wait_for_port,
    wait_for_replication,
)


@dataclass
class Child:
    url: str
    name: str
    sio: socketio.AsyncClient = field(init=False)
    session_id: str | None = None
    last_seq: int = 0
    acked: dict[str, float] = field(default_factory=dict)  # client id -> when (monotonic)
    waiting: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    history: asyncio.Future[list[dict[str, Any]]] | None = None
    reconnects: int = 0

    def __post_init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.1, reconnection_delay_max=0.5)
        self.sio.on("connect", self._connected)
        self.sio.on("disconnect", self._disconnected)
        self.sio.on("session_confirm", self._confirm)
        self.sio.on("message_ack", self._ack)
        self.sio.on("turn", self._turn)
        self.sio.on("bot_uttered", self._uttered)
        self.sio.on("history", self._history)

    async def _connected(self) -> None:
        if self.session_id is not None:  # a reconnect: resume the same conversation from what we saw
            self.reconnects += 1
        # The extended protocol (as the widget asks for it): acks come in the compact `turn` frame.
        payload: dict[str, Any] = {"last_seq": self.last_seq, "extensions": 1}
        if self.session_id:
            payload["session_id"] = self.session_id
        await self.sio.emit("session_request", payload)

    async def _disconnected(self, *_reason: Any) -> None:
        # What was in flight may or may not be stored: resend it (same id) as soon as we are back.
        for waiter in self.waiting.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError("disconnected"))
        self.waiting.clear()

    async def _confirm(self, data: Any) -> None:
        self.session_id = data

    async def _ack(self, data: Any) -> None:
        self.acked.setdefault(data["client_id"], time.monotonic())
        waiter = self.waiting.pop(data["client_id"], None)
        if waiter and not waiter.done():
            waiter.set_result(None)

    async def _turn(self, data: Any) -> None:
        if isinstance(data, dict) and isinstance(data.get("ack"), dict):
            await self._ack(data["ack"])
        for entry in data.get("entries", []) if isinstance(data, dict) else []:
            await self._uttered(entry)

    async def _uttered(self, data: Any) -> None:
        if isinstance(data, dict) and "seq" in data:
            self.last_seq = max(self.last_seq, data["seq"])

    async def _history(self, data: Any) -> None:
        self.last_seq = max(self.last_seq, data.get("last_seq", 0))
        if self.history is not None and not self.history.done():
            self.history.set_result(data["entries"])

    async def send(self, client_id: str, deadline: float) -> None:
        """Send until acknowledged (resend the same id after a timeout or while disconnected)."""
        while time.monotonic() < deadline:
            if self.sio.connected and self.session_id:
                waiter = self.waiting[client_id] = asyncio.get_running_loop().create_future()
                try:
                    await self.sio.emit("user_uttered", {"message": "hej", "client_id": client_id})
                    await asyncio.wait_for(waiter, 2.0)
                    return
                except (TimeoutError, ConnectionError, socketio.exceptions.SocketIOError):
                    pass
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name}: {client_id} never acknowledged")

    async def log(self) -> list[dict[str, Any]]:
        self.history = asyncio.get_running_loop().create_future()
        await self.sio.emit("resume", {"last_seq": 0})
        return await asyncio.wait_for(self.history, 10)


def gateway(port: int, metrics: int, sentinel: int, secret: str, log: Path) -> Process:
    env = dict(
        os.environ,
        REDIS_URL="redis://127.0.0.1/0",
        REDIS_SENTINELS=f"127.0.0.1:{sentinel}",
        REDIS_MASTER_NAME=MASTER_NAME,
        REDIS_ACK_REPLICAS="1",
        SESSION_SECRET=secret,
        GATEWAY_TRUSTED_PROXIES="127.0.0.1/32",
        RATE_LIMIT_BURST="1000",
        RATE_LIMIT_PER_MINUTE="100000",
        METRICS_PORT=str(metrics),
    )
    args = [sys.executable, "-m", "chatbot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return Process(args, log, env)


async def child_connections(metrics_port: int) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{metrics_port}/metrics") as r:
        for line in (await r.text()).splitlines():
            if line.startswith('stodchat_connections{side="child"}'):
                return float(line.split()[-1])
    return 0.0


def recovery(children: list[Child], fault_at: float) -> list[float]:
    return [
        min((t for t in c.acked.values() if t > fault_at), default=float("inf")) - fault_at for c in children
    ]


def summary(name: str, seconds: list[float]) -> dict[str, Any]:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "fault": name,
        "children": len(ordered),
        "p50_s": round(statistics.median(ordered), 2),
        "p99_s": round(p99, 2),
        "max_s": round(ordered[-1], 2),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="stodchat-failover-"))
    cleanup: list[Any] = []
    try:
        quick = ["--repl-diskless-sync-delay", "0"]
        primary = RedisServer(data / "primary", extra_args=quick).start()
        cleanup.append(primary.stop)
        replica = RedisServer(
            data / "replica", extra_args=[*quick, "--replicaof", "127.0.0.1", str(primary.port)]
        )
        replica.start()
        cleanup.append(replica.stop)
        wait_for_replication(replica.port)
        sentinel = SentinelServer(data / "sentinel", primary.port)
        cleanup.append(sentinel.stop)
        sentinel.wait_for_replicas(1)

        secret = os.urandom(32).hex()
        ports = [free_port(), free_port()]
        metrics = [free_port(), free_port()]
        gateways = [
            gateway(ports[i], metrics[i], sentinel.port, secret, data / f"gw{i}.log") for i in range(2)
        ]
        for g in gateways:
            cleanup.append(g.stop)
        for port in ports:
            wait_for_port(port, timeout=120)
        chat, console, redirect = free_port(), free_port(), free_port()
        env = dict(
            os.environ,
            CHAT_BIND=f"127.0.0.1:{chat}",
            CHAT_BIND_OPTIONS="",
            CONSOLE_BIND=f"127.0.0.1:{console}",
            CONSOLE_BIND_OPTIONS="",
            REDIRECT_BIND=f"127.0.0.1:{redirect}",
            GATEWAY_1=f"127.0.0.1:{ports[0]}",
            GATEWAY_2=f"127.0.0.1:{ports[1]}",
            CONSOLE_1=f"127.0.0.1:{free_port()}",  # no consoles here: the backend is simply down
            CONSOLE_2=f"127.0.0.1:{free_port()}",
        )
        proxy = Process([haproxy_binary(), "-db", "-f", str(HAPROXY_CFG)], data / "haproxy.log", env)
        cleanup.append(proxy.stop)
        wait_for_port(chat)
        await asyncio.sleep(1.5)  # both gateways pass HAProxy's health checks (rise 2 × 500 ms)

        children = [Child(f"http://127.0.0.1:{chat}", f"child{i}") for i in range(args.children)]
        await asyncio.gather(*(c.sio.connect(c.url, transports=["websocket"]) for c in children))
        stop_sending = asyncio.Event()
        deadline = time.monotonic() + 300

        async def chat_loop(child: Child) -> None:
            n = 0
            while not stop_sending.is_set():
                await child.send(f"{child.name}-{n}", deadline)
                n += 1
                await asyncio.sleep(1 / args.rate)

        senders = [asyncio.create_task(chat_loop(c)) for c in children]
        await asyncio.sleep(3)

        # Fault 1: the gateway holding the children dies without a word.
        holding = [await child_connections(m) for m in metrics]
        victim = max(range(2), key=lambda i: holding[i])
        gateways[victim].process.send_signal(signal.SIGKILL)
        gateway_fault = time.monotonic()
        await asyncio.sleep(8)
        gateway_recovery = recovery(children, gateway_fault)

        # Fault 2: the Redis primary dies; Sentinel promotes the replica.
        primary.kill()
        redis_fault = time.monotonic()
        await asyncio.sleep(10)
        redis_recovery = recovery(children, redis_fault)
        promoted = sentinel.primary_port() == replica.port

        stop_sending.set()
        await asyncio.gather(*senders)
        lost = doubled = acked = 0
        for child in children:
            mine = [e.get("client_id") for e in await child.log() if e["role"] == "child"]
            acked += len(child.acked)
            lost += len(set(child.acked) - set(mine))
            doubled += len(mine) - len(set(mine))
        for child in children:
            await child.sio.disconnect()
        return {
            "children": args.children,
            "rate_per_child": args.rate,
            "acknowledged": acked,
            "lost": lost,
            "doubled": doubled,
            "reconnects": sum(c.reconnects for c in children),
            "sentinel_promoted_replica": promoted,
            "faults": [
                summary(
                    f"kill -9 gateway{victim + 1} (held {holding[victim]:.0f} children)", gateway_recovery
                ),
                summary("kill -9 Redis primary", redis_recovery),
            ],
        }
    finally:
        for stop in reversed(cleanup):
            stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=50)
    parser.add_argument("--rate", type=float, default=2.0, help="messages a second per child")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['children']} children × {result['rate_per_child']}/s through haproxy")
        print(f"{'fault':<44} {'p50 s':>6} {'p99 s':>6} {'max s':>6}")
        for f in result["faults"]:
            print(f"{f['fault']:<44} {f['p50_s']:>6} {f['p99_s']:>6} {f['max_s']:>6}")
        print(
            f"acknowledged {result['acknowledged']}, lost {result['lost']}, doubled {result['doubled']}, "
            f"reconnects {result['reconnects']}, replica promoted: {result['sentinel_promoted_replica']}"
        )
    ok = result["lost"] == 0 and result["doubled"] == 0 and result["sentinel_promoted_replica"]
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
