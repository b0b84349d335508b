"""A console process dies under load: `kill -9` one of two consoles behind haproxy while counsellors chat.

Starts its own redis-server, one gateway and two console processes (`python -m chatbot serve`, `python -m
console serve`: real processes, so `kill -9` is a real crash) and Debian's haproxy with deploy/haproxy.cfg,
all on loopback. Counsellors sign in through haproxy, open their staff socket through it, claim a
waiting child each (or more), and then both sides write at a steady rate: the child over its socket, the
counsellor through the console's reply endpoint, reading the child's messages live on her socket. The
console holding the counsellors' sockets (haproxy hashes the source address, and all come from loopback)
is killed without a word. Their sockets reconnect through haproxy to the other console and watch their
chats again from the last entry they saw; their replies go on through it. Recovery is measured per
counsellor: from the kill to her first reply acknowledged after it, and to her socket being back.

A reply whose answer never came (the process died under it) is resent only if the log does not hold it
(a counsellor reads her chat before writing it again; the console has no client id for replies). At the
end every log is read from Redis: lost = acknowledged but not in the log, doubled = in the log twice,
for children's messages and counsellors' replies; and every chat must still be its counsellor's (the
grace period, docs/console-api.md, never ran out and nothing was requeued). Results: docs/reliability.md.

    .venv/bin/python bench/console_failover.py [--counsellors 10] [--chats 2] [--rate 0.5] [--json]
    (DEBUG_FAILOVER=1 prints each socket reconnect and failed reply as it happens)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from redis.asyncio import Redis
from yarl import URL

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.failover import Child, summary  # noqa: E402
from chatbot.clock import SystemClock  # noqa: E402
from chatbot.domain.sessions import session_hash  # noqa: E402
from chatbot.model import to_ms  # noqa: E402
from chatbot.redis_server import RedisServer, free_port  # noqa: E402
from chatbot.store import keys as chat_keys  # noqa: E402
from chatbot.store.conversations import ConversationStore  # noqa: E402
from chatbot.store.queue import QueueStore  # noqa: E402
from console.domain.accounts import AccountService  # noqa: E402
from console.domain.throttle import SignInThrottle  # noqa: E402
from console.store import keys as staff_keys  # noqa: E402
from console.store.accounts import AccountStore  # noqa: E402
from console.store.sealing import SecretBox  # noqa: E402
from console.store.throttle import ThrottleStore  # noqa: E402
from tests.topology import HAPROXY_CFG, Process, haproxy_binary, wait_for_port  # noqa: E402

NAMESPACE = "/staff"
# The line is open whenever the benchmark runs (closing time would requeue the chats it watches).
ALWAYS_OPEN = "mon-sun 00:00-24:00"


@dataclass
class Counsellor:
    """A counsellor's browser: the signed-in HTTP client and the live staff socket, both through haproxy."""

    url: str
    name: str
    http: aiohttp.ClientSession = field(init=False)
    sio: socketio.AsyncClient = field(init=False)
    csrf: str = ""
    chats: list[str] = field(default_factory=list)
    seen: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)  # conv -> seq -> entry
    deliveries: int = 0  # entries received, counting any delivered twice
    acked: dict[str, float] = field(default_factory=dict)  # reply text -> when (monotonic)
    connects: list[float] = field(default_factory=list)
    resent: int = 0

    def __post_init__(self) -> None:
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[URL(self.url)])
        # A browser gives up on a request after a while too; 10 s is far beyond a healthy reply.
        self.http = aiohttp.ClientSession(
            base_url=self.url, cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=10)
        )
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.1, reconnection_delay_max=0.5)
        self.sio.on("connect", self._connected, namespace=NAMESPACE)
        self.sio.on("entries", self._entries, namespace=NAMESPACE)
        self.sio.on("connect_error", self._refused, namespace=NAMESPACE)

    async def login(self, password: str, code: str) -> None:
        async with self.http.get("/login") as response:
            page = await response.text()
        token = re.search(r'id="login-csrf" name="csrf" value="([^"]+)"', page)
        assert token, "no login form"
        form = {"csrf": token.group(1), "name": self.name, "password": password, "code": code}
        async with self.http.post("/login", data=form, allow_redirects=False) as response:
            assert response.status == 303, f"{self.name} could not sign in ({response.status})"
        async with self.http.get("/queue") as response:
            found = re.search(r'<meta name="csrf-token" content="([^"]*)"', await response.text())
            assert found, "no CSRF token on /queue"
            self.csrf = found.group(1)

    def cookie(self) -> str:
        return next(c.value for c in self.http.cookie_jar if c.key == "__Host-staff")

    async def post(self, path: str, data: dict[str, str] | None = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf, "Accept": "application/json"}
        async with self.http.post(path, data=data or {}, headers=headers, allow_redirects=False) as response:
            body = await response.json() if response.content_type == "application/json" else None
            return response.status, body

    async def open_socket(self) -> None:
        await self.sio.connect(
            self.url,
            # Read at every (re)connect, as a browser sends its current cookie: the session token is
            # renewed while she works, and a reconnect with the first one would be refused.
            headers=lambda: {"Cookie": f"__Host-staff={self.cookie()}"},
            namespaces=[NAMESPACE],
            transports=["websocket"],
            wait_timeout=10,
        )

    async def _refused(self, data: Any = None) -> None:
        _debug(self.name, "socket refused", data)

    async def _connected(self) -> None:
        _debug(self.name, "socket connected")
        self.connects.append(time.monotonic())
        # Back on whichever console: watch each chat again from the last entry seen (as console.js does).
        for conv_id in self.chats:
            await self.watch(conv_id)

    async def watch(self, conv_id: str) -> None:
        last = max(self.seen.get(conv_id, {0: {}}), default=0)
        await self.sio.emit("watch", {"conv_id": conv_id, "last_seq": last}, namespace=NAMESPACE)

    async def _entries(self, data: Any) -> None:
        log = self.seen.setdefault(data["conv_id"], {})
        for entry in data["entries"]:
            self.deliveries += 1
            log[entry["seq"]] = entry

    def has(self, conv_id: str, text: str) -> bool:
        return any(e.get("text") == text for e in self.seen.get(conv_id, {}).values())

    async def reply(self, conv_id: str, text: str, deadline: float) -> None:
        """Write until acknowledged; after a failure, write again only what the chat does not hold."""
        failed = False
        while time.monotonic() < deadline:
            if failed:
                # Read the chat first (the socket watches it again on reconnect): a reply stored just
                # before the process died is there, and is not written twice.
                if not self.sio.connected:
                    await asyncio.sleep(0.1)
                    continue
                await self.watch(conv_id)
                await asyncio.sleep(0.3)
                if self.has(conv_id, text):
                    self.acked.setdefault(text, time.monotonic())
                    return
                self.resent += 1
            try:
                status, body = await self.post(f"/conversations/{conv_id}/reply", {"text": text})
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, body = 0, repr(exc)
            if status == 200 and body and body.get("ok"):
                self.acked.setdefault(text, time.monotonic())
                return
            _debug(self.name, "reply failed", status, body)
            failed = True
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.name}: {text!r} never acknowledged")

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()
        await self.http.close()


