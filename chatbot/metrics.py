"""The process's metrics registry: prometheus-client families behind a guard that keeps labels anonymous.

One `Metrics` per process (its own `CollectorRegistry`, no module globals, so two apps in one test process
never share a figure). Labels say *what kind* of thing happened, never *who*: a metric may only use the
label names in ALLOWED_LABELS, and each label of each metric takes its values from a closed vocabulary
given when the metric is defined (a role, an error code, a status). A value outside it is counted as
"other", so nothing a stranger sends (a payload, an id) and nothing that names someone (a conversation,
a session, an address, a member of staff) can become a label value. The registry refuses any other label
name, and tests read the endpoints to check it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from types import TracebackType

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

# Label names a metric may use; each takes a closed set of values set by our code, not by whoever
# connects: this is the privacy line (issue 19: no label may identify a child, a conversation, a session,
# an address or a member of staff).
ALLOWED_LABELS = frozenset({"role", "code", "event", "status", "side", "intent"})

# What a value outside a label's vocabulary is counted as.
OTHER = "other"
# Label-value sets whose child a metric keeps at hand (more are looked up each time).
MAX_KEPT_CHILDREN = 1024

# Seconds: from a Redis round trip on loopback (~0.1 ms) to a reply that took far too long.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Seconds a child waits for a person: from at once to an afternoon.
WAIT_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0)

# What generate_latest writes: the classic text format every Prometheus reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
Vocabulary = Mapping[str, Collection[str]]
Collector = Callable[[], Awaitable[None]]


class MetricError(ValueError):
    """A metric defined against the rules (an identifying label, a name defined twice)."""


class _Family:
    """One prometheus-client metric whose label values pass through their vocabularies first."""

    def __init__(self, metric: Counter | Gauge | Histogram, vocabulary: dict[str, frozenset[str]]) -> None:
        self._metric = metric
        self._vocabulary = vocabulary
        # The child for each set of label values seen (prometheus-client's lookup is a measurable share
        # of a message's CPU, docs/benchmarks.md); bounded, since a value is whatever the caller passes.
        self._children: dict[tuple[tuple[str, str], ...], Counter | Gauge | Histogram] = {}

    def know(self, label: str, values: Iterable[str]) -> None:
        """Widen a label's vocabulary at wiring time (the intents of our content, say)."""
        if label not in self._vocabulary:
            raise MetricError(f"no label {label!r} on this metric")
        self._vocabulary[label] = self._vocabulary[label] | frozenset(values)
        self._children.clear()

    def _child(self, labels: Mapping[str, str]) -> Counter | Gauge | Histogram:
        key = tuple(labels.items())
        child = self._children.get(key)
        if child is None:
            child = self._lookup(labels)
            if len(self._children) < MAX_KEPT_CHILDREN:
                self._children[key] = child
        return child

    def _lookup(self, labels: Mapping[str, str]) -> Counter | Gauge | Histogram:
        if set(labels) != set(self._vocabulary):
            raise MetricError(f"this metric takes labels {sorted(self._vocabulary)}, got {sorted(labels)}")
        if not labels:
            return self._metric
        safe = {k: (v if v in self._vocabulary[k] else OTHER) for k, v in labels.items()}
        return self._metric.labels(**safe)


class CounterFamily(_Family):
    def inc(self, amount: float = 1.0, **labels: str) -> None:
        child = self._child(labels)
        assert isinstance(child, Counter)
        child.inc(amount)  # prometheus-client refuses a negative amount: a counter only goes up


class GaugeFamily(_Family):
    def set(self, value: float, **labels: str) -> None:
        child = self._child(labels)
        assert isinstance(child, Gauge)
        child.set(value)


class HistogramFamily(_Family):
    def observe(self, value: float, **labels: str) -> None:
        child = self._child(labels)
        assert isinstance(child, Histogram)
        child.observe(value)

    def time(self, **labels: str) -> _Timer:
        """`with histogram.time(): ...` observes how long the block took (the monotonic clock, never the
        injected one: a duration, not a date)."""
        return _Timer(self, labels)


class _Timer:
    def __init__(self, histogram: HistogramFamily, labels: dict[str, str]) -> None:
        self._histogram = histogram
        self._labels = labels
        self._start = 0.0

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._histogram.observe(time.perf_counter() - self._start, **self._labels)


class Metrics:
    """The process's registry. `on_collect` hooks run at scrape time (the queue's length from Redis)."""

    def __init__(self, namespace: str = "stodchat") -> None:
        self.registry = CollectorRegistry()
        self._namespace = namespace
        self._names: set[str] = set()
        self._collectors: list[Collector] = []

    def _vocabulary(self, name: str, labels: Vocabulary) -> dict[str, frozenset[str]]:
        bad = set(labels) - ALLOWED_LABELS
        if bad:
            raise MetricError(f"label(s) {sorted(bad)} are not allowed: labels never identify anyone")
        if name in self._names:
            raise MetricError(f"{name} is defined twice")
        self._names.add(name)
        return {label: frozenset(values) | {OTHER} for label, values in labels.items()}

    def counter(self, name: str, help: str, labels: Vocabulary | None = None) -> CounterFamily:
        vocabulary = self._vocabulary(name, labels or {})
        metric = Counter(name, help, list(vocabulary), namespace=self._namespace, registry=self.registry)
        return CounterFamily(metric, vocabulary)

    def gauge(self, name: str, help: str, labels: Vocabulary | None = None) -> GaugeFamily:
        vocabulary = self._vocabulary(name, labels or {})
        metric = Gauge(name, help, list(vocabulary), namespace=self._namespace, registry=self.registry)
        return GaugeFamily(metric, vocabulary)

    def histogram(
        self,
        name: str,
        help: str,
        labels: Vocabulary | None = None,
        buckets: Iterable[float] = LATENCY_BUCKETS,
    ) -> HistogramFamily:
        vocabulary = self._vocabulary(name, labels or {})
        metric = Histogram(
            name,
            help,
            list(vocabulary),
            namespace=self._namespace,
            registry=self.registry,
            buckets=sorted(buckets),
        )
        return HistogramFamily(metric, vocabulary)

    def on_collect(self, collector: Collector) -> None:
        self._collectors.append(collector)

    async def render(self) -> bytes:
        """Prometheus's text format, after the scrape-time hooks have read what they read."""
        for collect in self._collectors:
            await collect()
        return generate_latest(self.registry)
