"""Guideline 9 in the check: an answer's text in a language only when every string has a current
translation with the source's placeholders, else a finding that says what the child sees instead."""

from __future__ import annotations

from chatbot.content.guidelines.findings import T_, Finding, Level, braced, finding, quote, words
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
        where = (
            words(T_("bubble %(n)s"), n=i + 1)
            if i < len(answer.bubbles)
            else words(T_("button %(label)s"), label=quote(message.text))
        )
        said = words(
            T_("%(where)s has %(found)s where the source has %(source)s: the child sees the fallback"),
            where=where,
            found=braced(placeholder_set(text)) or words(T_("no placeholders")),
            source=braced(placeholder_set(message.text)) or words(T_("none")),
        )
        found.append(finding(Level.VIOLATION, "placeholders", said, locale))
    if found:
        return None, found
    missing = sum(1 for t in texts if t is None)
    if missing:
        level = Level.VIOLATION if required else Level.WARNING
        note = words(
            T_("%(missing)s of %(count)s strings have no current translation; the child sees the fallback"),
            missing=missing,
            count=len(messages),
        )
        return None, [finding(level, "translation", note, locale)]
    done = [t for t in texts if t is not None]
    n = len(answer.bubbles)
    return Text(locale, tuple(done[:n]), tuple(done[n:])), []


def placeholder_set(text: str) -> set[str]:
    try:
        return set(placeholder_names(text))
    except ValueError:
        return {"?"}
