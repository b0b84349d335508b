"""The bot's contract with the conversation service, and the content-driven bot that fulfils it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from chatbot.domain.content import ContentLibrary
from chatbot.domain.model import ConversationState, Reply


@dataclass(frozen=True)
class BotContext:
    conv_id: str
    locale: str
    state: ConversationState


@dataclass(frozen=True)
class BotTurn:
    """What the bot says and what it changes: a new state (e.g. queued) or an urgent flag."""

    replies: list[Reply] = field(default_factory=list)
    state: ConversationState | None = None
    urgent: bool = False


class Bot(Protocol):
    def welcome(self, ctx: BotContext) -> BotTurn:
        """The first messages of a new conversation."""
        ...

    async def respond(self, ctx: BotContext, text: str) -> BotTurn:
        """Answer one message (free text, or a '/payload' from a button)."""
        ...

    def notice(self, name: str, ctx: BotContext) -> list[Reply]:
        """A system notice by answer id, e.g. 'rate_limited'."""
        ...


class ContentBot:
    """Follows the buttons of the content graph; anything it cannot place gets the fallback answer."""

    WELCOME = "welcome"
    FALLBACK = "fallback"

    def __init__(self, content: ContentLibrary) -> None:
        self._content = content

    def welcome(self, ctx: BotContext) -> BotTurn:
        return BotTurn(self._content.get(self.WELCOME).replies())

    async def respond(self, ctx: BotContext, text: str) -> BotTurn:
        if ctx.state is not ConversationState.BOT:
            # After hand-off the bot stays out of the way of the counsellor.
            return BotTurn()
        name = text[1:].strip() if text.startswith("/") else ""
        answer = (self._content.for_intent(name) or self._content.answers.get(name)) if name else None
        return BotTurn((answer or self._content.get(self.FALLBACK)).replies())

    def notice(self, name: str, ctx: BotContext) -> list[Reply]:
        return self._content.get(name).replies()
