"""The child's-eye preview: what a draft library would show a child, as data the widget's own code plays back.

The preview answers taps without the gateway, Redis or a conversation (nothing counted, nothing stored):
for every payload a button of the library can send, the bubbles the bot would show while it has the chat,
in one language, by the rules the children get (chatbot/domain/dialogue.py): a translation that is stale
or missing falls back as the gateway's does (the whole answer in the fallback language, never a mix); the
hand-off and crisis answers follow the line's opening hours as they are now. Free text has no intent
model here: it gets the fallback answer. A place in the queue is an example (1st, SAMPLE_WAIT minutes).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatbot.content.library import Answer, ContentError, ContentLibrary
from chatbot.domain import dialogue
from chatbot.domain.hours import OpeningHours, format_clock, format_moment
from chatbot.model import Reply

log = logging.getLogger(__name__)

WELCOME = "welcome"
FALLBACK = "fallback"
SAMPLE_POSITION = 1
SAMPLE_WAIT = 5
"""The example place in the queue the preview shows (a real one comes from the queue)."""


@dataclass(frozen=True)
class Line:
    """The line as the preview shows it: open or not now, and the bot's time placeholders."""

    hours: OpeningHours
    now: datetime
    retention_days: int

    @property
    def is_open(self) -> bool:
        return self.hours.is_open(self.now)

    def params(self, locale: str) -> dict[str, object]:
        opening = self.hours.next_opening(self.now)
        closing = self.hours.closes_at(self.now)
        return {
            "next_open": format_moment(opening, locale) if opening else "",
            "closes": format_clock(closing, locale) if closing else "",
            "retention_days": self.retention_days,
            "position": SAMPLE_POSITION,
            "wait": SAMPLE_WAIT,
        }


def graph(library: ContentLibrary, locale: str, line: Line, start: str = WELCOME) -> dict[str, Any]:
    """{start, taps: payload → bubbles, fallback} in `locale`; `start` is the answer shown first."""
    params = line.params(locale)

    def say(answer_id: str, notice: str = "") -> list[dict[str, Any]]:
        return _bubbles(library, answer_id, locale, params, notice)

    taps: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(_payload_names(library.answers.values())):
        taps["/" + name] = _tap(library, name, line, say)
    first = start if start in library else WELCOME
    return {"start": say(first), "taps": taps, "fallback": say(FALLBACK)}


def _payload_names(answers: Iterable[Answer]) -> set[str]:
    names: set[str] = set()
    for answer in answers:
        names.update(b.name for b in answer.buttons)
        if answer.intent:
            names.add(answer.intent)
        if answer.kind == "answer":
            names.add(answer.id)
    return names


def _tap(library: ContentLibrary, name: str, line: Line, say: Any) -> list[dict[str, Any]]:
    """What DialogueBot.respond shows for the button '/name' while the bot has the chat."""
    # Closed with no opening known: the answer that names no time (never "we open again ." alone).
    known = line.hours.next_opening(line.now) is not None
    closed = dialogue.HANDOFF_CLOSED if known else dialogue.HOURS_UNKNOWN
    found: list[dict[str, Any]]
    if name == dialogue.CRISIS:
        found = say(dialogue.CRISIS if line.is_open else dialogue.CRISIS_CLOSED)
    elif name in (dialogue.CONSENT_YES, dialogue.CONSENT_NO):
        found = say(name)
    elif name == dialogue.ASK_HUMAN:
        found = say(dialogue.ASK_HUMAN if line.is_open else closed)
    elif name in (dialogue.OPENING_HOURS, dialogue.OPEN_NOW, dialogue.HOURS_UNKNOWN):
        hours_closed = dialogue.OPENING_HOURS if known else dialogue.HOURS_UNKNOWN
        found = say(dialogue.OPEN_NOW if line.is_open else hours_closed)
    elif name == dialogue.JOIN_QUEUE:
        if line.is_open:
            found = say(dialogue.JOIN_QUEUE, notice=dialogue.JOIN_QUEUE) + say(dialogue.CONSENT_ASK)
        else:
            found = say(closed)
    elif name == dialogue.LEAVE_QUEUE:
        found = say(dialogue.LEAVE_QUEUE, notice=dialogue.LEAVE_QUEUE)
    else:
        answer = library.for_intent(name) or library.answers.get(name)
        usable = answer is not None and (answer.intent is not None or answer.kind == "answer")
        found = say(answer.id) if answer is not None and usable else say(FALLBACK)
    return found or say(FALLBACK)


def _bubbles(
    library: ContentLibrary, answer_id: str, locale: str, params: dict[str, object], notice: str
) -> list[dict[str, Any]]:
    if answer_id not in library:
        return []
    answer = library.get(answer_id)
    try:
        replies = answer.replies(locale, **params)
    except ContentError:
        # A placeholder only the running bot can fill (a case's date): the draft's check reports those.
        log.info("preview cannot fill the placeholders of %s", answer_id)
        return []
    shown_in = answer.localized(locale)[0]
    out = [_wire(r, shown_in) for r in replies]
    if notice and out:
        note: dict[str, Any] = {"type": notice}
        if notice == dialogue.JOIN_QUEUE:
            note.update(position=SAMPLE_POSITION, wait=SAMPLE_WAIT)
        out[0]["notice"] = note
    return out


def _wire(reply: Reply, shown_in: str) -> dict[str, Any]:
    """A bubble as the gateway's bot_uttered carries it (chatbot/gateway/protocol.py), plus its answer id
    and the language it is shown in (the widget ignores both; the preview page names them)."""
    bubble: dict[str, Any] = {"role": "bot", "text": reply.text, "answer": reply.answer, "lang": shown_in}
    if reply.quick_replies:
        bubble["quick_replies"] = [q.to_wire() for q in reply.quick_replies]
    return bubble
