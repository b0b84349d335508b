"""Child-facing notices from content/ as system entries of the conversation log (the console's and the ending's)."""

from __future__ import annotations

from datetime import datetime

from chatbot.content.library import ContentLibrary
from chatbot.model import Entry, Role


def notice_entries(
    content: ContentLibrary, answer_id: str, locale: str, now: datetime, **params: object
) -> list[Entry]:
    """A child-facing notice from content/ as system entries; the first carries its values in `extra`."""
    replies = content.replies(answer_id, locale, **params)
    extra = {"notice": answer_id, **{k: v for k, v in params.items() if isinstance(v, (int, str))}}
    return [
        Entry(
            Role.SYSTEM,
            r.text,
            now,
            quick_replies=r.quick_replies,
            intent=answer_id,
            extra=extra if i == 0 else {},
            answer=r.answer,
            version=r.version,
        )
        for i, r in enumerate(replies)
    ]
