"""Idle connections: the memory one gateway process holds per connected child, against the echo server's.

Starts a private redis-server, the gateway (`python -m chatbot serve`, the load settings of bench/load.py)
and the echo server, then connects N children to each from worker processes and leaves them idle. Each
child is a bare Engine.IO 4 websocket (aiohttp), so the load side stays light: it opens the namespace,
sends `session_request` (with the extensions, as the widget does) and answers the server's pings. The
server's resident memory (VmRSS) is read before and after; per connection = the growth / N.

    .venv/bin/python bench/idle.py --children 10000      # about a minute per thousand; loopback only
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

SELF = Path(__file__).resolve()
ROOT = SELF.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SELF.parent))

TARGET_RATIO = 2.0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# Handshakes one load process has in flight: a storm of them overflows the server's accept queue, and
# the kernel's SYN retries (1, 3, 7, 15 s ...) then make handshakes miss their timeout.
HANDSHAKES_IN_FLIGHT = 25
ATTEMPTS = 4


async def child(
    session: Any, url: str, tally: dict[str, int], settled: asyncio.Event, gate: asyncio.Semaphore
) -> None:
    """One idle child on the raw Engine.IO protocol: open, namespace, session_request (answered), pongs."""
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = None
    try:
        for attempt in range(ATTEMPTS):
            try:
                async with gate:
                    async with asyncio.timeout(60):
                        ws = await session.ws_connect(ws_url, max_msg_size=0)
                    await ws.receive_str(timeout=60)  # "0{...}": the Engine.IO handshake
                    await ws.send_str("40")
                    await ws.receive_str(timeout=60)  # "40{sid}"
                    await ws.send_str('42["session_request",{"extensions":1}]')
                    # Counted once the server answered: its session exists, as for a real child.
                    while not (await ws.receive_str(timeout=60)).startswith('42["session_confirm"'):
                        pass
                break
            except (OSError, TimeoutError, ValueError, TypeError, aiohttp.ClientError):
                # Refused, dropped or too slow: once more after a pause; counted as failed at the end.
                if ws is not None:
                    await ws.close()
                    ws = None
                if attempt == ATTEMPTS - 1:
                    tally["failed"] += 1
                    _settle(tally, settled)
                    return
                tally["retries"] += 1
                await asyncio.sleep(1 + attempt)
        assert ws is not None
        tally["opened"] += 1
        _settle(tally, settled)
        while True:
            message = await ws.receive()
            if message.type.name != "TEXT":
                return
            if message.data == "2":
                await ws.send_str("3")
    except (OSError, TimeoutError, ValueError, aiohttp.ClientError):
        return  # dropped after it was counted: the server's problem, seen in its memory, not here
    finally:
        if ws is not None:
            await ws.close()


def _settle(tally: dict[str, int], settled: asyncio.Event) -> None:
    if tally["opened"] + tally["failed"] >= tally["count"]:
        settled.set()


async def worker(url: str, count: int, source: str | None) -> None:
    tally = {"opened": 0, "failed": 0, "retries": 0, "count": count}
    settled = asyncio.Event()
    gate = asyncio.Semaphore(HANDSHAKES_IN_FLIGHT)
    # Its own loopback source address (127.0.0.x): each has its own ~28,000 ephemeral ports.
    connector = aiohttp.TCPConnector(limit=0, local_addr=(source, 0) if source else None)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(child(session, url, tally, settled, gate)) for _ in range(count)]
        # Every child connected or given up; bounded, so a stuck server cannot hang the benchmark.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(settled.wait(), 1200)
        print(json.dumps({k: tally[k] for k in ("opened", "failed", "retries")}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def measure(
    name: str, pid: int, url: str, children: int, workers: int, settle: float, sources: int
) -> dict[str, Any]:
    from servers import log

    before = rss_kib(pid)
    shares = [children // workers + (1 if i < children % workers else 0) for i in range(workers)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(SELF),
            "--worker",
            json.dumps(
                {"url": url, "count": share, "source": f"127.0.0.{2 + i % sources}" if sources else None}
            ),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for i, share in enumerate(shares)
    ]
    started = time.monotonic()
    opened = failed = retries = 0
    for proc in procs:
        assert proc.stdout is not None
        line = json.loads(await asyncio.wait_for(proc.stdout.readline(), 1300))
        opened += line["opened"]
        failed += line["failed"]
        retries += line["retries"]
    took = time.monotonic() - started
    log(f"{name}: {opened} idle children connected ({failed} failed, {retries} retries) in {took:.0f} s")
    await asyncio.sleep(settle)  # the session_requests answered, the sockets quiet
    after = rss_kib(pid)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    for proc in procs:
        await asyncio.wait_for(proc.wait(), 120)
    per = (after - before) / opened if opened else float("nan")
    log(f"{name}: RSS {before / 1024:.0f} -> {after / 1024:.0f} MiB, {per:.1f} KiB per connection")
    return {
        "rss_before_kib": before,
        "rss_after_kib": after,
        "connected": opened,
        "failed": failed,
        "retries": retries,
        "connect_seconds": round(took, 1),
        "kib_per_connection": per,
    }


async def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    from load_orchestrator import BENCH_RATE_LIMIT
    from machine import machine_info
    from servers import free_port, log, start_server, stop_process

    from chatbot.redis_server import RedisServer

    info = machine_info()
    log(f"machine: load average {info['load_average_at_start']}")
    results: dict[str, Any] = {"machine": info, "children": args.children}
    with tempfile.TemporaryDirectory(prefix="stodchat-idle-") as tmp:
        tmpdir = Path(tmp)
        redis_server = RedisServer(tmpdir / "redis", appendonly=True).start()
        try:
            env = dict(os.environ)
            limit = str(BENCH_RATE_LIMIT)
            env.update(
                REDIS_URL=redis_server.url,
                NEW_CONVERSATIONS_BURST=limit,
                NEW_CONVERSATIONS_PER_HOUR=limit,
                BUSY_NEW_CONVERSATIONS_PER_MINUTE=limit,
                PYTHONPATH=str(ROOT),
            )
            for name, argv in (
                ("gateway", [sys.executable, "-m", "chatbot", "serve", "--port"]),
                ("echo", [sys.executable, str(SELF.parent / "echo_server.py"), "--port"]),
            ):
                port = free_port()
                server = await start_server(name, [*argv, str(port)], env, port, tmpdir)
                try:
                    await asyncio.sleep(2)
                    results[name] = await measure(
                        name,
                        server.process.pid,
                        server.url,
                        args.children,
                        args.workers,
                        args.settle,
                        args.source_addresses,
                    )
                finally:
                    await stop_process(server.process)
        finally:
            redis_server.stop()
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    echo = results["echo"]["kib_per_connection"]
    # A handful of children may not grow the echo's RSS by a page: then there is no ratio to give.
    ratio = results["gateway"]["kib_per_connection"] / echo if echo > 0 else float("nan")
    results["ratio"] = round(ratio, 2)
    results["pass"] = ratio <= TARGET_RATIO
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=10_000, help="idle children per server")
    parser.add_argument("--workers", type=int, default=4, help="load processes")
    parser.add_argument("--settle", type=float, default=5, help="seconds to wait before reading memory")
    parser.add_argument(
        "--source-addresses",
        type=int,
        default=4,
        help="loopback source addresses 127.0.0.2... the load processes connect from (0: the default)",
    )
    parser.add_argument("--worker", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        config = json.loads(args.worker)
        asyncio.run(worker(config["url"], int(config["count"]), config.get("source")))
        return 0
    results = asyncio.run(orchestrate(args))
    print(json.dumps(results, indent=2))
    gw, echo = results["gateway"], results["echo"]
    print(
        f"idle children connected: gateway {gw['connected']} of {args.children}, echo {echo['connected']}; "
        f"gateway {gw['kib_per_connection']:.1f} KiB per connection, "
        f"echo {echo['kib_per_connection']:.1f} KiB; ratio {results['ratio']} (target <= {TARGET_RATIO}) "
        f"{'PASS' if results['pass'] else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
