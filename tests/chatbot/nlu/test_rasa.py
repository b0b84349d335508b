"""Rasa 3.6 for real (its own Python 3.10 virtualenv, `rasa run --enable-api`), and the silent fallback.

The session fixture runs scripts/rasa setup and train (cached by requirements and data hash; scripts/test
runs them before pytest) and serves the model on a free loopback port. If Rasa cannot be built these tests
fail with the reason; they never skip.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chatbot.nlu import rasa_process
from chatbot.nlu.classifier import EmbeddedClassifier
from chatbot.nlu.rasa import RasaClassifier, RasaClient, RasaError, http_json
from chatbot.nlu.service import Nlu
from chatbot.redis_server import free_port
from chatbot.settings import PROJECT_ROOT, Settings
from tests.chatbot.nlu.helpers import HELDOUT, INTENTS, project_model

THRESHOLD = 0.6


@pytest.fixture(scope="session")
def rasa_model() -> Path:
    rasa_process.setup()
    return rasa_process.train()


@pytest.fixture(scope="session")
async def rasa_server(
    rasa_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[rasa_process.RasaServer]:
    server = rasa_process.RasaServer(rasa_model, free_port(), tmp_path_factory.mktemp("rasa") / "rasa.log")
    server.start()
    try:
        await server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
async def embedded() -> AsyncIterator[EmbeddedClassifier]:
    classifier = EmbeddedClassifier(project_model(), THRESHOLD)
    yield classifier
    await classifier.aclose()


class FakeClock:
    """Monotonic seconds that tests advance by hand, to step over the circuit's cool-down."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_rasa_serves_the_project_model(rasa_server: rasa_process.RasaServer) -> None:
    status = await http_json(rasa_server.url, "/status", None, 5.0)
    assert status["model_file"].endswith(rasa_server.model.name)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("hej", "greet"),
        ("kan jag prata med en människa", "ask_human"),
        ("min bild sprids på snap", "takedown_help"),
        ("jag vill inte leva längre", "crisis"),
    ],
)
async def test_parse_through_rasa(rasa_server: rasa_process.RasaServer, text: str, intent: str) -> None:
    prediction = await RasaClient(rasa_server.url, threshold=THRESHOLD, timeout=10.0).parse(text)
    assert prediction.backend == "rasa"
    assert prediction.intent == intent
    assert 0.0 < prediction.confidence <= 1.0
    assert {name for name, _ in prediction.ranking} <= INTENTS
    assert prediction.ranking[0] == (prediction.intent, prediction.confidence)


async def test_nlu_service_uses_rasa_when_configured(rasa_server: rasa_process.RasaServer) -> None:
    settings = replace(Settings(), rasa_url=rasa_server.url, rasa_timeout=10.0)
    nlu = await Nlu.start(settings)
    try:
        understanding = await nlu.understand("jag vill dö")
        assert understanding.prediction.backend == "rasa"
        assert understanding.crisis.crisis
        greeting = await nlu.understand("hej hej")
        assert greeting.intent == "greet" and not greeting.crisis.crisis
    finally:
        await nlu.aclose()


async def test_unreachable_rasa_falls_back_to_the_embedded_model(embedded: EmbeddedClassifier) -> None:
    closed = free_port()  # nothing listens here
    clock = FakeClock()
    classifier = RasaClassifier(
        RasaClient(f"http://127.0.0.1:{closed}", threshold=THRESHOLD), embedded, monotonic=clock
    )
    prediction = await classifier.parse("hur laddar jag upp bilden")
    assert prediction.backend == "embedded"
    assert prediction.intent == "upload_help"
    assert classifier.failures == 1 and not classifier.available
    # While the circuit is open no message waits for Rasa.
    assert (await classifier.parse("tack")).backend == "embedded"
    assert classifier.failures == 1
    clock.now += classifier.cooldown
    assert classifier.available
    assert (await classifier.parse("hejdå")).intent == "goodbye"
    assert classifier.failures == 2