def _per_counsellor(figures: dict[str, Any]) -> dict[str, Any]:
    """bench/failover.py's summary counts children; here each figure is a counsellor's."""
    figures["counsellors"] = figures.pop("children")
    return figures


def _debug(*what: object) -> None:
    if os.environ.get("DEBUG_FAILOVER"):
        print(*what, flush=True)


def console(port: int, metrics: int, redis_url: str, key: str, secret: str, log: Path) -> Process:
    env = dict(
        os.environ,
        REDIS_URL=redis_url,
        CONSOLE_SECRET_KEY=key,
        SESSION_SECRET=secret,
        CONSOLE_TRUSTED_PROXIES="127.0.0.1/32",
        METRICS_PORT=str(metrics),
        OPENING_HOURS=ALWAYS_OPEN,
    )
    return Process(
        [sys.executable, "-m", "console", "serve", "--host", "127.0.0.1", "--port", str(port)], log, env
    )


def gateway(port: int, redis_url: str, secret: str, log: Path) -> Process:
    env = dict(
        os.environ,
        REDIS_URL=redis_url,
        SESSION_SECRET=secret,
        GATEWAY_TRUSTED_PROXIES="127.0.0.1/32",
        RATE_LIMIT_BURST="1000",
        RATE_LIMIT_PER_MINUTE="100000",
        OPENING_HOURS=ALWAYS_OPEN,
    )
    return Process(
        [sys.executable, "-m", "chatbot", "serve", "--host", "127.0.0.1", "--port", str(port)], log, env
    )


async def staff_sockets(metrics_port: int) -> float:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{metrics_port}/metrics") as r:
            for line in (await r.text()).splitlines():
                if line.startswith('stodchat_connections{side="staff"}'):
                    return float(line.split()[-1])
    except aiohttp.ClientError:
        pass
    return 0.0


