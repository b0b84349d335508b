"""The one way both processes load the content library: the answers, their translations, the same fallback."""

from __future__ import annotations

from chatbot.content.library import ContentLibrary
from chatbot.settings import Settings


def load_library(settings: Settings) -> ContentLibrary:
    """The answers of `settings.content_dir` with the catalogs of `settings.locales_dir`.

    A child whose language has no current translation of an answer reads it in DEFAULT_LOCALE, then in
    Swedish (the source). The gateway and the console both load through here, so a canned reply, a notice
    and the bot's own answer fall back to the same language."""
    return ContentLibrary.load(settings.content_dir, settings.locales_dir, settings.default_locale)
