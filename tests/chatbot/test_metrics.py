"""The /metrics endpoint: Prometheus's text format, the figures an operator needs, and no label that
identifies anyone."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from chatbot.metrics import ALLOWED_LABELS, MetricError, Metrics
from chatbot.observability import Instruments
from chatbot.redis_server import free_port
from chatbot.store import keys
from tests.conftest import with_settings

_SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})?'
    r" (?P<value>[-+]?(?:[0-9.]+(?:e[-+]?[0-9]+)?|Inf|NaN))$"
)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')


def parse(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Every sample line, checked against the text format; HELP/TYPE lines checked and skipped."""
    assert text.endswith("\n")
    samples: list[tuple[str, dict[str, str], float]] = []
    typed: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram")
            typed[name] = kind
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = dict(_LABEL.findall(match.group("labels") or ""))
        base = re.sub(r"_(bucket|sum|count|gcount|gsum)$", "", match.group("name"))
        assert match.group("name") in typed or base in typed, f"sample without TYPE: {line!r}"
        samples.append((match.group("name"), labels, float(match.group("value"))))
    return samples


def value(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    found = [v for n, lab, v in samples if n == name and all(lab.get(k) == w for k, w in labels.items())]
    assert found, f"no sample {name} {labels}"
    return sum(found)


@pytest.mark.parametrize("label", ["conv_id", "conversation", "session", "address", "ip", "staff", "name"])
def test_a_label_that_could_identify_someone_cannot_be_defined(label: str) -> None:
    with pytest.raises(MetricError):
        Metrics().counter("x_total", "x", {label: ()})


async def test_the_text_format_counters_gauges_and_cumulative_histograms() -> None:
    metrics = Metrics()
    counter = metrics.counter("things_total", "Things.", {"role": ("bot",)})
    gauge = metrics.gauge("level", "A level.")
    histogram = metrics.histogram("wait_seconds", "Waits.", buckets=(0.1, 1.0))
    counter.inc(role="bot")
    # A value outside the label's vocabulary (an id, a payload, a name) is counted as "other", never as itself.
    counter.inc(2, role="0123456789abcdef01234567")
    gauge.set(3.5)
    for seconds in (0.05, 0.5, 5.0):
        histogram.observe(seconds)
    with pytest.raises(ValueError, match="non-negative"):
        counter.inc(-1, role="bot")
    with pytest.raises(MetricError):
        counter.inc(other="x")
    with pytest.raises(MetricError):
        metrics.gauge("level", "Twice.")
    text = (await metrics.render()).decode()
    samples = parse(text)
    assert value(samples, "stodchat_things_total", role="bot") == 1
    assert value(samples, "stodchat_things_total", role="other") == 2
    assert "0123456789abcdef" not in text
    assert value(samples, "stodchat_level") == 3.5
    buckets = [(lab["le"], v) for n, lab, v in samples if n == "stodchat_wait_seconds_bucket"]
    assert buckets == [("0.1", 1), ("1.0", 2), ("+Inf", 3)]
    assert value(samples, "stodchat_wait_seconds_count") == 3
    assert value(samples, "stodchat_wait_seconds_sum") == pytest.approx(5.55)
    assert "# TYPE stodchat_wait_seconds histogram" in text


async def test_two_registries_share_nothing() -> None:
    """One registry per process (per app): two apps in one test process keep their own figures."""
    first, second = Instruments(), Instruments()
    first.crisis.inc()
    assert value(parse((await first.metrics.render()).decode()), "stodchat_crisis_detections_total") == 1
    assert value(parse((await second.metrics.render()).decode()), "stodchat_crisis_detections_total") == 0


async def test_the_gateway_serves_metrics_on_its_private_port_only(
    gateway_factory: Any, settings: Any, child_factory: Any, redis: Redis
) -> None:
    port = free_port()
    gateway = await gateway_factory(with_settings(settings, metrics_port=port))
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    for i, text in enumerate(["hej", "vad kan ni hjälpa till med"]):
        await child.say(text, client_id=f"m{i}")
        await child.expect("message_ack")
        await child.expect("bot_uttered")
    await child.say("jag vill inte leva längre", client_id="m-crisis")
    await child.expect("message_ack")
    await child.say("/made_up_payload_zq", client_id="m-payload")  # a stranger's own "intent"
    await child.expect("message_ack")
    await child.say("hej", client_id="m0")  # a resend: counted as a duplicate
    await child.expect("message_ack")
    await child.say("")
    await child.expect("error")
    await child.drain(0.3)

    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await response.text()
        # The public port does not serve them: the load balancer passes only public paths to it anyway.
        async with http.get(f"{gateway.url}/metrics") as response:
            assert response.status == 404

    samples = parse(text)
    assert value(samples, "stodchat_connections", side="child") == 1
    assert value(samples, "stodchat_messages_received_total", role="child", status="ok") == 4
    assert value(samples, "stodchat_crisis_detections_total") == 1
    intents = {lab["intent"] for n, lab, _ in samples if n == "stodchat_answers_total"}
    assert len(intents) >= 2 and "made_up_payload_zq" not in text
    assert value(samples, "stodchat_messages_received_total", role="child", status="duplicate") == 1
    assert value(samples, "stodchat_errors_total", code="empty_message") == 1
    assert value(samples, "stodchat_entries_delivered_total", role="bot", side="child") >= 2
    assert value(samples, "stodchat_intent_model_seconds_count") >= 2
    assert value(samples, "stodchat_message_handling_seconds_count") >= 3
    assert value(samples, "stodchat_redis_round_trip_seconds_count") >= 3
    assert value(samples, "stodchat_queue_length") == 0
    assert value(samples, "stodchat_urgent_waiting") == 0
    assert value(samples, "stodchat_redis_errors_total") == 0

    # Nothing that identifies anyone: only the allowed label names, and no id of this conversation.
    conv_id = (await redis.get(keys.session(_session_hash(child.session_id)))).decode()
    for _name, labels, _value in samples:
        assert set(labels) <= ALLOWED_LABELS | {"le"}
    assert conv_id not in text and str(child.session_id) not in text and "127.0.0.1" not in text


def _session_hash(session_id: str | None) -> str:
    from chatbot.domain.sessions import session_hash

    assert session_id is not None
    return session_hash(session_id)


def test_the_operations_settings_are_read_and_checked() -> None:
    from chatbot.settings import Settings, SettingsError

    read = Settings.from_env(
        {
            "REDIS_SENTINELS": "10.0.0.1:26379, sentinel2:26380,[::1]:26381",
            "REDIS_MASTER_NAME": "chat",
            "REDIS_ACK_REPLICAS": "1",
            "METRICS_PORT": "9100",
        }
    )
    assert read.redis_sentinels == (("10.0.0.1", 26379), ("sentinel2", 26380), ("::1", 26381))
    assert (read.redis_master_name, read.redis_ack_replicas, read.metrics_port) == ("chat", 1, 9100)
    assert read.metrics_host == "127.0.0.1"
    assert Settings.from_env({}).metrics_port == 0
    for name, bad in [
        ("REDIS_SENTINELS", "sentinel1"),
        ("REDIS_SENTINELS", "sentinel1:http"),
        ("REDIS_SENTINELS", "s:70000"),
        ("METRICS_PORT", "-1"),
        ("REDIS_ACK_REPLICAS", "many"),
        ("REDIS_CLUSTER_NODES", "node1"),
    ]:
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: bad})
    cluster = Settings.from_env({"REDIS_CLUSTER_NODES": "10.0.0.1:7000,node2:7001"})
    assert cluster.redis_cluster_nodes == (("10.0.0.1", 7000), ("node2", 7001))
    for other in ({"REDIS_SENTINELS": "s:26379"}, {"REDIS_ACK_REPLICAS": "1"}):
        with pytest.raises(SettingsError, match="REDIS_CLUSTER_NODES"):
            Settings.from_env({"REDIS_CLUSTER_NODES": "n:7000", **other})
