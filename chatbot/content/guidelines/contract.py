"""The contract between the content and the code: the intents, the answers the dialogue shows by id, the
numbers and limits the guidelines name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The intent taxonomy (docs: /work/shared/intents.md, a contract): every one needs exactly one answer.
INTENTS = (
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "ask_human",
    "takedown_help",
    "upload_help",
    "sextortion",
    "grooming",
    "safety_tips",
    "report_police",
    "anonymity",
    "opening_hours",
    "self_blame",
    "crisis",
    "case_status",
    "out_of_scope",
)

# Answers the dialogue shows by id, with the placeholders the bot fills in for each.
REQUIRED_ANSWERS: Mapping[str, tuple[str, ...]] = {
    "welcome": (),
    "fallback": (),
    "rate_limited": (),
    "handoff_queued": ("position", "wait"),
    "handoff_closed": ("next_open",),
    "queue_update": ("position", "wait"),
    "counsellor_joined": ("name",),
    "counsellor_lost": ("position", "wait"),
    "conversation_ended": (),
    "child_left": (),
    "upload_offer": (),
    "crisis": (),
    "crisis_who": (),
    "language_unknown": (),
    # Crisis while a counsellor has the chat, and while the line is closed (chatbot.domain.dialogue).
    "crisis_counsellor": (),
    "crisis_closed": (),
    # Opening hours that are true in every state: open now (until when), or no opening known.
    "opening_hours_open": ("closes",),
    "hours_unknown": (),
    # The case code lookup (intent case_status): one answer per status, one per kind of bad code.
    **{
        f"case_status_{status}": ("updated",)
        for status in ("received", "reviewed", "reported", "removed", "closed")
    },
    "case_code_malformed": (),
    "case_code_mistyped": (),
    "case_code_unknown": (),
}

START = "welcome"
# Answers the dialogue code shows or acts on by id (chatbot/domain/dialogue.py: the required ones above and
# the action targets of buttons); with every answer of kind `dialogue` or `notice`, an editor can never
# delete them (console/domain/editing.py).
DIALOGUE_ANSWERS = frozenset(
    {
        *REQUIRED_ANSWERS,
        "ask_human",
        "opening_hours",
        "leave_queue",
        "leave_offer",
        "queue_busy",
        "transcript_consent",
        "transcript_consent_yes",
        "transcript_consent_no",
        "upload_start",
    }
)
CRISIS_NUMBERS = ("112", "116 111", "90101")
# Answers that must give the emergency numbers in their first bubble, in every language.
EMERGENCY_ANSWERS = ("crisis", "language_unknown")
RESPONSIBILITY_INTENTS = ("sextortion", "self_blame")
# Guideline 5: the takedown guidance (an intent's answer) and the upload panel (an answer id: its
# button opens the widget's encrypted upload) are at most MAX_TAPS from the start.
FAST_INTENTS = ("takedown_help",)
FAST_ANSWERS = ("upload_start",)
MAX_TAPS = 2

PERSON_INTENTS = ("ask_human", "opening_hours")
# Answers whose button payload the dialogue turns into a place in the queue (or the closed notice).
PERSON_ANSWERS = ("handoff_queued",)


@dataclass(frozen=True)
class Limits:
    """The thresholds stated in content/guidelines.md."""

    lix_max: float = 40.0
    lix_warn: float = 35.0
    bubble_words_max: int = 35
    bubble_words_warn: int = 25
    sentence_words_max: int = 20
    sentence_words_warn: int = 15
    bubble_sentences_warn: int = 3
    bubbles_warn: int = 5
    buttons_max: int = 7
    label_chars_max: int = 40


LIMITS = Limits()