async def test_rasa_killed_mid_run_falls_back_without_an_error(
    rasa_model: Path, embedded: EmbeddedClassifier, tmp_path: Path
) -> None:
    with rasa_process.RasaServer(rasa_model, free_port(), tmp_path / "rasa.log") as server:
        await server.wait_ready()
        classifier = RasaClassifier(RasaClient(server.url, threshold=THRESHOLD, timeout=10.0), embedded)
        assert (await classifier.parse("hej")).backend == "rasa"
        server.kill()
        after = await asyncio.gather(*(classifier.parse(t) for t in ["tack", "när har ni öppet", "nej"]))
    assert [p.backend for p in after] == ["embedded"] * 3
    assert [p.intent for p in after] == ["thanks", "opening_hours", "deny"]


async def test_slow_rasa_times_out_and_the_circuit_closes_again_when_rasa_answers(
    rasa_server: rasa_process.RasaServer, embedded: EmbeddedClassifier
) -> None:
    clock = FakeClock()
    client = RasaClient(rasa_server.url, threshold=THRESHOLD, timeout=0.000001)
    classifier = RasaClassifier(client, embedded, monotonic=clock)
    assert (await classifier.parse("hej")).backend == "embedded"
    assert not classifier.available
    client.timeout = 10.0
    assert (await classifier.parse("hej")).backend == "embedded"  # still cooling down
    clock.now += classifier.cooldown
    assert (await classifier.parse("hej")).backend == "rasa"


async def test_a_server_that_never_answers_or_answers_garbage_is_a_rasa_error() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        await asyncio.sleep(5)
        writer.close()

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!")
        await writer.drain()
        writer.close()

    async def error(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    for handler, message in [(silent, "no answer within"), (garbage, "not JSON"), (error, "HTTP status 500")]:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(RasaError, match=message):
                await RasaClient(f"http://127.0.0.1:{port}", threshold=THRESHOLD, timeout=0.5).parse("hej")
        finally:
            server.close()


def test_a_malformed_rasa_url_is_rejected_at_start_up() -> None:
    with pytest.raises(ValueError, match="RASA_URL"):
        RasaClient("localhost:5005", threshold=THRESHOLD)


def test_evaluate_with_the_rasa_backend(rasa_model: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chatbot",
            "nlu",
            "evaluate",
            "--backend",
            "rasa",
            "--test",
            str(HELDOUT),
            "--json",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["backend"] == "rasa"
    assert set(report["per_intent"]) == INTENTS
    # DIET on this data: see docs/benchmarks.md. A floor that catches a broken model or pipeline.
    assert report["accuracy"] >= 0.75 and report["macro_f1"] >= 0.75


async def _first_reply(gateway: Any, child_factory: Any, text: str) -> dict[str, Any]:
    child = child_factory(gateway.url)
    await child.connect()
    await child.start()
    await child.expect("history")
    await child.say(text, client_id="m1")
    await child.expect("message_ack")
    reply: dict[str, Any] = await child.expect("bot_uttered")
    assert not [event for event, _ in await child.drain() if event == "error"]
    return reply


@pytest.mark.parametrize(
    "text", ["min nakenbild sprids på snap", "han hotar att sprida bilden om jag inte betalar"]
)
async def test_the_gateway_answers_the_same_with_rasa_up_down_or_absent(
    rasa_server: rasa_process.RasaServer,
    gateway_factory: Any,
    child_factory: Any,
    settings: Settings,
    text: str,
) -> None:
    """The child cannot tell which backend classified the message, nor that Rasa is down."""
    embedded_only = await gateway_factory(replace(settings, rasa_url=""))
    with_rasa = await gateway_factory(replace(settings, rasa_url=rasa_server.url, rasa_timeout=10.0))
    rasa_down = await gateway_factory(
        replace(settings, rasa_url=f"http://127.0.0.1:{free_port()}", rasa_timeout=0.5)
    )
    expected = await _first_reply(embedded_only, child_factory, text)
    for gateway in (with_rasa, rasa_down):
        reply = await _first_reply(gateway, child_factory, text)
        assert reply["text"] == expected["text"]
        assert reply.get("quick_replies") == expected.get("quick_replies")
