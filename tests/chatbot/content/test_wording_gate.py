"""The wording gate (blame, promise, personal data) reads meaning: the issue's sentences, the whole bank, negation,
warnings when unsure, and the held-out measurement."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.cli import main
from chatbot.content.gate_eval import evaluate, load_heldout
from chatbot.content.gate_tune import format_tuning, tune
from chatbot.content.guidelines.findings import Level
from chatbot.content.guidelines.report import check_library
from chatbot.content.guidelines.rules import check_sentence
from chatbot.content.library import ContentLibrary
from chatbot.content.wording import read
from chatbot.content.wording_bank import BANK_DIR, RULES, TRAINING_SETS, load_bank
from chatbot.settings import PROJECT_ROOT

from .test_guidelines import Copy, violations

BANK = load_bank()
HELDOUT = PROJECT_ROOT / "content" / "guidelines" / "heldout.yml"


def rules_of(sentence: str, locale: str, level: Level | None = None) -> set[str]:
    return {f.rule for f in check_sentence(sentence, locale) if level is None or f.level is level}


# --- the sentences of issue 21 ----------------------------------------------------------------------------

ISSUE = [
    ("Du kunde ha sagt nej.", "sv", "blame"),
    ("Why didn't you block him earlier?", "en", "blame"),
    ("Vi raderar den åt dig.", "sv", "promise"),
    ("Sen är det över, den syns inte mer.", "sv", "promise"),
    ("I'm sure it'll all work out.", "en", "promise"),
    ("Vilken klass går du i?", "sv", "personal_data"),
    ("How old are you and where are you from?", "en", "personal_data"),
]


@pytest.mark.parametrize(("sentence", "locale", "rule"), ISSUE)
def test_the_issues_sentences_are_violations_of_the_right_rule(sentence: str, locale: str, rule: str) -> None:
    assert rules_of(sentence, locale, Level.VIOLATION) == {rule}


def test_an_issue_sentence_in_an_answer_fails_content_check(copy: Copy) -> None:
    copy.replace(
        "takedown_what_we_do",
        "Vi kontaktar sidan där den ligger och ber dem ta bort den.",
        "Vi raderar den åt dig.",
    )
    found = violations(copy.check(require=()), "promise", "takedown_what_we_do", "sv")
    assert found == [
        "bubble 2: 'Vi raderar' says we will remove or fix it: we can only try; write 'vi försöker få bort den'"
    ]


@pytest.fixture
def copy(tmp_path: Path) -> Copy:
    return Copy(tmp_path)


# --- the bank: every labelled sentence, every run -----------------------------------------------------------

BANK_CASES = [
    pytest.param(rule, language, label, sentence, id=f"{rule}-{language}-{label}-{i}")
    for rule in RULES
    for language, examples in BANK.rules[rule].items()
    for label in ("violations", "clean")
    for i, sentence in enumerate(getattr(examples, label))
]


@pytest.mark.parametrize(("rule", "language", "label", "sentence"), BANK_CASES)
def test_the_bank(rule: str, language: str, label: str, sentence: str) -> None:
    found = rules_of(sentence, language)
    if label == "violations":
        assert rule in found, f"{sentence!r} is labelled a {rule} violation but the gate lets it pass"
    else:
        assert rule not in found, f"{sentence!r} is labelled clean for {rule} but the gate flags it"


def test_the_banks_answer_sentences_are_clean_for_every_rule() -> None:
    flagged = [
        (language, sentence, rules_of(sentence, language))
        for language, sentences in BANK.clean.items()
        for sentence in sentences
        if rules_of(sentence, language)
    ]
    assert flagged == []


def test_the_bank_has_violations_and_clean_sentences_per_rule_and_language() -> None:
    for rule in RULES:
        for language in ("sv", "en", "ar"):
            examples = BANK.examples(rule, language)
            assert examples.violations and examples.clean, (rule, language)
    assert sorted(p.name for p in BANK_DIR.glob("*.yml")) == [
        "answers.yml",
        "blame.yml",
        "overrules.yml",
        "personal_data.yml",
        "promise.yml",
    ]


# --- meaning, not phrase -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "locale", "rule"),
    [
        ("Den tar vi bort.", "sv", "promise"),  # inversion
        ("Det lovar vi.", "sv", "promise"),
        ("Vi ser till att den försvinner.", "sv", "promise"),
        ("Det fixar vi.", "sv", "promise"),
        ("We'll make sure it's deleted.", "en", "promise"),
        ("Nästa gång ska du inte skicka något.", "sv", "blame"),  # blame hidden in advice
        ("Next time, don't reply to him.", "en", "blame"),
        ("Varför svarade du inte?", "sv", "blame"),  # question with negation
        ("Vilken årskurs går du i?", "sv", "personal_data"),
        ("What's your Snapchat?", "en", "personal_data"),
    ],
)
def test_meaning_in_any_word_order(sentence: str, locale: str, rule: str) -> None:
    assert rule in rules_of(sentence, locale, Level.VIOLATION)


@pytest.mark.parametrize(
    ("sentence", "locale"),
    [
        ("Vi kan inte lova att den försvinner.", "sv"),  # negation that really negates
        ("We can't promise it will disappear.", "en"),
        ("Vi frågar aldrig var du bor.", "sv"),
        ("Du skulle inte ha behövt vara med om det här.", "sv"),
        ("You shouldn't have had to go through this.", "en"),
        ("Nästa gång du vill prata finns vi här.", "sv"),
        ("Vi försöker få bort den.", "sv"),
        ("Det är helt ditt val.", "sv"),
    ],
)
def test_negation_hedges_and_choices_pass(sentence: str, locale: str) -> None:
    assert check_sentence(sentence, locale) == []


def test_negation_that_states_an_outcome_is_still_a_promise() -> None:
    """'den syns inte mer' negates a verb but promises an outcome: the negation does not take the promise away."""
    assert rules_of("Den syns inte mer.", "sv", Level.VIOLATION) == {"promise"}
    assert rules_of("Nobody will ever see it.", "en", Level.VIOLATION) == {"promise"}
    assert rules_of("Du borde inte ha svarat.", "sv", Level.VIOLATION) == {"blame"}


def test_an_unsure_reading_is_a_warning_with_the_reason() -> None:
    [finding] = check_sentence("Appen måste radera den.", "sv")
    assert finding.level is Level.WARNING and finding.rule == "promise"
    assert "nobody can promise" in finding.message and "a reviewer decides" in finding.message


def test_the_classifier_warns_where_no_pattern_matches_and_names_the_closest_example() -> None:
    [finding] = check_sentence("That was all you.", "en")
    assert finding.level is Level.WARNING and finding.rule == "blame"
    assert "reads like a blame example in the bank" in finding.message and "% alike" in finding.message
    assert "content/guidelines/bank/" in finding.message


def test_a_language_without_wording_checks_is_a_warning_not_a_silent_pass() -> None:
    [finding] = check_sentence("Jeg lover at vi sletter det.", "nb")
    assert finding.level is Level.WARNING and finding.rule == "wording"


def test_arabic_phrase_lists_still_work() -> None:
    assert rules_of("سنزيلها لك.", "ar", Level.VIOLATION) == {"promise"}
    assert rules_of("لا نسألك أبداً عن اسمك.", "ar") == set()


def test_the_real_answers_get_no_wording_finding() -> None:
    report = check_library(ContentLibrary.load(PROJECT_ROOT / "content", PROJECT_ROOT / "locales"))
    wording = [
        (entry.answer_id, f.locale, f.message)
        for entry in report.answers
        for f in entry.findings
        if f.rule in {*RULES, "wording"}
    ]
    assert wording == []


# --- normalisation -------------------------------------------------------------------------------------------


def test_normalisation_lemmas_contractions_and_the_editors_words() -> None:
    sentence = read("Den tog vi bort, men vi kan inte lova något.", "sv")
    assert [c.text for c in sentence.clauses] == ["den ta vi bort", "men vi kunna inte lova något"]
    english = read("It'll be gone, won't it? No one's there.", "en")
    assert english.clauses[0].text == "it will be gone"
    assert english.clauses[1].text.startswith("will not it")
    clause = read("We'll delete it for you.", "en").clauses[0]
    assert clause.text == "we will delete it for you"
    assert clause.surface(0, len("we will delete")) == "We'll delete"


# --- measurement ---------------------------------------------------------------------------------------------


# The sets whose misses were read while changing the gate: no longer a measure, so kept as regression guards
# (and the classifier's training material, TRAINING_SETS). heldout9.yml is the current measure and is left out
# (docs/content.md records its figures).
SPENT = tuple(path.name for path in TRAINING_SETS)


@pytest.mark.parametrize("name", SPENT)
def test_held_out_recall_and_false_alarms_meet_the_target(name: str) -> None:
    """The issue's target, kept as a regression guard: recall >= 0.9 per rule and language, at most one false
    alarm in twenty clean sentences. (Do not tune against the held-out file; docs/content.md.)"""
    for score in evaluate(load_heldout(HELDOUT.parent / name)):
        for rule in RULES:
            assert score.recall(rule) >= 0.9, (score.locale, rule, score.missed[rule])
        assert score.false_alarm_rate <= 1 / 20, (score.locale, score.false_alarms)


def test_gate_eval_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "gate-eval"]) == 0
    out = capsys.readouterr().out
    assert "sv    personal_data" in out and "en    clean          false alarms" in out


def test_gate_eval_refuses_a_malformed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "heldout.yml"
    bad.write_text("sv:\n  blaming: [x]\n", encoding="utf-8")
    assert main(["content", "gate-eval", "--heldout", str(bad)]) == 1
    assert "expected the keys" in capsys.readouterr().err


def test_asking_for_a_name_fails_and_mentioning_it_is_left_to_the_reviewer() -> None:
    assert rules_of("Skriv ditt namn.", "sv", Level.VIOLATION) == {"personal_data"}
    assert rules_of("Tell us your full name.", "en", Level.VIOLATION) == {"personal_data"}
    [mention] = check_sentence("Ditt namn sparas hos oss.", "sv")
    assert mention.level is Level.WARNING and "check that it does not ask" in mention.message


# --- this round (issue 21, heldout7): pictures, whereabouts, chat spelling, advice about him -----------------


@pytest.mark.parametrize(
    ("sentence", "locale"),
    [
        ("Skicka gärna en bild på dig själv.", "sv"),
        ("Kan du dela din position med oss?", "sv"),
        ("Vad är ditt personnummer?", "sv"),
        ("Could you send us a picture of yourself?", "en"),
        ("Please share your location.", "en"),
        ("What's your social security number?", "en"),
        ("wats ur snap?", "en"),
    ],
)
def test_asking_for_a_picture_whereabouts_or_identity_number_is_personal_data(
    sentence: str, locale: str
) -> None:
    assert "personal_data" in rules_of(sentence, locale)


@pytest.mark.parametrize(
    ("sentence", "locale"),
    [
        ("Du har kvar din plats i kön.", "sv"),  # a place in the queue, not where the child is
        ("Här får du hjälp om någon delar bilder på dig.", "sv"),
        ("Someone shares pictures of you? We can help.", "en"),
        ("Vi sparar aldrig ditt personnummer.", "sv"),
        ("Nästa gång han skriver kan du spara meddelandet.", "sv"),  # advice about his next act
        ("Next time he messages, you can save it.", "en"),
    ],
)
def test_pictures_of_the_child_places_and_advice_about_him_that_ask_nothing_pass(
    sentence: str, locale: str
) -> None:
    assert check_sentence(sentence, locale) == []


def test_chat_spelling_and_missing_diacritics_are_read_as_the_words_meant() -> None:
    assert (
        read("Varfor sa du inte nej?", "sv").clauses[0].text
        == read("Varför sa du inte nej?", "sv").clauses[0].text
    )
    assert read("why didnt u tell ur mom", "en").clauses[0].text == "why did not you tell your mom"
    assert "blame" in rules_of("u shouldve blocked him", "en", Level.VIOLATION)


def test_the_classifier_learns_from_the_spent_sets_never_from_the_measure() -> None:
    names = [path.name for path in TRAINING_SETS]
    assert "heldout8.yml" in names and "heldout9.yml" not in names
    bank = load_bank()
    assert any(s == "Vem skickar bilder till någon man aldrig har träffat?" for s, _ in bank.spent["sv"])


def test_gate_tune_leaves_each_set_out_and_prints_recall_and_false_warnings() -> None:
    sets = [TRAINING_SETS[0], TRAINING_SETS[1]]
    tunings = tune(sets, ("en",))
    [english] = tunings
    assert {r.label for r in english.rows} == {*RULES, ""}
    assert 0 <= english.classifier_false_warnings(0.6) <= 1
    assert (
        0.5 < english.gate_recall("personal_data", 0.6) <= 1
        and 0.5 < english.classifier_recall("promise", 0.6) <= 1
    )
    out = format_tuning(tunings, (0.5,))
    assert out.splitlines()[1].startswith("en         0.50")


# --- the round after heldout8: his age, the child's opinion, regret, hyphenated words ------------------------


@pytest.mark.parametrize(
    ("sentence", "locale", "rule"),
    [
        ("Det är synd att du inte blockerade honom.", "sv", "blame"),
        ("It's a pity you didn't tell anyone.", "en", "blame"),
        ("Du var väl medveten om riskerna.", "sv", "blame"),
        ("Skriv din e-postadress.", "sv", "personal_data"),
        ("What's your e-mail?", "en", "personal_data"),
        ("When will you turn fifteen?", "en", "personal_data"),
        ("Hur gammal var du när det började?", "sv", "personal_data"),
    ],
)
def test_regret_awareness_hyphenated_contacts_and_birthdays(sentence: str, locale: str, rule: str) -> None:
    assert rule in rules_of(sentence, locale)


@pytest.mark.parametrize(
    ("sentence", "locale"),
    [
        ("Vad tänker du om att anmäla honom?", "sv"),  # asks an opinion, not "what were you thinking"
        ("Vet du hur gammal killen är?", "sv"),  # his age, not the child's
        ("Do you know how old the guy is?", "en"),
    ],
)
def test_an_opinion_and_the_offenders_age_are_fine_questions(sentence: str, locale: str) -> None:
    """No pattern calls them a violation (the classifier may still ask a reviewer to look)."""
    assert rules_of(sentence, locale, Level.VIOLATION) == set()
