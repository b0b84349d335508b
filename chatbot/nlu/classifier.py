"""The intent classifier's contract, and the embedded classifier that runs the model off the event loop.

Prediction is CPU work (~0.3 ms a message). A burst of it on the event loop would stall every other
child's socket, so messages beyond the first of a loop iteration go to one worker thread, and those that
arrive while the worker is busy are predicted together in one batch. The first message of each loop
iteration is predicted at once on the loop: handing one message to the thread cost more than predicting
it (submit, the thread's wake-up, the GIL coming back, the loop's wake-up; py-spy, docs/benchmarks.md),
and under a steady load its answer waited for all of that. The loop still stalls for one prediction at most.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chatbot.nlu.embedded import EmbeddedModel, Scored

log = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"
# Largest batch the worker predicts at once; bounds how long one hand-off holds the thread.
MAX_BATCH = 64


@dataclass(frozen=True)
class Prediction:
    """The best intent, its confidence (0..1), the ranking of the best intents, and which backend answered.

    `confident` is False when the confidence is below the threshold: then the message is not taken as
    `intent`; the bot asks again and offers a person.
    """

    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...]
    backend: str
    confident: bool

    def probability(self, intent: str) -> float:
        """The confidence for `intent` (0.0 if it is not in the ranking)."""
        return next((p for name, p in self.ranking if name == intent), 0.0)

    @classmethod
    def from_scored(cls, scored: Scored, backend: str, threshold: float) -> Prediction:
        return cls(scored.intent, scored.confidence, scored.ranking, backend, scored.confidence >= threshold)


class IntentClassifier(Protocol):
    async def parse(self, text: str) -> Prediction:
        """Classify one message."""
        ...

    async def aclose(self) -> None:
        """Release threads and connections."""
        ...


class EmbeddedClassifier:
    """The scikit-learn model in a worker thread, with micro-batching."""

    def __init__(self, model: EmbeddedModel, threshold: float) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
        self.model = model
        self.threshold = threshold
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nlu")
        self._pending: list[tuple[str, asyncio.Future[Scored]]] = []
        self._draining: asyncio.Task[None] | None = None
        self._closed = False
        self._inline_used = False  # this loop iteration has predicted a message on the loop already

    def _reset_inline(self) -> None:
        self._inline_used = False

    async def parse(self, text: str) -> Prediction:
        if self._closed:
            raise RuntimeError("the classifier is closed")
        if not self._inline_used and not self._pending and self._draining is None:
            # Once per loop iteration, with the worker idle: at once, no hand-off.
            self._inline_used = True
            asyncio.get_running_loop().call_soon(self._reset_inline)
            scored = self.model.predict(text)
        else:
            scored = await self._submit(text)
        return Prediction.from_scored(scored, self.model.backend, self.threshold)

    async def parse_many(self, texts: Sequence[str]) -> list[Prediction]:
        scored = await asyncio.gather(*(self._submit(t) for t in texts))
        return [Prediction.from_scored(s, self.model.backend, self.threshold) for s in scored]

    async def aclose(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _submit(self, text: str) -> asyncio.Future[Scored]:
        if self._closed:
            raise RuntimeError("the classifier is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Scored] = loop.create_future()
        self._pending.append((text, future))
        if self._draining is None:
            self._draining = loop.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                texts = [text for text, _ in batch]
                try:
                    results = await loop.run_in_executor(self._executor, self.model.predict_many, texts)
                except Exception as exc:
                    log.exception("intent prediction failed for a batch of %d", len(batch))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # the caller may have given up (cancelled)
                        future.set_result(result)
        finally:
            self._draining = None
