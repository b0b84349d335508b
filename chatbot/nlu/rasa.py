"""Rasa as the heavy intent backend: its HTTP API `/model/parse`, with the embedded model as a silent fallback.

The child must never notice Rasa being slow or gone. Every request has a short timeout; a failure answers
that message with the embedded model and opens a circuit, so the next messages go straight to the embedded
model instead of each waiting for the timeout. After a cool-down one message tries Rasa again.

The HTTP client is a minimal HTTP/1.1 POST over asyncio streams (one connection per request, as Rasa is
on loopback or the local network), which keeps this package free of the transport's web framework.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chatbot.nlu.classifier import IntentClassifier, Prediction

log = logging.getLogger(__name__)

# Rasa's answer for one message is a few kilobytes; anything much larger is not Rasa.
MAX_RESPONSE_BYTES = 1_000_000


class RasaError(Exception):
    """Rasa did not give a usable answer (unreachable, timed out, HTTP error, malformed JSON)."""


@dataclass(frozen=True)
class _Endpoint:
    host: str
    port: int
    tls: bool
    path: str


def _endpoint(url: str, path: str) -> _Endpoint:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"RASA_URL must be an http(s) URL like http://127.0.0.1:5005, got {url!r}")
    tls = parts.scheme == "https"
    base = parts.path.rstrip("/")
    return _Endpoint(parts.hostname, parts.port or (443 if tls else 80), tls, base + path)


async def http_json(url: str, path: str, body: object | None, time_limit: float) -> Any:
    """GET (body None) or POST JSON to `url` + `path`; the decoded JSON answer. Raises RasaError."""
    endpoint = _endpoint(url, path)
    try:
        async with asyncio.timeout(time_limit):
            return await _exchange(endpoint, body)
    except TimeoutError:
        raise RasaError(f"no answer within {time_limit:g}s") from None
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise RasaError(f"connection failed: {exc.__class__.__name__}") from None


async def _exchange(endpoint: _Endpoint, body: object | None) -> Any:
    context = ssl.create_default_context() if endpoint.tls else None
    reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port, ssl=context)
    try:
        payload = b"" if body is None else json.dumps(body).encode()
        method = "GET" if body is None else "POST"
        head = (
            f"{method} {endpoint.path} HTTP/1.1\r\n"
            f"Host: {endpoint.host}:{endpoint.port}\r\n"
            "Accept: application/json\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n"
        )
        writer.write(head.encode() + payload)
        await writer.drain()
        raw = await reader.read(MAX_RESPONSE_BYTES + 1)
        chunks = [raw]
        total = len(raw)
        while raw:
            raw = await reader.read(MAX_RESPONSE_BYTES + 1)
            chunks.append(raw)
            total += len(raw)
            if total > MAX_RESPONSE_BYTES:
                raise RasaError("answer too large")
    finally:
        writer.close()
    return _decode(b"".join(chunks))


def _decode(response: bytes) -> Any:
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        raise RasaError("truncated HTTP answer")
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or not status[0].startswith("HTTP/"):
        raise RasaError("not an HTTP answer")
    if status[1] != "200":
        raise RasaError(f"HTTP status {status[1]}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    elif "content-length" in headers:
        body = body[: int(headers["content-length"])]
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RasaError("answer is not JSON") from None


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while True:
        size_line, sep, rest = body.partition(b"\r\n")
        if not sep:
            raise RasaError("truncated chunked answer")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            raise RasaError("malformed chunked answer") from None
        if size == 0:
            return bytes(out)
        out += rest[:size]
        body = rest[size + 2 :]


def prediction_from_rasa(answer: Any, threshold: float) -> Prediction:
    """Rasa's /model/parse JSON as a Prediction. Raises RasaError when it is not shaped like Rasa's."""
    try:
        ranking_raw = answer.get("intent_ranking") or [answer["intent"]]
        ranking = tuple(
            (str(item["name"]), float(item["confidence"]))
            for item in ranking_raw
            if item.get("name") and item["name"] != "nlu_fallback"
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        raise RasaError("answer is not shaped like /model/parse") from None
    if not ranking:
        raise RasaError("answer has no intent")
    intent, confidence = ranking[0]
    return Prediction(intent, confidence, ranking, "rasa", confidence >= threshold)


class RasaClient:
    """Rasa's /model/parse, without fallback: raises RasaError when Rasa does not answer properly."""

    def __init__(self, url: str, *, threshold: float, timeout: float = 2.0) -> None:
        _endpoint(url, "/")  # reject a malformed URL at start-up, not at the first message
        self.url = url
        self.threshold = threshold
        self.timeout = timeout

    async def parse(self, text: str) -> Prediction:
        answer = await http_json(self.url, "/model/parse", {"text": text}, self.timeout)
        return prediction_from_rasa(answer, self.threshold)


class RasaClassifier:
    """Asks Rasa; when Rasa fails, answers with `fallback` and leaves Rasa alone for `cooldown` seconds."""

    def __init__(
        self,
        client: RasaClient,
        fallback: IntentClassifier,
        *,
        cooldown: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.fallback = fallback
        self.cooldown = cooldown
        self._monotonic = monotonic
        self._open_until = 0.0
        self.failures = 0

    @property
    def available(self) -> bool:
        """False while the circuit is open (Rasa failed recently)."""
        return self._monotonic() >= self._open_until

    async def parse(self, text: str) -> Prediction:
        if self.available:
            try:
                return await self.client.parse(text)
            except RasaError as exc:
                self.failures += 1
                self._open_until = self._monotonic() + self.cooldown
                log.warning(
                    "Rasa at %s failed (%s); embedded model answers for %gs",
                    self.client.url,
                    exc,
                    self.cooldown,
                )
        return await self.fallback.parse(text)

    async def aclose(self) -> None:
        await self.fallback.aclose()
