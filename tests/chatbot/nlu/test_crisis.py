"""The crisis safety check: 100 % recall on every crisis list we have, and a measured false-positive rate."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chatbot.nlu import data
from chatbot.nlu.classifier import Prediction
from chatbot.nlu.crisis import CrisisCheck, CrisisDetector
from chatbot.nlu.literals import required
from chatbot.nlu.text import normalise
from tests.chatbot.nlu.helpers import (
    NLU_DIR,
    crisis_list,
    heldout,
    life_list,
    project_data,
    project_model,
    unseen_list,
)

ARABIC_HELDOUT = NLU_DIR / "heldout" / "ar"

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


def _holds_one_of(items: Any, strings: tuple[str, ...]) -> bool:
    """Whether every match of this parsed regex (re._parser) contains one of `strings`: a sequence does
    when a run of its literal characters (zero-width \\b, ^, $ in between) contains one, or one of its
    parts does; a group when its content does; a branch when all its alternatives do; a repeat when it
    repeats at least once and its body does. Anything else: no promise."""
    run = ""
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            run += chr(av)
            if any(s in run for s in strings):
                return True
            continue
        if name == "AT":
            continue
        run = ""
        if name == "SUBPATTERN" and not av[1] and _holds_one_of(av[-1], strings):
            return True
        if name == "BRANCH" and all(_holds_one_of(alt, strings) for alt in av[1]):
            return True
        if (
            name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
            and av[0] >= 1
            and _holds_one_of(av[2], strings)
        ):
            return True
    return False


def _reference_check_text(text: str) -> CrisisCheck:
    """The check as it was before the prefilter (issue 17, third pass): every pattern, in order."""
    from chatbot.nlu import crisis

    folded = crisis._HYPERBOLE.sub(" ", normalise(text))
    for name, pattern in crisis._COMPILED:
        if pattern.search(folded):
            return CrisisCheck(True, name)
    for word in crisis._WORD.findall(folded):
        reason = crisis._keyword(word)
        if reason:
            return CrisisCheck(True, reason)
    return crisis.NOT_CRISIS


def _all_messages() -> list[str]:
    return [
        *(
            e.text
            for s in (crisis_list(), heldout(), life_list(), unseen_list(), project_data())
            for e in s.examples
        ),
        *(e.text for path in sorted(ARABIC_HELDOUT.glob("*.yml")) for e in data.load(path).examples),
    ]


def test_every_pattern_needs_one_of_its_prefilter_strings() -> None:
    """A message holding none of a pattern's required strings skips it (issue 17, CPU per message): safe
    only because no match of the pattern can lack them all. Proved from each pattern's syntax by a checker
    of its own, not by examples."""
    from re import _parser  # type: ignore[attr-defined]

    from chatbot.nlu import crisis

    patterns = {name: pattern.pattern for name, pattern in crisis._RULES}
    unproved = []
    for k, (name, pattern) in enumerate(patterns.items()):
        needs = crisis._PREFILTER.needs[k]
        assert needs, name  # every pattern we have is filtered (None would mean it always runs)
        assert re.compile(pattern).flags == re.UNICODE, name  # no (?i): literals stand for themselves
        if not _holds_one_of(_parser.parse(pattern), needs):
            unproved.append(name)
        # And the checker is not a yes to everything: no pattern needs a string none of its matches has.
        assert not _holds_one_of(_parser.parse(pattern), ("\x00",)), name
    assert unproved == []
    # The checker and the derivation say no where a match can lack the strings.
    assert not _holds_one_of(_parser.parse(r"\b(vill|kan) do"), ("vill",))
    assert not _holds_one_of(_parser.parse(r"(vill)? do"), ("vill",))
    assert not _holds_one_of(_parser.parse(r"x(?i:vill)"), ("vill",))
    assert _holds_one_of(_parser.parse(r"\b(vill|ville|kan) do"), ("vill", "kan"))
    assert required(r"(vill)? do") == (" do",)
    assert required(r"(vill|ville) (do|doo)") == ("vill",)
    assert required(r"\w+(a|b|x*)") is None
    assert required(r"(?i)vill") is None and required(r"a(?i:vill)") == ("a",)
    assert required(r"vill|") is None


def test_the_prefilter_gives_the_same_verdict_and_reason_on_every_message() -> None:
    """The same answer and the same first rule with and without the prefilter, and no pattern that
    matches a message is left out of its candidates."""
    from chatbot.nlu import crisis

    detector = CrisisDetector()
    texts = _all_messages()
    assert [detector.check_text(t) for t in texts] == [_reference_check_text(t) for t in texts]
    for text in texts:
        folded = normalise(text)
        candidates = crisis._PREFILTER.candidates(folded)
        for k, (name, pattern) in enumerate(crisis._RULES):
            if pattern.search(folded):
                assert candidates >> k & 1 and crisis._PREFILTER.holds(k, folded), (name, k)
    # The prefilter does skip: a plain greeting leaves only the patterns with a string under three letters
    # (never skipped) and those with a string holding "hej" ("hej da").
    kept = {
        k
        for k, needs in enumerate(crisis._PREFILTER.needs)
        if needs and (min(map(len, needs)) < 3 or any("hej" in s for s in needs))
    }
    hej = crisis._PREFILTER.candidates(normalise("hej"))
    assert {k for k in range(len(crisis._RULES)) if hej >> k & 1} == kept
    assert len(kept) <= 4
