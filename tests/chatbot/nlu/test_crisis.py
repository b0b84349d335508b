"""The crisis safety check: 100 % recall on every crisis list we have, and a measured false-positive rate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chatbot.nlu.classifier import Prediction
from chatbot.nlu.crisis import CrisisDetector
from tests.chatbot.nlu.helpers import crisis_list, heldout, project_data, project_model

# Measured 4 of 322 (1.2 %) on the held-out non-crisis messages on 2026-11-22 (docs/nlu.md).
MAX_FALSE_POSITIVE_RATE = 0.03


def _prediction(text: str) -> Prediction:
    return Prediction.from_scored(project_model().predict(text), "embedded", 0.6)


def _crisis_messages() -> list[str]:
    return [
        e.text
        for source in (crisis_list(), heldout(), project_data())
        for e in source.examples
        if e.intent == "crisis"
    ]


def test_recall_is_100_percent_on_every_crisis_message() -> None:
    detector = CrisisDetector()
    missed = [t for t in _crisis_messages() if not detector.check(t, _prediction(t)).crisis]
    assert missed == []


def test_the_patterns_alone_catch_every_crisis_message_of_the_heldout_lists() -> None:
    """Without the classifier too (e.g. Rasa answered, or a state where nothing is classified)."""
    detector = CrisisDetector()
    texts = [e.text for s in (crisis_list(), heldout()) for e in s.examples if e.intent == "crisis"]
    assert [t for t in texts if not detector.check_text(t).crisis] == []


def test_false_positive_rate_on_heldout_non_crisis_messages() -> None:
    detector = CrisisDetector()
    others = [e.text for e in heldout().examples if e.intent != "crisis"]
    alarms = [t for t in others if detector.check(t, _prediction(t)).crisis]
    assert len(alarms) / len(others) <= MAX_FALSE_POSITIVE_RATE, alarms


@pytest.mark.parametrize(
    "text",
    [
        "SJÄLVMORD",
        "sjalvmord",
        "självmort",  # a typo
        "sjävlmord",  # swapped letters
        "sjalvmordstankarna",
        "suicde",
        "i feel suicidal",
        "jag vill dööööö",
        "JAG VILL INTE LEVA",
        "i dont wanna be alive",
        "he's outside my door",
        "kms",
    ],
)
def test_spellings_case_and_stretched_letters(text: str) -> None:
    assert CrisisDetector().check_text(text).crisis


@pytest.mark.parametrize(
    "text",
    [
        "jag dör av skratt",
        "jag skäms ihjäl",
        "den här läxan dödar mig",
        "this homework is killing me",
        "hur tar jag bort mitt konto",
        "ta bort mitt konto",
        "jag är inte säker på det",
        "jag vill göra allt för att få bort bilden",
        "i will do it tomorrow",
        "can i end the chat",
    ],
)
def test_everyday_phrases_are_not_alarms(text: str) -> None:
    assert not CrisisDetector().check_text(text).crisis


def test_the_classifier_catches_what_the_patterns_do_not_know() -> None:
    text = "allt känns svart och jag vill inte vara med längre"
    detector = CrisisDetector(classifier_threshold=0.0001)
    assert not detector.check_text(text).crisis
    check = detector.check(text, _prediction(text))
    assert check.crisis and check.reason == "classifier:embedded"


def test_reason_is_a_rule_name_never_the_message() -> None:
    text = "jag vill ta livet av mig"
    check = CrisisDetector().check_text(text)
    assert check.crisis
    assert check.reason == "sv_take_life"
    assert text not in check.reason


def _requires(items: Any, letter: Callable[[int], bool]) -> bool:
    """Whether every match of this parsed regex (re._parser) holds a character `letter` accepts: a
    sequence does when one of its parts does; a branch when all its alternatives do; a repeat when it
    repeats at least once; a set when all its members are such characters. Anything else: no promise."""
    for op, av in items:
        name = str(op)
        if name == "LITERAL" and letter(av):
            return True
        if (
            name == "IN"
            and av
            and all(
                (str(o) == "LITERAL" and letter(a))
                or (str(o) == "RANGE" and all(letter(c) for c in range(a[0], a[1] + 1)))
                for o, a in av
            )
        ):
            return True
        if name == "SUBPATTERN" and _requires(av[-1], letter):
            return True
        if name in ("ATOMIC_GROUP",) and _requires(av, letter):
            return True
        if name == "BRANCH" and all(_requires(alt, letter) for alt in av[1]):
            return True
        if (
            name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
            and av[0] >= 1
            and _requires(av[2], letter)
        ):
            return True
    return False


def test_every_pattern_skipped_without_an_arabic_letter_needs_one() -> None:
    """A message without an Arabic letter skips the Arabic-script patterns (issue 17, CPU per message):
    safe only because no match of them can lack one. Proved from each pattern's syntax, not by examples."""
    from re import _parser  # type: ignore[attr-defined]

    from chatbot.nlu import crisis

    def arabic(code: int) -> bool:
        return 0x0600 <= code <= 0x06FF

    assert {n for n in crisis._PATTERNS if n.startswith("ar_") and "latin" not in n} == crisis._NEEDS_ARABIC
    unproved = [
        n for n in sorted(crisis._NEEDS_ARABIC) if not _requires(_parser.parse(crisis._PATTERNS[n]), arabic)
    ]
    assert unproved == []
    # And the proof can fail: a Latin or Arabizi pattern does not need an Arabic letter.
    assert not _requires(_parser.parse(crisis._PATTERNS["sv_want_die"]), arabic)
    assert not _requires(_parser.parse(crisis._PATTERNS["ar_latin_suicide"]), arabic)
    assert not _requires(_parser.parse(r"(ب|x)"), arabic) and _requires(_parser.parse(r"\w*(ب|ت)+"), arabic)
    # The same answers with and without the skip, on every message we have.
    detector = CrisisDetector()
    texts = [e.text for s in (crisis_list(), heldout(), project_data()) for e in s.examples]
    skipped_list = crisis._LATIN_ONLY
    try:
        with_skip = [detector.check_text(t) for t in texts]
        crisis._LATIN_ONLY = crisis._COMPILED
        without = [detector.check_text(t) for t in texts]
    finally:
        crisis._LATIN_ONLY = skipped_list
    assert with_skip == without
