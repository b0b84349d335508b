"""Shared fixtures: a private real redis-server, the real gateway on loopback, real socket.io clients."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import socketio
from aiohttp import web
from redis.asyncio import Redis

from chatbot.clock import Clock, FixedClock
from chatbot.gateway.app import create_app
from chatbot.redis_server import RedisServer, free_port
from chatbot.settings import Settings
from chatbot.store import client as redis_client
from tests.cluster import LocalCluster

# Every process a test starts runs on the test's clock, never the machine's: a Tuesday inside opening hours
# (10:00 in Stockholm). Tests that need another moment set or advance it; CI also runs the suite with the
# machine's clock moved (scripts/test --faketime), which must change nothing.
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

# The Rasa tests train the fast pipeline (seconds); the DIET one is for bench/nlu.py (docs/nlu.md).
os.environ.setdefault("RASA_CONFIG", "rasa/config-fast.yml")

# The session's Chromium (`browser`) for every browser test, from the module they share.
pytest_plugins = ("tests.browser",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks what `scripts/test --dates` leaves out: Chromium and Rasa (TensorFlow) under libfaketime."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        if item.nodeid.startswith("tests/chatbot/nlu/test_rasa.py"):
            item.add_marker(pytest.mark.rasa)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One private redis-server for the whole run, on a free port; never the machine's shared one."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A private Redis Cluster of three primaries, started once for the run by the first test that asks."""
    with LocalCluster(tmp_path_factory.mktemp("cluster")) as cluster:
        yield cluster


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `cluster` (a module's `pytestmark`) run twice: on one Redis and on the cluster."""
    if "redis_backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("cluster"):
        # The cluster run is about where keys live, not about dates: scripts/test-dates leaves it out.
        on_cluster = pytest.param("cluster", marks=pytest.mark.on_cluster)
        metafunc.parametrize("redis_backend", ["single", on_cluster], indirect=True)


@pytest.fixture
def redis_backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "single"))


