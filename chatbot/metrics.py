"""Counters, gauges and histograms for operators, rendered in Prometheus's text format (version 0.0.4).

One `Metrics` registry per process (no module globals). Labels say *what kind* of thing happened, never
*who*: a metric may only use the label names in ALLOWED_LABELS, and each of those takes values from a
short fixed vocabulary (a role, an error code, a status). No conversation id, session, address or staff
name can become a label: the registry refuses to define such a metric, and tests read the endpoint to
check it. The text format is a few lines per sample, so no client library is needed for it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

# Label names a metric may use. Every one has a small closed set of values set by our code, not by
# whoever connects: this is the privacy line (brief: no label may identify a child, a conversation, a
# session, an address or a member of staff).
# `intent` takes only the intents and answer ids of our own content (anything else is counted as "other").
ALLOWED_LABELS = frozenset({"role", "code", "event", "status", "side", "intent"})

# Seconds: from a Redis round trip on loopback (~0.1 ms) to a reply that took far too long.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Labels = tuple[str, ...]


class MetricError(ValueError):
    """A metric defined or used against the rules (an unknown or identifying label, a wrong kind)."""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _label_text(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


@dataclass
class _Metric:
    name: str
    help: str
    kind: str
    label_names: Labels

    def _key(self, labels: dict[str, str]) -> Labels:
        if set(labels) != set(self.label_names):
            raise MetricError(f"{self.name} takes labels {self.label_names}, got {tuple(labels)}")
        return tuple(str(labels[n]) for n in self.label_names)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


@dataclass
class Counter(_Metric):
    values: dict[Labels, float] = field(default_factory=dict)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise MetricError("a counter only goes up")
        key = self._key(labels)
        self.values[key] = self.values.get(key, 0.0) + amount

    def render(self) -> list[str]:
        lines = self.header()
        for key, value in sorted(self.values.items()):
            lines.append(f"{self.name}{_label_text(self.label_names, key)} {_number(value)}")
        return lines


@dataclass
class Gauge(_Metric):
    values: dict[Labels, float] = field(default_factory=dict)

    def set(self, value: float, **labels: str) -> None:
        self.values[self._key(labels)] = float(value)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = self._key(labels)
        self.values[key] = self.values.get(key, 0.0) + amount

    def dec(self, amount: float = 1.0, **labels: str) -> None:
        self.inc(-amount, **labels)

    def render(self) -> list[str]:
        lines = self.header()
        for key, value in sorted(self.values.items()):
            lines.append(f"{self.name}{_label_text(self.label_names, key)} {_number(value)}")
        return lines


@dataclass
class _Series:
    counts: list[int]
    total: float = 0.0
    count: int = 0


@dataclass
class Histogram(_Metric):
    buckets: tuple[float, ...] = LATENCY_BUCKETS
    series: dict[Labels, _Series] = field(default_factory=dict)

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = _Series([0] * len(self.buckets))
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                series.counts[i] += 1
        series.total += value
        series.count += 1

    def time(self, **labels: str) -> _Timer:
        """`with histogram.time(): ...` observes how long the block took (monotonic clock, not the
        injected one: a duration, never a date)."""
        return _Timer(self, labels)

    def render(self) -> list[str]:
        lines = self.header()
        for key, series in sorted(self.series.items()):
            for bound, count in zip(self.buckets, series.counts, strict=True):
                le = f'le="{_number(bound)}"'
                lines.append(f"{self.name}_bucket{_label_text(self.label_names, key, le)} {count}")
            inf = 'le="+Inf"'
            lines.append(f"{self.name}_bucket{_label_text(self.label_names, key, inf)} {series.count}")
            lines.append(f"{self.name}_sum{_label_text(self.label_names, key)} {_number(series.total)}")
            lines.append(f"{self.name}_count{_label_text(self.label_names, key)} {series.count}")
        return lines


class _Timer:
    def __init__(self, histogram: Histogram, labels: dict[str, str]) -> None:
        self._histogram = histogram
        self._labels = labels
        self._start = 0.0

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *_exc: object) -> None:
        self._histogram.observe(time.perf_counter() - self._start, **self._labels)


Collector = Callable[[], Awaitable[None]]


class Metrics:
    """The process's registry. `collect` hooks run at scrape time (e.g. the queue's length from Redis)."""

    def __init__(self, namespace: str = "stodchat") -> None:
        self._namespace = namespace
        self._metrics: dict[str, _Metric] = {}
        self._collectors: list[Collector] = []

    def _name(self, name: str, labels: Iterable[str]) -> tuple[str, Labels]:
        names = tuple(labels)
        bad = set(names) - ALLOWED_LABELS
        if bad:
            raise MetricError(f"label(s) {sorted(bad)} are not allowed: labels never identify anyone")
        full = f"{self._namespace}_{name}"
        if full in self._metrics:
            raise MetricError(f"{full} is defined twice")
        return full, names

    def counter(self, name: str, help: str, labels: Iterable[str] = ()) -> Counter:
        full, names = self._name(name, labels)
        metric = Counter(full, help, "counter", names)
        if not names:
            metric.values[()] = 0.0  # an unlabelled counter reads 0 from the start, not "absent"
        self._metrics[full] = metric
        return metric

    def gauge(self, name: str, help: str, labels: Iterable[str] = ()) -> Gauge:
        full, names = self._name(name, labels)
        metric = Gauge(full, help, "gauge", names)
        self._metrics[full] = metric
        return metric

    def histogram(
        self, name: str, help: str, labels: Iterable[str] = (), buckets: tuple[float, ...] = LATENCY_BUCKETS
    ) -> Histogram:
        full, names = self._name(name, labels)
        metric = Histogram(full, help, "histogram", names, tuple(sorted(buckets)))
        if not names:
            metric.series[()] = _Series([0] * len(metric.buckets))
        self._metrics[full] = metric
        return metric

    def on_collect(self, collector: Collector) -> None:
        self._collectors.append(collector)

    async def render(self) -> str:
        for collect in self._collectors:
            await collect()
        lines: list[str] = []
        for metric in self._metrics.values():
            lines.extend(metric.render())  # type: ignore[attr-defined]
        return "\n".join(lines) + "\n"


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
