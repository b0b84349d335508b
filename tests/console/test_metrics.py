"""The console's /metrics: the queue an operator watches (length, urgent children waiting), staff sockets,
and nothing that identifies a child or a member of staff."""

from __future__ import annotations

from typing import Any

import aiohttp
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.metrics import ALLOWED_LABELS
from chatbot.redis_server import free_port
from chatbot.store import keys
from chatbot.store.conversations import ConversationStore
from chatbot.store.queue import QueueStore
from tests.chatbot.test_metrics import parse, value
from tests.conftest import with_settings


async def test_the_console_reports_the_queue_and_its_urgent_children(
    console_factory: Any, settings: Any, clock: FixedClock, redis: Redis
) -> None:
    port = free_port()
    await console_factory(with_settings(settings, metrics_port=port), clock)
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    queue = QueueStore(redis)
    now_ms = int(clock.now().timestamp() * 1000)
    conv_ids = [f"metricsconv{i:013d}" for i in range(3)]
    for i, conv_id in enumerate(conv_ids):
        await store.create(f"metricssess{i}", conv_id, now_ms=now_ms, retention=3600, locale="sv")
        await queue.enqueue(conv_id, now_ms=now_ms + i, urgent=i == 2, retention=3600)

    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    samples = parse(text)
    assert value(samples, "stodchat_queue_length") == 3
    assert value(samples, "stodchat_urgent_waiting") == 1
    assert value(samples, "stodchat_connections", side="staff") == 0
    for _name, labels, _value in samples:
        assert set(labels) <= ALLOWED_LABELS | {"le"}
    assert not any(conv_id in text for conv_id in conv_ids)
