"""The bot's contract with the conversation service (the dialogue in chatbot/domain/dialogue.py fulfils it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


@dataclass(frozen=True)
class Plan:
    """A message's answer worked out for one state, before the message is stored: either the answer
    itself, when giving it has no effect beyond its marks (`at_once`: it can be stored together with the
    message), or the step that gives it with its effects (`then`: run once the message is stored, if the
    conversation is still in that state)."""

    at_once: BotTurn | None = None
    then: Callable[[], Awaitable[BotTurn]] | None = None


class Bot(Protocol):
    def welcome(self, ctx: BotContext) -> BotTurn:
        """The first messages of a new conversation."""
        ...

    async def respond(self, ctx: BotContext, text: str) -> BotTurn:
        """Answer one message (free text, or a '/payload' from a button), with the answer's effects."""
        ...

    async def plan(self, ctx: BotContext, text: str) -> Plan:
        """The answer to a message in `ctx.state`, worked out before the message is stored (see Plan)."""
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
