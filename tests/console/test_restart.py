"""A console process that crashes mid-chat: the next console process returns the chats to the queue.

The first console runs as a real `python -m console serve` process and is killed with SIGKILL, so no
disconnect handler and no shutdown code of it runs; the second is a fresh app on the same Redis.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from chatbot.clock import FixedClock, SystemClock
from chatbot.domain.hours import STOCKHOLM
from chatbot.domain.sessions import session_hash
from chatbot.model import to_ms
from chatbot.redis_server import free_port
from chatbot.settings import Settings
from chatbot.store import keys as chat_keys
from chatbot.store.queue import QueueStore
from console.appkeys import LIVE
from console.domain.accounts import AccountService
from console.domain.throttle import SignInThrottle
from console.store import keys
from console.store.accounts import AccountStore
from console.store.sealing import SecretBox
from console.store.throttle import ThrottleStore
from tests.conftest import ROOT, with_settings
from tests.console.conftest import Console, Credentials, StaffClient, finish_first_sign_in
from tests.console.test_live import StaffSocket, expect_child

ALWAYS_OPEN = "mon-sun 00:00-24:00"


def open_days(moment: datetime) -> str:
    """Exceptions that open the days around `moment`: holidays close even an always-open week (Christmas
    Eve, New Year's Eve: scripts/test-dates found this test closed on them)."""
    day = moment.astimezone(STOCKHOLM).date()
    return "; ".join(f"{day + timedelta(days=n)} 00:00-24:00" for n in (-1, 0, 1, 2))


@pytest.fixture
def clock() -> FixedClock:
    """The crashing console is a real process and can only run on the machine's clock (which
    scripts/test-dates moves), so this file's gateway and next console start at the same moment."""
    return FixedClock(datetime.now(UTC))


@dataclass
class Remote:
    """What StaffClient needs of a console it signs in to: its address, a clock and the accounts."""

    url: str
    clock: SystemClock
    accounts: AccountService


def console_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": settings.redis_url,
        "SESSION_SECRET": settings.session_secret.reveal(),
        "OPENING_HOURS": ALWAYS_OPEN,
        "OPENING_EXCEPTIONS": open_days(datetime.now(UTC)),
        "LOG_LEVEL": "WARNING",
        "CONSOLE_SECRET_KEY": settings.console_secret_key.reveal(),
    }


