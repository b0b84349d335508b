"""Both processes load the content library through one function, with DEFAULT_LOCALE as the fallback."""

from __future__ import annotations

from chatbot.content.loading import load_library
from chatbot.settings import Settings


def texts(settings: Settings, answer_id: str, locale: str | None) -> list[str]:
    return [r.text for r in load_library(settings).replies(answer_id, locale)]


def test_a_language_without_translations_falls_back_to_the_default_locale_then_swedish() -> None:
    english = Settings(default_locale="en")
    swedish = Settings()
    assert load_library(english).fallback_locale == "en"
    assert load_library(swedish).fallback_locale == "sv"
    # Polish has no catalog: the child reads DEFAULT_LOCALE's translation, else the Swedish source.
    assert texts(english, "thanks", "pl") == texts(english, "thanks", "en")
    assert texts(swedish, "thanks", "pl") == list(load_library(swedish).get("thanks").bubbles)
    assert texts(english, "thanks", "pl") != texts(swedish, "thanks", "pl")
    # No language at all is the fallback too.
    assert texts(english, "thanks", None) == texts(english, "thanks", "en")
