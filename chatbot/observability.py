"""What each process tells its operators: the standard instruments and the private /metrics listener.

The listener is its own aiohttp site on METRICS_HOST:METRICS_PORT, never the public port, so the load
balancer cannot pass a stranger's request to it (docs/deployment.md). Queue figures are read from Redis
at scrape time; everything else is counted as it happens in this process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Literal

from aiohttp import web
from redis.exceptions import RedisError

from chatbot.metrics import CONTENT_TYPE, Metrics
from chatbot.store.queue import QueueStore

log = logging.getLogger(__name__)

Side = Literal["child", "staff"]


class Instruments:
    """The metrics both processes keep. Labels take values from closed sets only (chatbot/metrics.py)."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics or Metrics()
        m = self.metrics
        self.connections = m.gauge("connections", "Open socket.io connections on this process.", ["side"])
        self.received = m.counter(
            "messages_received_total",
            "Messages written to this process, by who wrote and the outcome.",
            ["role", "status"],
        )
        self.delivered = m.counter(
            "entries_delivered_total",
            "Log entries this process delivered live to a conversation's sockets.",
            ["role"],
        )
        self.errors = m.counter("errors_total", "Typed errors sent to clients, by code.", ["code"])
        self.handle_seconds = m.histogram(
            "message_handling_seconds", "From a child's message arriving to its answers delivered."
        )
        self.redis_seconds = m.histogram(
            "redis_round_trip_seconds", "One batch of Redis scripts, sent to answered."
        )
        self.redis_errors = m.counter("redis_errors_total", "Redis commands or batches that failed.")
        self.queue_length = m.gauge("queue_length", "Children waiting for a counsellor.")
        self.urgent_waiting = m.gauge("urgent_waiting", "Children waiting whose crisis check hit.")
        self.on_shift = m.gauge("counsellors_on_shift", "Counsellors available to take chats.")
        self.crisis = m.counter(
            "crisis_detections_total", "Children's messages whose crisis check hit (the emergency answer)."
        )
        self.answers = m.counter("answers_total", "Bot answers given, by intent.", ["intent"])
        self._intents: frozenset[str] = frozenset()

    def know_intents(self, names: Iterable[str]) -> None:
        """The only values the `intent` label takes (our content's intents and answer ids): what a child
        sends as a payload can never become a label of its own."""
        self._intents = frozenset(names)

    def answered(self, intent: str) -> None:
        self.answers.inc(intent=intent if intent in self._intents else "other")

    def redis_timing(self, seconds: float, ok: bool) -> None:
        """The store's hook: each round trip's time, and whether it failed."""
        self.redis_seconds.observe(seconds)
        if not ok:
            self.redis_errors.inc()

    def watch_queue(self, queue: QueueStore) -> None:
        async def collect() -> None:
            try:
                waiting, urgent, on_shift = await queue.counts()
            except (RedisError, OSError):
                self.redis_errors.inc()
                return
            self.queue_length.set(waiting)
            self.urgent_waiting.set(urgent)
            self.on_shift.set(on_shift)

        self.metrics.on_collect(collect)

    def watch_connections(self, side: Side, count: Callable[[], int]) -> None:
        async def collect() -> None:
            self.connections.set(count(), side=side)

        self.metrics.on_collect(collect)


def metrics_app(metrics: Metrics) -> web.Application:
    async def scrape(_request: web.Request) -> web.Response:
        return web.Response(body=(await metrics.render()).encode(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    return app


def serve_metrics(metrics: Metrics, host: str, port: int) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx step: the metrics listener runs exactly as long as the process's app."""

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        if not port:
            yield
            return
        runner = web.AppRunner(metrics_app(metrics), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("metrics on http://%s:%d/metrics", host, port)
        try:
            yield
        finally:
            await runner.cleanup()

    return lifecycle
