"""Babel extractor for the answer files in content/answers/*.yml, so `pybabel extract` sees them.

Registered as the `stodchat_content` extraction method (pyproject.toml, babel.extractors); babel.cfg maps
the answer files to it. Each string is yielded as a pgettext call so that its context survives.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from chatbot.content.catalog_tools import translator_comment
from chatbot.content.library import parse_answer


def extract_content(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Yield (line, 'pgettext', (context, text), comments) for every bubble and button label."""
    path = Path(getattr(fileobj, "name", "<answer>"))
    answer = parse_answer(fileobj.read().decode("utf-8"), path)
    note = translator_comment(answer.id, answer.placeholders)
    for message in answer.messages():
        yield message.line, "pgettext", (message.context, message.text), [note]