@pytest.fixture
async def crashing_console(settings: Settings, redis: Redis) -> AsyncIterator[tuple[Remote, Process]]:
    # `redis` first: the private server is flushed before this console starts on it.
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console",
        "serve",
        "--port",
        str(port),
        cwd=ROOT,
        env=console_env(settings),
        stdout=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(url + "/healthz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            assert proc.returncode is None, "the console process exited at start"
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the console process did not start")
    box = SecretBox.from_hex(settings.console_secret_key.reveal())
    accounts = AccountService(
        AccountStore(redis, box), SystemClock(), SignInThrottle(ThrottleStore(redis), SystemClock(), b"test")
    )
    try:
        yield Remote(url, SystemClock(), accounts), proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def claimed_then_crashed(
    remote: Remote,
    proc: Process,
    gateway: Any,
    child_factory: Any,
    redis: Redis,
) -> tuple[Any, str, StaffClient, Credentials]:
    """Anna claims a child on the first console; then that console dies without a word."""
    made = await remote.accounts.create("anna", "counsellor")
    await finish_first_sign_in(redis, "anna")
    creds = Credentials(made, made.totp_uri.split("secret=")[1].split("&")[0])
    anna = StaffClient(remote)  # type: ignore[arg-type]
    assert await anna.login(creds) == 303
    socket = StaffSocket()
    await socket.connect(remote.url, anna.cookie("__Host-staff"))
    await socket.expect("hello")
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    conv_id = (await redis.get(chat_keys.session(session_hash(child.session_id)))).decode()
    await QueueStore(redis).enqueue(conv_id, now_ms=to_ms(datetime.now(UTC)), urgent=False, retention=3600)
    assert (await anna.post("/me/status", {"status": "available", "capacity": "2", "display": "Anna"}))[
        0
    ] == 303
    assert (await anna.post(f"/conversations/{conv_id}/claim"))[0] == 303
    await expect_child(child, lambda d: d.get("notice", {}).get("type") == "counsellor_joined")
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    await socket.close()
    assert await redis.hget(chat_keys.conversation(conv_id), "counsellor") == b"anna"
    assert await redis.hexists(keys.shift("anna"), "grace_until") == 0  # nobody noticed: nothing ran
    return child, conv_id, anna, creds


async def until(check: Callable[[], Any], timeout: float = 15.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the console did not get there in time")


async def next_console(console_factory: Any, settings: Settings, redis: Redis) -> Console:
    """A fresh console on the same Redis, run until it starts anna's grace period (30 s here)."""
    clock = FixedClock(datetime.now(UTC))
    fresh = with_settings(
        settings, handoff_grace=30, opening_hours=ALWAYS_OPEN, opening_exceptions=open_days(clock.now())
    )
    console: Console = await console_factory(fresh, clock)
    # The dead process's heartbeats have stopped: once they are overdue, its own sweeper (at start and
    # every tick) starts the grace period.
    clock.advance(16)
    await until(lambda: redis.hexists(keys.shift("anna"), "grace_until"))
    return console


@dataclass
class AfterCrash:
    """Anna's claimed chat (its child and id, her client) and the console that came up after the crash."""

    child: Any
    conv_id: str
    anna: StaffClient
    console: Console


@pytest.fixture
async def after_crash(
    crashing_console: Any,
    settings: Settings,
    console_factory: Any,
    gateway: Any,
    child_factory: Any,
    redis: Redis,
) -> AfterCrash:
    remote, proc = crashing_console
    child, conv_id, anna, _ = await claimed_then_crashed(remote, proc, gateway, child_factory, redis)
    console = await next_console(console_factory, settings, redis)
    return AfterCrash(child, conv_id, anna, console)


async def test_after_a_crash_the_next_console_requeues_the_chats_and_tells_the_child(
    after_crash: AfterCrash, redis: Redis
) -> None:
    child, conv_id, console = after_crash.child, after_crash.conv_id, after_crash.console
    assert await redis.hget(chat_keys.conversation(conv_id), "state") == b"counsellor"
    console.clock.advance(30)
    await until(lambda: QueueStore(redis).position(conv_id))
    told = await expect_child(child, lambda d: d.get("notice", {}).get("type") == "counsellor_lost")
    assert told["notice"]["position"] == 1 and told["role"] == "system"
    meta = await redis.hgetall(chat_keys.conversation(conv_id))
    assert meta[b"state"] == b"queued" and b"counsellor" not in meta
    assert meta[b"note"] == b"counsellor disconnected"
    assert await redis.hget(keys.shift("anna"), "status") == b"away"
    assert await redis.hexists(chat_keys.COUNSELLORS_AVAILABLE, "anna") == 0


async def test_a_counsellor_who_reconnects_to_the_new_console_within_grace_keeps_the_chat(
    after_crash: AfterCrash, redis: Redis
) -> None:
    conv_id, anna, console = after_crash.conv_id, after_crash.anna, after_crash.console
    # Her browser reconnects to the new console with the same session: the deadline is dropped.
    socket = StaffSocket()
    try:
        await socket.connect(console.url, anna.cookie("__Host-staff"))
        await socket.expect("hello")
        assert await redis.hexists(keys.shift("anna"), "grace_until") == 0
        console.clock.advance(60)  # far past the deadline she had
        await console.app[LIVE].tick()
        meta = await redis.hgetall(chat_keys.conversation(conv_id))
        assert meta[b"state"] == b"counsellor" and meta[b"counsellor"] == b"anna"
        assert await redis.hexists(keys.shift("anna"), "grace_until") == 0
        assert await QueueStore(redis).position(conv_id) is None
    finally:
        await socket.close()
