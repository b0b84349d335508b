"""Children's lives beyond this line (issue 18): out of scope, overstatement is not a crisis, warning signs are.

The held-out set `content/nlu/heldout/life.yml` was written and committed before the training data and the
patterns were changed for it; the floors below are under what it measured (docs/nlu.md), so a change that
makes the model worse on messages it never saw fails here.
"""

from __future__ import annotations

import pytest

from chatbot.nlu.classifier import EmbeddedClassifier
from chatbot.nlu.crisis import CrisisDetector
from chatbot.nlu.service import Nlu
from tests.chatbot.nlu_helpers import heldout, life_list, project_data, project_model, unseen_list

THRESHOLD = 0.6
# Measured 48 of 59 (0.81) on 2026-12-04; the issue's target is 0.75.
MIN_OUT_OF_SCOPE_RECALL = 0.75
MAX_FALSE_ALARMS = 8


async def _acted(texts: list[str]) -> list[str]:
    """What the dialogue acts on: crisis when the check fires, else a confident intent, else '?'."""
    nlu = Nlu(EmbeddedClassifier(project_model(), THRESHOLD))
    try:
        result = []
        for text in texts:
            understood = await nlu.understand(text)
            result.append("crisis" if understood.crisis.crisis else understood.intent or "?")
        return result
    finally:
        await nlu.aclose()


# Crisis precision (issue 18's target: 0.9 with recall 1.0), measured as the dialogue acts.
MIN_CRISIS_PRECISION = 0.9


def _crisis_counts(gold: list[str], acted: list[str]) -> tuple[int, int, int]:
    """True alarms, false alarms, missed crises."""
    pairs = list(zip(gold, acted, strict=True))
    true = sum(g == "crisis" and a == "crisis" for g, a in pairs)
    false = sum(g != "crisis" and a == "crisis" for g, a in pairs)
    return true, false, sum(g == "crisis" and a != "crisis" for g, a in pairs)


async def test_crisis_precision_on_the_unseen_set_with_every_crisis_caught() -> None:
    """content/nlu/heldout/unseen.yml was written before the false alarms of test.yml and life.yml were
    fixed, and nothing was tuned on it (its one first-run miss became a pattern: docs/nlu.md)."""
    unseen = unseen_list()
    true, false, missed = _crisis_counts(list(unseen.labels), await _acted(list(unseen.texts)))
    assert true >= 25 and missed == 0
    assert true / (true + false) >= MIN_CRISIS_PRECISION


async def test_crisis_precision_on_the_heldout_test_and_life_sets_together() -> None:
    gold = [*heldout().labels, *life_list().labels]
    true, false, missed = _crisis_counts(gold, await _acted([*heldout().texts, *life_list().texts]))
    assert missed == 0
    assert true / (true + false) >= MIN_CRISIS_PRECISION


def test_unseen_set_is_never_in_the_training_data() -> None:
    training = {" ".join(t.casefold().split()) for t in project_data().texts}
    assert not [t for t in unseen_list().texts if " ".join(t.casefold().split()) in training]


# The issue's table: every message comes out right.
ISSUE_TABLE = [
    ("jag blir retad varje dag i klassen", "out_of_scope"),
    ("jag är förälskad i en kille i parallellklassen", "out_of_scope"),
    ("mamma och pappa skriker på varandra varje kväll", "out_of_scope"),
    ("det här provet kommer döda mig", "out_of_scope"),
    ("jag har gett bort alla mina saker", "crisis"),
    ("en kille jag snackat med på discord har fått nudes av mig o nu lägger han ut dom", "takedown_help"),
]


async def test_the_issue_table_comes_out_right() -> None:
    texts = [text for text, _ in ISSUE_TABLE]
    assert list(zip(texts, await _acted(texts), strict=True)) == ISSUE_TABLE


async def test_heldout_life_topics_are_out_of_scope_and_every_crisis_is_caught() -> None:
    life = life_list()
    acted = await _acted(life.texts)
    pairs = list(zip(life.labels, acted, strict=True))
    topics = [a for gold, a in pairs if gold == "out_of_scope"]
    crises = [a for gold, a in pairs if gold == "crisis"]
    assert len(topics) >= 50 and len(crises) >= 20
    assert sum(a == "out_of_scope" for a in topics) / len(topics) >= MIN_OUT_OF_SCOPE_RECALL
    assert crises == ["crisis"] * len(crises)
    # Measured 6 false alarms of 67 on 2026-12-04 (docs/nlu.md names them); more means the check drifted.
    alarms = [a for gold, a in pairs if gold != "crisis" and a == "crisis"]
    assert len(alarms) <= MAX_FALSE_ALARMS
    takedown = [a for gold, a in pairs if gold == "takedown_help"]
    assert takedown.count("takedown_help") >= len(takedown) - 1


@pytest.mark.parametrize(
    "text",
    [
        "det här provet kommer döda mig",
        "matten idag kommer ta livet av mig",
        "laxan dodar mig",
        "jag skrattade ihjäl mig",
        "jag dog av skratt",
        "this test is gonna kill me",
        "homework is literally killing me",
        "i died laughing",
        "im dead lol",
    ],
)
def test_overstatement_about_things_fires_no_pattern(text: str) -> None:
    assert not CrisisDetector().check_text(text).crisis


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # Cutting the overstatement leaves the rest of the message checked.
        ("provet kommer döda mig och jag vill dö", "sv_want_die"),
        ("jag skrattade ihjäl mig men egentligen vill jag ta livet av mig", "sv_take_life"),
        ("this test is gonna kill me and i want to kill myself", "en_kill_self"),
        # A person's threat is never overstatement.
        ("pappa kommer döda mig", "sv_threat_person"),
        ("han kommer att döda mig", "sv_threat_person"),
        ("my dad is gonna kill me", "en_violence"),
        # Warning signs without a word about dying.
        ("jag har gett bort alla mina saker", "sv_give_away"),
        ("har skänkt bort allt", "sv_give_away"),
        ("jag har sagt hejdå till alla", "sv_farewell"),
        ("alla har det bättre utan mig", "sv_burden"),
        ("jag vill somna och slippa allt för alltid", "sv_forever_sleep"),
        ("i gave away all my stuff", "en_give_away"),
        ("i said goodbye to everyone", "en_farewell"),
        ("everyone is better without me", "en_burden"),
    ],
)
def test_warning_signs_threats_and_what_follows_overstatement_are_crisis(text: str, reason: str) -> None:
    check = CrisisDetector().check_text(text)
    assert (check.crisis, check.reason) == (True, reason)