@pytest.fixture
async def redis(redis_backend: str, request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    if redis_backend == "cluster":
        cluster: LocalCluster = request.getfixturevalue("redis_cluster")
        client = redis_client.connect("", cluster_nodes=cluster.nodes)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        client = Redis.from_url(server.url)
    await client.flushall()  # our private server (or every primary of our private cluster) only
    yield client
    await client.aclose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def settings(redis_backend: str, request: pytest.FixtureRequest) -> Settings:
    """Settings for the test's Redis: the private server, or in a `cluster` test's second run the cluster."""
    if redis_backend == "cluster":
        cluster: LocalCluster = request.getfixturevalue("redis_cluster")
        return Settings(redis_cluster_nodes=cluster.nodes, session_secret=Settings().session_secret)
    server: RedisServer = request.getfixturevalue("redis_server")
    return Settings(redis_url=server.url, session_secret=Settings().session_secret)


def connect(settings: Settings) -> Redis:
    """A new client to the Redis (or the cluster) the settings name, as a process would make it."""
    return redis_client.connect(settings.redis_url, cluster_nodes=settings.redis_cluster_nodes)


class Gateway:
    """The real gateway app on a loopback port; can be stopped and started again on the same port."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.port = free_port()
        self.runner: web.AppRunner | None = None
        self.app: web.Application | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.app = create_app(self.settings, redis=connect(self.settings), clock=self.clock)
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


@pytest.fixture
async def gateway_factory(redis: Redis, clock: FixedClock) -> AsyncIterator[Any]:
    """Gateways on the test's clock (the `clock` fixture) unless a test passes its own."""
    started: list[Gateway] = []

    async def make(settings: Settings, own_clock: Clock | None = None) -> Gateway:
        gw = Gateway(settings, own_clock or clock)
        await gw.start()
        started.append(gw)
        return gw

    yield make
    for gw in started:
        await gw.stop()


@pytest.fixture
async def gateway(gateway_factory: Any, settings: Settings) -> Gateway:
    gw: Gateway = await gateway_factory(settings)
    return gw


class Child:
    """A real python-socketio client that records every event, like a widget would.

    `start` asks for the extensions (as the widget does). A compact `turn` frame is queued for `expect`
    as what it carries, in order: its `message_ack`, then one `bot_uttered` per bubble (the widget reads
    it the same way); `recorded` keeps the frames as they came. A client that never calls `start` (a
    plain Rasa client) sends its own `session_request`."""

    def __init__(self, url: str, *, reconnection: bool = False) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(
            reconnection=reconnection, reconnection_delay=0.1, reconnection_delay_max=0.2
        )
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.session_id: str | None = None
        self.last_seq = 0
        self.seen: list[dict[str, Any]] = []
        self.recorded: list[tuple[str, Any]] = []  # every event, also those `expect` skipped

        @self.sio.on("*")
        async def catch_all(event: str, data: Any = None) -> None:
            self.recorded.append((event, data))
            if event == "turn" and isinstance(data, dict):
                if "ack" in data:
                    await self.events.put(("message_ack", data["ack"]))
                for entry in data.get("entries", []):
                    await record("bot_uttered", entry)
                return
            await record(event, data)

        async def record(event: str, data: Any) -> None:
            if event == "session_confirm":
                self.session_id = data
            if event == "bot_uttered" and isinstance(data, dict) and "seq" in data:
                self.seen.append(data)
                self.last_seq = max(self.last_seq, data["seq"])
            if event == "history":
                self.seen.extend(data["entries"])
                self.last_seq = max(self.last_seq, data["last_seq"])
            await self.events.put((event, data))

    async def connect(self, transports: list[str] | None = None) -> None:
        await self.sio.connect(self.url, transports=transports or ["websocket"], wait_timeout=5)

    async def start(self, **payload: Any) -> dict[str, Any]:
        """session_request with the extensions, then return the session_state; consumes session_confirm."""
        await self.sio.emit("session_request", {"extensions": 1, **payload})
        await self.expect("session_confirm")
        return await self.expect("session_state")

    async def expect(self, name: str, timeout: float = 5.0) -> Any:
        """The next event of this name; other events on the way are kept in `skipped`."""
        while True:
            event, data = await asyncio.wait_for(self.events.get(), timeout)
            if event == name:
                return data

    async def expect_any(self, names: tuple[str, ...], timeout: float = 5.0) -> tuple[str, Any]:
        """The next event with one of these names, and its name."""
        while True:
            event, data = await asyncio.wait_for(self.events.get(), timeout)
            if event in names:
                return event, data

    async def drain(self, wait: float = 0.2) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        with contextlib.suppress(TimeoutError):
            while True:
                out.append(await asyncio.wait_for(self.events.get(), wait))
        return out

    async def say(self, text: Any, client_id: str | None = None, **extra: Any) -> None:
        payload: dict[str, Any] = {"message": text, "session_id": self.session_id, **extra}
        if client_id is not None:
            payload["client_id"] = client_id
        await self.sio.emit("user_uttered", payload)

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


@pytest.fixture
async def child_factory() -> AsyncIterator[Any]:
    made: list[Child] = []

    def make(url: str, **kwargs: Any) -> Child:
        c = Child(url, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        await c.close()


async def advance_redis(redis: Redis, seconds: float, match: str = "sc:*") -> None:
    """Move Redis's own clock forward for the keys under `match`: what `clock.advance` is for the code.
    Redis expires keys by its real clock, which no test can inject; time passing there is every TTL
    shortened by the jump, and a key whose TTL runs out within it is gone, exactly as expiry would."""
    jump = int(seconds * 1000)
    async for key in redis.scan_iter(match):
        left = await redis.pttl(key)
        if left < 0:
            continue  # no TTL (-1) or already gone (-2): time does not touch it
        if left <= jump:
            await redis.delete(key)
        else:
            await redis.pexpire(key, left - jump)


def with_settings(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)


@contextlib.asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """An aiohttp app on a free loopback port, for as long as the block runs: its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


ROOT = Path(__file__).resolve().parent.parent
# Browser tests take their screenshots on every run (the page must render), but write them into the docs
# only when asked: `UPDATE_SCREENSHOTS=1 scripts/test`. Otherwise every run would rewrite the PNGs.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "stodchat-screenshots"
)


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A skipped test proves nothing: the real part it needs must be installed, so a skip fails the run.
    if _skipped and exitstatus == 0:
        print(f"\nerror: {len(_skipped)} test(s) skipped; every part they need must be present:")
        for nodeid in _skipped:
            print(f"  {nodeid}")
        session.exitstatus = 1
