"""Guideline 9 in the check: an answer's text in a language only when every string has a current
translation with the source's placeholders, else a finding that says what the child sees instead."""

from __future__ import annotations

from chatbot.content.guidelines.findings import Finding, Level, braced, quote
from chatbot.content.guidelines.rules import Text
from chatbot.content.library import Answer, placeholder_names


def translation_findings(answer: Answer, locale: str, required: bool) -> tuple[Text | None, list[Finding]]:
    """The answer's text in `locale` if every string has a current translation, else a finding."""
    catalogs = answer.catalogs
    if catalogs is None:
        return None, []
    messages = answer.messages()
    texts = [catalogs.lookup(locale, m.context, m.text) for m in messages]
    found: list[Finding] = []
    for i, (message, text) in enumerate(zip(messages, texts, strict=True)):
        if text is None or placeholder_set(text) == placeholder_set(message.text):
            continue
        # The runtime refuses such a translation (it could not be filled), so the child sees the fallback.
        where = f"bubble {i + 1}" if i < len(answer.bubbles) else f"button {quote(message.text)}"
        found.append(
            Finding(
                Level.VIOLATION,
                "placeholders",
                f"{where} has {braced(placeholder_set(text)) or 'no placeholders'} where the source has "
                f"{braced(placeholder_set(message.text)) or 'none'}: the child sees the fallback",
                locale,
            )
        )
    if found:
        return None, found
    missing = sum(1 for t in texts if t is None)
    if missing:
        level = Level.VIOLATION if required else Level.WARNING
        note = (
            f"{missing} of {len(messages)} strings have no current translation; the child sees the fallback"
        )
        return None, [Finding(level, "translation", note, locale)]
    done = [t for t in texts if t is not None]
    n = len(answer.bubbles)
    return Text(locale, tuple(done[:n]), tuple(done[n:])), []


def placeholder_set(text: str) -> set[str]:
    try:
        return set(placeholder_names(text))
    except ValueError:
        return {"?"}
