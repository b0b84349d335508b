"""The intent classifier's contract, and the embedded classifier that predicts on the event loop in slices.

Prediction is CPU work (tens of microseconds a message since the analysis of each word is kept,
chatbot/nlu/embedded.py). Handing it to a worker thread cost more than the prediction itself (submit, the
thread's wake-up, the GIL going back and forth with the busy loop, the loop's wake-up; py-spy,
docs/benchmarks.md), and under load every answer waited for that hand-off. So every message is predicted
on the loop, at once; a burst is cut into slices of SLICE messages per loop iteration, so a thousand
messages arriving together never hold the loop for more than one slice (about a millisecond): other
children's sockets are served between slices.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chatbot.nlu.embedded import EmbeddedModel, Scored

log = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"
# Predictions one loop iteration may make before the next waits for the loop to turn over.
SLICE = 8


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
        for name, p in self.ranking:
            if name == intent:
                return p
        return 0.0

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
    """The scikit-learn model, predicted on the event loop, at most SLICE messages per loop iteration."""

    def __init__(self, model: EmbeddedModel, threshold: float) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
        self.model = model
        self.threshold = threshold
        self._closed = False
        self._used = 0  # predictions made in this loop iteration

    def _reset(self) -> None:
        self._used = 0

    async def parse(self, text: str) -> Prediction:
        while True:
            if self._closed:
                raise RuntimeError("the classifier is closed")
            if self._used < SLICE:
                break
            # This iteration's slice is spent: let the loop serve everyone else first.
            await asyncio.sleep(0)
        if self._used == 0:
            asyncio.get_running_loop().call_soon(self._reset)
        self._used += 1
        scored = self.model.predict(text)
        return Prediction.from_scored(scored, self.model.backend, self.threshold)

    async def parse_many(self, texts: Sequence[str]) -> list[Prediction]:
        return [await self.parse(t) for t in texts]

    async def aclose(self) -> None:
        self._closed = True
