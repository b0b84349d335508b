"""The bot's contract with the conversation service (the dialogue in chatbot/domain/dialogue.py fulfils it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from chatbot.model import ConversationState, QuickReply, Reply
from chatbot.upload.values import Grant


@dataclass(frozen=True)
class BotContext:
    conv_id: str
    locale: str
    state: ConversationState


@dataclass(frozen=True)
class BotTurn:
    """What the bot says and what it changes: a new state (e.g. queued), an urgent flag, and fields of the
    conversation's meta to set with the answer (`marks`: e.g. the topic the child asked about)."""

    replies: list[Reply] = field(default_factory=list)
    state: ConversationState | None = None
    urgent: bool = False
    marks: tuple[tuple[str, str], ...] = ()


class Bot(Protocol):
    def welcome(self, ctx: BotContext) -> BotTurn:
        """The first messages of a new conversation."""
        ...

    async def respond(self, ctx: BotContext, text: str) -> BotTurn:
        """Answer one message (free text, or a '/payload' from a button), with the answer's effects."""
        ...

    async def answer_at_once(self, ctx: BotContext, text: str) -> BotTurn | None:
        """The answer in `ctx.state` when giving it has no effect beyond its marks, so it can be stored
        together with the message; None when it has (then `respond`, after the message is stored)."""
        ...

    def notice(self, name: str, ctx: BotContext) -> list[Reply]:
        """A system notice by answer id, e.g. 'rate_limited'."""
        ...

    def relabel(self, buttons: tuple[QuickReply, ...], locale: str) -> tuple[QuickReply, ...]:
        """The buttons of an earlier answer with their labels in `locale` (after a language switch)."""
        ...

    async def upload_grant(self, ctx: BotContext) -> Grant:
        """A one-time grant for the encrypted upload the child chose to open (in any state)."""
        ...

    async def outside(self, text: str, locale: str, notice: str) -> list[Reply]:
        """For a child with no conversation (refused a new one): the crisis answer for words about danger,
        else the notice by answer id. Nothing is stored."""
        ...
