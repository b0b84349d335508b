"""What each process tells its operators: the standard instruments and the private /metrics listener.

The listener is its own aiohttp site on METRICS_HOST:METRICS_PORT, never the public port, so the load
balancer cannot pass a stranger's request to it (docs/deployment.md). Figures of the whole line (the
queue, counsellors on shift, cases) are read from Redis at scrape time; everything else is counted in
this process as it happens. The domain never sees this module: the wiring hands it callbacks (the store's
`timing`, the stats store's `observer`, a timed classifier), so no decision depends on a metric.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Literal

from aiohttp import web
from prometheus_client.core import GaugeHistogramMetricFamily
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from chatbot.domain import errors as chat_errors
from chatbot.metrics import CONTENT_TYPE, OTHER, WAIT_BUCKETS, Metrics
from chatbot.model import Role
from chatbot.nlu.classifier import IntentClassifier, Prediction
from chatbot.store.queue import QueueStore
from chatbot.upload import errors as upload_errors
from chatbot.upload.values import CaseStatus

log = logging.getLogger(__name__)

Side = Literal["child", "staff"]
ROLES = tuple(r.value for r in Role)
CASE_STATUSES = tuple(s.value for s in CaseStatus)


def _codes(base: type[Exception]) -> set[str]:
    """The `code` of every error class under `base` (each declares its own)."""
    found = {str(vars(base)["code"])} if "code" in vars(base) else set()
    for sub in base.__subclasses__():
        found |= _codes(sub)
    return found


# Every typed error code a client can be sent; the console adds its desk's (console/observing.py).
ERROR_CODES = frozenset(_codes(chat_errors.ChatError) | _codes(upload_errors.UploadError))


class Instruments:
    """The metrics every process keeps. Each label takes values from a closed set (chatbot/metrics.py)."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics or Metrics()
        m = self.metrics
        self.connections = m.gauge(
            "connections", "Open socket.io connections on this process.", {"side": ("child", "staff")}
        )
        self.received = m.counter(
            "messages_received_total",
            "Messages written to this process (in), by who wrote and the outcome.",
            {"role": ROLES, "status": ("ok", "duplicate")},
        )
        self.delivered = m.counter(
            "entries_delivered_total",
            "Log entries this process delivered live to sockets (out), by who wrote them.",
            {"role": ROLES, "side": ("child", "staff")},
        )
        self.errors = m.counter(
            "errors_total", "Typed errors sent to clients, by code.", {"code": ERROR_CODES}
        )
        self.handle_seconds = m.histogram(
            "message_handling_seconds", "From a child's message arriving to its answers delivered."
        )
        self.intent_seconds = m.histogram(
            "intent_model_seconds", "One message classified by the intent model (embedded or Rasa)."
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
        self.answers = m.counter("answers_total", "Bot answers given, by intent.", {"intent": ()})
        self.upload_bytes = m.counter("upload_bytes_total", "Encrypted upload bytes received and stored.")
        # The console's figures (zero on a gateway: read them from the console job).
        self.handoff_seconds = m.histogram(
            "handoff_seconds",
            "Time to hand-off: from a child entering the queue to a counsellor taking the chat.",
            buckets=WAIT_BUCKETS,
        )
        self.desk_events = m.counter(
            "desk_events_total", "What happened at the desk (queued, handed off, ended, ...).", {"event": ()}
        )
        self.shift = m.gauge(
            "counsellors", "Counsellors on shift, by status.", {"status": ("available", "away")}
        )
        self.chats = m.gauge("counsellor_chats", "Chats counsellors on shift have now (their load).")
        self.slots = m.gauge(
            "counsellor_slots", "Chats counsellors on shift can have at once (their capacity)."
        )
        self.cases = m.gauge("upload_cases", "Upload cases kept, by status.", {"status": CASE_STATUSES})
        self._waits = _CurrentWaits()
        self.metrics.registry.register(self._waits)

    def know_intents(self, names: Iterable[str]) -> None:
        """The only values the `intent` label takes (our content's intents and answer ids): what a child
        sends as a payload can never become a label of its own."""
        self.answers.know("intent", names)

    def answered(self, intent: str) -> None:
        self.answers.inc(intent=intent)

    def redis_timing(self, seconds: float, ok: bool) -> None:
        """The store's hook: each round trip's time, and whether it failed."""
        self.redis_seconds.observe(seconds)
        if not ok:
            self.redis_errors.inc()

    def timed(self, classifier: IntentClassifier) -> IntentClassifier:
        """The classifier, each `parse` timed into intent_model_seconds."""
        return _TimedClassifier(classifier, self.intent_seconds.observe)

    # Hooks of the console's stores (console/observing.py passes them; nothing there imports this).
    def desk_counted(self, counters: Mapping[str, int]) -> None:
        for name, amount in counters.items():
            if amount > 0:
                self.desk_events.inc(amount, event=name)

    def waited(self, wait_ms: int) -> None:
        self.handoff_seconds.observe(max(0, wait_ms) / 1000)

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

    def watch(self, read: Callable[[], Awaitable[None]]) -> None:
        """A scrape-time reading whose Redis failure is counted, not raised into the scrape."""

        async def collect() -> None:
            try:
                await read()
            except (RedisError, OSError):
                self.redis_errors.inc()

        self.metrics.on_collect(collect)

    def shifts_now(self, statuses: Sequence[tuple[str, int, int]]) -> None:
        """Counsellors on shift as (status, chats, capacity), none of them named."""
        for status in ("available", "away"):
            self.shift.set(sum(1 for s, _, _ in statuses if s == status), status=status)
        self.chats.set(sum(load for _, load, _ in statuses))
        self.slots.set(sum(cap for s, _, cap in statuses if s == "available"))

    def cases_now(self, statuses: Iterable[str]) -> None:
        counts = dict.fromkeys((*CASE_STATUSES, OTHER), 0)
        for status in statuses:
            counts[status if status in counts else OTHER] += 1
        for status, count in counts.items():
            self.cases.set(count, status=status)

    def waits_now(self, seconds: Iterable[float]) -> None:
        self._waits.set(seconds)


class _CurrentWaits(Collector):
    """queue_wait_seconds: how long each child in the queue has waited so far, at scrape time.

    A gauge histogram (Prometheus's type for a distribution of current values): a child counts in it only
    while waiting, so it shows how long the queue is in time, not only in children."""

    def __init__(self) -> None:
        self._waits: list[float] = []

    def set(self, seconds: Iterable[float]) -> None:
        self._waits = list(seconds)

    def collect(self) -> Iterable[GaugeHistogramMetricFamily]:
        buckets = [(_le(b), float(sum(1 for w in self._waits if w <= b))) for b in WAIT_BUCKETS]
        buckets.append(("+Inf", float(len(self._waits))))
        yield GaugeHistogramMetricFamily(
            "stodchat_queue_wait_seconds",
            "How long each child waiting now has waited so far (the console reads the queue at scrape).",
            buckets=buckets,
            gsum_value=float(sum(self._waits)),
        )


def _le(bound: float) -> str:
    return str(int(bound)) if bound == int(bound) else str(bound)


class _TimedClassifier:
    def __init__(self, inner: IntentClassifier, observe: Callable[[float], None]) -> None:
        self._inner = inner
        self._observe = observe

    async def parse(self, text: str) -> Prediction:
        start = time.perf_counter()
        try:
            return await self._inner.parse(text)
        finally:
            self._observe(time.perf_counter() - start)

    async def aclose(self) -> None:
        await self._inner.aclose()


def metrics_app(metrics: Metrics) -> web.Application:
    async def scrape(_request: web.Request) -> web.Response:
        return web.Response(body=await metrics.render(), headers={"Content-Type": CONTENT_TYPE})

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
