"""One conversation as a counsellor may read it: consent, what the child tapped, whether a held chat was read."""

from __future__ import annotations

from dataclasses import dataclass, field

from chatbot.model import HELD_FLAG, ConversationState, Entry, Role
from console.domain.deskpart import DeskError, DeskPart

# What the counsellor is told about the transcript consent (issue 16: "did not agree" was shown when the
# child had never answered).
CONSENT_NOT_ASKED, CONSENT_NO_ANSWER, CONSENT_YES, CONSENT_NO = "not_asked", "no_answer", "yes", "no"
CONSENT_YES_ANSWER = "transcript_consent_yes"


@dataclass(frozen=True)
class ConversationView:
    conv_id: str
    state: str
    left: bool
    """The child has left (quick exit, end chat, closed tab, expiry): nothing more will come."""
    counsellor: str
    urgent: bool
    locale: str
    note: str
    consent: bool
    entries: list[Entry]
    hidden_before: int
    """Entries before this seq (the bot part) are not shown: the child did not consent to sharing them."""
    held: bool = False
    """Left for the counsellors with a return code: the child may not be here, and reads it on return."""
    read: bool | None = None
    """Held only: has the child read the last counsellor message (None: she has written none yet)."""
    here: bool = False
    """Held only: a socket of the child is open now."""
    consent_state: str = CONSENT_NOT_ASKED
    """Whether the child lets the counsellor read the bot part: not_asked, no_answer, yes or no."""
    buttons: dict[str, str] = field(default_factory=dict)
    """payload → the label the child saw on that button, so a tap reads as the child pressed it."""


def _buttons(entries: list[Entry]) -> dict[str, str]:
    """Each button payload the child was offered, with the label they saw (the latest offer wins)."""
    return {reply.payload: reply.title for entry in entries for reply in entry.quick_replies}


def _consent_state(flag: str | None, buttons: dict[str, str]) -> str:
    if flag == "1":
        return CONSENT_YES
    if flag == "0":
        return CONSENT_NO
    # The question is a notice with buttons: it was asked when its yes-button was offered.
    asked = any(payload.lstrip("/") == CONSENT_YES_ANSWER for payload in buttons)
    return CONSENT_NO_ANSWER if asked else CONSENT_NOT_ASKED


class Transcripts(DeskPart):
    async def view(self, conv_id: str, name: str, *, supervisor: bool) -> ConversationView:
        meta = await self._conversations.meta(conv_id)
        if not meta:
            raise DeskError("gone", "this conversation has ended or expired")
        queued = await self._queue.position(conv_id) is not None
        mine = meta.get("counsellor") == name and meta.get("state") == ConversationState.COUNSELLOR.value
        # A chat she still has to categorise stays hers to read: also one the child left.
        mine = mine or meta.get("categorise_by") == name
        # Counsellors see the queue, the out-of-hours list and their own chats; a colleague's is not theirs.
        held_waiting = meta.get("state") == ConversationState.LEFT_FOR_COUNSELLOR.value
        if not (supervisor or queued or mine or held_waiting):
            raise DeskError("forbidden", "this conversation is not in the queue or assigned to you")
        consent = meta.get("transcript_consent") == "1"
        # Without consent a held chat shows what came after it was left (as the queue's after the join).
        joined = meta.get("left_seq") or meta.get("joined_seq", "0")
        hidden_before = 0 if consent else int(joined or 0)
        if not consent and not hidden_before:
            hidden_before = await self._conversations.length(conv_id) + 1
        every = await self._conversations.read(conv_id)
        entries = [e for e in every if e.seq >= hidden_before] if hidden_before else every
        buttons = _buttons(every)
        locale = meta.get("locale", self._settings.default_locale)
        for entry in every:
            if entry.role is Role.CHILD and entry.text.startswith("/") and entry.text not in buttons:
                label = self._button_label(entry.text, locale)
                if label:
                    buttons[entry.text] = label
        held = meta.get(HELD_FLAG) == "1"
        here = int(meta.get("sockets", "0") or 0) > 0
        read: bool | None = None
        if held:
            # Only whether her words reached the child's screen: nothing else about the child.
            last = max((e.seq for e in entries if e.role is Role.COUNSELLOR), default=0)
            read = None if not last else here or int(meta.get("read_seq", "0") or 0) >= last
        return ConversationView(
            conv_id,
            meta.get("state", ""),
            meta.get("state") == ConversationState.ENDED.value,
            meta.get("counsellor", ""),
            meta.get("urgent") == "1",
            meta.get("locale", self._settings.default_locale),
            meta.get("note", ""),
            consent,
            entries,
            hidden_before,
            held,
            read,
            here and held,
            _consent_state(meta.get("transcript_consent"), buttons),
            buttons,
        )

    def _button_label(self, payload: str, locale: str) -> str:
        """The label of the content's first button with this payload, in the child's language (a tap the
        log has no offer for: the widget's own buttons, or an offer older than the log's start)."""
        for answer in self._content.answers.values():
            for index, button in enumerate(answer.buttons):
                if button.target == payload:
                    return answer.localized(locale)[2][index]
        return ""

    async def conversation_meta(self, conv_id: str) -> dict[str, str]:
        return await self._conversations.meta(conv_id)
