"""The crisis safety check: 100 % recall on every crisis list we have, and a measured false-positive rate."""

from __future__ import annotations

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
