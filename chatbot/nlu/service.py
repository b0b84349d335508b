"""What the dialogue asks of the intent model: one call that classifies a message and runs the crisis check."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from chatbot.nlu import data
from chatbot.nlu.classifier import EmbeddedClassifier, IntentClassifier, Prediction
from chatbot.nlu.crisis import CrisisCheck, CrisisDetector
from chatbot.nlu.embedded import EmbeddedModel
from chatbot.nlu.language import LATIN, Guess, LanguageGuesser
from chatbot.nlu.rasa import RasaClassifier, RasaClient
from chatbot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Understanding:
    prediction: Prediction
    crisis: CrisisCheck
    language: Guess = field(default_factory=lambda: Guess(LATIN))
    """The cheap guess at the message's language (Arabic script, Latin letters, or foreign)."""

    @property
    def intent(self) -> str | None:
        """The intent to act on, or None when the model is not confident (ask again, offer a person)."""
        return self.prediction.intent if self.prediction.confident else None


class Nlu:
    """The classifier (embedded, or Rasa with the embedded model as fallback) and the crisis detector."""

    def __init__(
        self,
        classifier: IntentClassifier,
        crisis: CrisisDetector | None = None,
        languages: LanguageGuesser | None = None,
    ) -> None:
        self.classifier = classifier
        self.crisis = crisis or CrisisDetector()
        self.languages = languages or LanguageGuesser()

    @classmethod
    async def start(cls, settings: Settings) -> Nlu:
        """`build`, with the training (a few seconds the first time) in a thread off the event loop."""
        return await asyncio.to_thread(cls.build, settings)

    @classmethod
    def build(cls, settings: Settings) -> Nlu:
        """The embedded model (trained once per process and data version), fronted by Rasa when configured."""
        training = data.load_project(settings.content_dir)
        embedded = EmbeddedClassifier(
            _trained(settings.content_dir, training.digest()), settings.nlu_threshold
        )
        guesser = LanguageGuesser(training.texts)
        if not settings.rasa_url:
            return cls(embedded, languages=guesser)
        log.info("intents from Rasa at %s, embedded model as fallback", settings.rasa_url)
        client = RasaClient(
            settings.rasa_url, threshold=settings.nlu_threshold, timeout=settings.rasa_timeout
        )
        return cls(RasaClassifier(client, embedded), languages=guesser)

    async def understand(self, text: str) -> Understanding:
        prediction = await self.classifier.parse(text)
        return Understanding(prediction, self.crisis.check(text, prediction), self.languages.guess(text))

    def crisis_check(self, text: str) -> CrisisCheck:
        """Patterns only, synchronous: for a state where the message is not classified."""
        return self.crisis.check_text(text)

    async def aclose(self) -> None:
        await self.classifier.aclose()


@lru_cache(maxsize=2)
def _trained(content_dir: Path, digest: str) -> EmbeddedModel:
    # Keyed by the data's digest: edited training data means a new model, the same data never trains twice.
    return EmbeddedModel.train(data.load_project(content_dir))