async def run(
    counsellors: int = 10, chats: int = 2, rate: float = 0.5, after_s: float = 8.0
) -> dict[str, Any]:
    """The scenario; returns what it measured (tests/test_topology.py runs it small)."""
    data = Path(tempfile.mkdtemp(prefix="stodchat-console-failover-"))
    cleanup: list[Any] = []
    people: list[Counsellor] = []
    children: list[Child] = []
    try:
        redis_server = RedisServer(data / "redis").start()
        cleanup.append(redis_server.stop)
        redis_url = f"redis://127.0.0.1:{redis_server.port}/0"
        key, secret = os.urandom(32).hex(), os.urandom(32).hex()
        gw_port, ports, metrics = free_port(), [free_port(), free_port()], [free_port(), free_port()]
        processes = [gateway(gw_port, redis_url, secret, data / "gw.log")]
        processes += [
            console(ports[i], metrics[i], redis_url, key, secret, data / f"console{i}.log") for i in (0, 1)
        ]
        consoles = processes[1:]
        for p in processes:
            cleanup.append(p.stop)
        for port in (*ports, gw_port):
            wait_for_port(port, timeout=180)
        chat, staff, redirect = free_port(), free_port(), free_port()
        env = dict(
            os.environ,
            CHAT_BIND=f"127.0.0.1:{chat}",
            CHAT_BIND_OPTIONS="",
            CONSOLE_BIND=f"127.0.0.1:{staff}",
            CONSOLE_BIND_OPTIONS="",
            REDIRECT_BIND=f"127.0.0.1:{redirect}",
            GATEWAY_1=f"127.0.0.1:{gw_port}",
            GATEWAY_2=f"127.0.0.1:{free_port()}",  # one gateway here: the other backend is simply down
            CONSOLE_1=f"127.0.0.1:{ports[0]}",
            CONSOLE_2=f"127.0.0.1:{ports[1]}",
        )
        proxy = Process([haproxy_binary(), "-db", "-f", str(HAPROXY_CFG)], data / "haproxy.log", env)
        cleanup.append(proxy.stop)
        wait_for_port(staff)
        await asyncio.sleep(1.5)  # both consoles pass HAProxy's health checks (rise 2 × 500 ms)

        redis = Redis.from_url(redis_url)
        clock = SystemClock()
        accounts = AccountService(
            AccountStore(redis, SecretBox.from_hex(key)),
            clock,
            SignInThrottle(ThrottleStore(redis), clock, b"b"),
        )
        staff_url = f"http://127.0.0.1:{staff}"
        for i in range(counsellors):
            name = f"counsellor{i}"
            made = await accounts.create(name, "counsellor", capacity=chats)
            await redis.hdel(staff_keys.account(name), "setup")  # type: ignore[misc]  # first sign-in done
            totp = made.totp_uri.split("secret=")[1].split("&")[0]
            person = Counsellor(staff_url, name)
            people.append(person)
            await person.login(made.password, accounts.code_at(totp, int(time.time())))
            status, _ = await person.post(
                "/me/status", {"status": "available", "capacity": str(chats), "display": name}
            )
            assert status in (200, 303), status
            await person.open_socket()

        # Each counsellor takes `chats` children, queued as the dialogue queues a child who asks for a person.
        queue = QueueStore(redis)
        chat_url = f"http://127.0.0.1:{chat}"
        owner: dict[str, Counsellor] = {}
        for i in range(counsellors * chats):
            child = Child(chat_url, f"child{i}")
            children.append(child)
            await child.sio.connect(chat_url, transports=["websocket"])
            for _ in range(100):
                if child.session_id:
                    break
                await asyncio.sleep(0.05)
            conv = await redis.get(chat_keys.session(session_hash(child.session_id or "")))
            conv_id = conv.decode()
            await queue.enqueue(conv_id, now_ms=to_ms(clock.now()), urgent=False, retention=3600)
            person = people[i % counsellors]
            status, body = await person.post(f"/conversations/{conv_id}/claim")
            assert status == 200, (status, body)
            person.chats.append(conv_id)
            owner[conv_id] = person
            await person.watch(conv_id)

        stop = asyncio.Event()
        deadline = time.monotonic() + 300

        async def child_loop(child: Child) -> None:
            n = 0
            while not stop.is_set():
                await child.send(f"{child.name}-{n}", deadline)
                n += 1
                await asyncio.sleep(1 / rate)

        async def counsellor_loop(person: Counsellor, conv_id: str) -> None:
            n = 0
            while not stop.is_set():
                await person.reply(conv_id, f"{person.name} {conv_id[:6]} svar {n}", deadline)
                n += 1
                await asyncio.sleep(1 / rate)

        tasks = [asyncio.create_task(child_loop(c)) for c in children]
        tasks += [asyncio.create_task(counsellor_loop(p, c)) for p in people for c in p.chats]
        await asyncio.sleep(3)

        holding = [await staff_sockets(m) for m in metrics]
        victim = max(range(2), key=lambda i: holding[i])
        consoles[victim].process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await asyncio.sleep(after_s)
        stop.set()
        # A writer still waiting for an acknowledgement 30 s after the end is a failure, not a hang.
        done, stuck = await asyncio.wait(tasks, timeout=30)
        for task in stuck:
            task.cancel()
        for task in done:
            task.result()
        # Let the last live deliveries arrive before comparing what each counsellor saw with the logs.
        await asyncio.sleep(1.0)

        store = ConversationStore(redis, announce_to=chat_keys.NOTIFY_STAFF)
        lost = doubled = acked = kept = 0
        unseen = 0
        for conv_id, person in owner.items():
            log = await store.read(conv_id)
            meta = await store.meta(conv_id)
            kept += meta.get("counsellor") == person.name and meta.get("state") == "counsellor"
            replies = [e.text for e in log if e.role.value == "counsellor"]
            mine = [t for t in person.acked if f" {conv_id[:6]} " in t]
            acked += len(mine)
            lost += len(set(mine) - set(replies))
            doubled += len(replies) - len(set(replies))
            # Every child message in the log reached her screen (live, or when she watched it again).
            seen = person.seen.get(conv_id, {})
            unseen += sum(1 for e in log if e.role.value == "child" and e.seq not in seen)
        for child in children:
            ids = [e.get("client_id") for e in await child.log() if e["role"] == "child"]
            acked += len(child.acked)
            lost += len(set(child.acked) - set(ids))
            doubled += len(ids) - len(set(ids))
        reply_recovery = [
            min((t for t in p.acked.values() if t > killed), default=float("inf")) - killed for p in people
        ]
        socket_recovery = [
            min((t for t in p.connects if t > killed), default=float("inf")) - killed for p in people
        ]
        await redis.aclose()
        return {
            "counsellors": counsellors,
            "chats_each": chats,
            "rate_per_side": rate,
            "killed": f"console{victim + 1} (held {holding[victim]:.0f} staff sockets)",
            "acknowledged": acked,
            "lost": lost,
            "doubled": doubled,
            "chats_kept": kept,
            "chats": len(owner),
            "child_messages_not_seen_by_counsellor": unseen,
            "deliveries_beyond_the_log": sum(p.deliveries for p in people)
            - sum(len(s) for p in people for s in p.seen.values()),
            "replies_resent": sum(p.resent for p in people),
            "writers_stuck": len(stuck),
            "recovery": [
                _per_counsellor(summary("first reply acknowledged after the kill", reply_recovery)),
                _per_counsellor(summary("staff socket back (other console)", socket_recovery)),
            ],
        }
    finally:
        for person in people:
            await person.close()
        for child in children:
            if child.sio.connected:
                await child.sio.disconnect()
        for stop_one in reversed(cleanup):
            stop_one()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counsellors", type=int, default=10)
    parser.add_argument("--chats", type=int, default=2, help="chats each counsellor has")
    parser.add_argument(
        "--rate", type=float, default=0.5, help="messages a second, per child and per chat's counsellor"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.counsellors, args.chats, args.rate))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['counsellors']} counsellors × {result['chats_each']} chats, {result['rate_per_side']}/s each side"
        )
        print(f"killed {result['killed']}")
        print(f"{'recovery':<44} {'p50 s':>6} {'p99 s':>6} {'max s':>6}")
        for f in result["recovery"]:
            print(f"{f['fault']:<44} {f['p50_s']:>6} {f['p99_s']:>6} {f['max_s']:>6}")
        print(
            f"acknowledged {result['acknowledged']}, lost {result['lost']}, doubled {result['doubled']}, "
            f"chats kept {result['chats_kept']}/{result['chats']}, replies resent {result['replies_resent']}, "
            f"child messages she never saw {result['child_messages_not_seen_by_counsellor']}"
        )
    ok = (
        result["lost"] == 0
        and result["doubled"] == 0
        and result["chats_kept"] == result["chats"]
        and result["child_messages_not_seen_by_counsellor"] == 0
        and result["writers_stuck"] == 0
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
