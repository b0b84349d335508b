"""The rules each answer meets in each language: readability, blame, personal data, promises, crisis numbers,
placeholders, a next step and a way to a person; and the wording rules on one sentence as an editor types."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from chatbot.content.catalogs import SOURCE_LOCALE
from chatbot.content.guidelines.contract import (
    CRISIS_NUMBERS,
    EMERGENCY_ANSWERS,
    LIMITS,
    PERSON_ANSWERS,
    PERSON_INTENTS,
    RESPONSIBILITY_INTENTS,
    Limits,
)
from chatbot.content.guidelines.findings import T_, Finding, Level, Words, braced, finding, quote, words
from chatbot.content.guidelines.phrases import ARABIC_REASONS, PHRASES, search, unvocalised
from chatbot.content.guidelines.readability import end_bubble, lix, sentences
from chatbot.content.guidelines.readability import words as word_list
from chatbot.content.library import Answer, ContentLibrary, placeholder_names
from chatbot.content.wording import split_sentences
from chatbot.content.wording_bank import default_classifier
from chatbot.content.wording_rules import judge, negated
from chatbot.content.wording_rules import languages as wording_languages


@dataclass(frozen=True)
class Text:
    """An answer's wording in one language, as the rules see it."""

    locale: str
    bubbles: tuple[str, ...]
    labels: tuple[str, ...]


Rule = Callable[[Answer, Text, ContentLibrary, Limits], list[Finding]]


def rule_readability(answer: Answer, text: Text, library: ContentLibrary, limits: Limits) -> list[Finding]:
    """Guideline 4: short and simple."""
    found: list[Finding] = []

    def add(level: Level, template: str, **values: str | int) -> None:
        found.append(finding(level, "readability", words(template, **values), text.locale))

    value = lix(" ".join(end_bubble(b) for b in text.bubbles))
    score, top = f"{value:.0f}", f"{limits.lix_max:.0f}"
    if value > limits.lix_max:
        add(
            Level.VIOLATION,
            T_("LIX %(score)s is above %(max)s: use shorter sentences and words"),
            score=score,
            max=top,
        )
    elif value > limits.lix_warn:
        add(Level.WARNING, T_("LIX %(score)s: close to the limit of %(max)s"), score=score, max=top)
    if len(text.bubbles) > limits.bubbles_warn:
        add(
            Level.WARNING,
            T_("%(count)s bubbles; more than %(most)s is a lot to read"),
            count=len(text.bubbles),
            most=limits.bubbles_warn,
        )
    for i, bubble in enumerate(text.bubbles, 1):
        count = len(word_list(bubble))
        if count > limits.bubble_words_max:
            add(
                Level.VIOLATION,
                T_("bubble %(n)s has %(count)s words (at most %(most)s)"),
                n=i,
                count=count,
                most=limits.bubble_words_max,
            )
        elif count > limits.bubble_words_warn:
            add(
                Level.WARNING,
                T_("bubble %(n)s has %(count)s words (aim for %(most)s or fewer)"),
                n=i,
                count=count,
                most=limits.bubble_words_warn,
            )
        parts = sentences(bubble)
        if len(parts) > limits.bubble_sentences_warn:
            add(
                Level.WARNING,
                T_("bubble %(n)s has %(count)s sentences: one idea per bubble"),
                n=i,
                count=len(parts),
            )
        for sentence in parts:
            n = len(word_list(sentence))
            if n > limits.sentence_words_warn:
                level = Level.VIOLATION if n > limits.sentence_words_max else Level.WARNING
                add(
                    level,
                    T_("bubble %(n)s: a sentence of %(count)s words: %(sentence)s"),
                    n=i,
                    count=n,
                    sentence=quote(sentence),
                )
    for label in text.labels:
        if len(label) > limits.label_chars_max:
            add(
                Level.VIOLATION,
                T_("button %(label)s is longer than %(most)s characters"),
                label=quote(label),
                most=limits.label_chars_max,
            )
    return found


def _wording(rule: str, text: Text, parts: Sequence[str]) -> list[Finding]:
    """Findings of one wording rule over the bubbles (and labels) in `parts`, explained for the editor.

    Swedish and English are read for meaning (chatbot.content.wording_rules); a sentence no pattern flags
    but that reads like the bank's violations is a warning for the reviewer (chatbot.content.wording_bank).
    Arabic uses the phrase lists above. Any other language is not checked, and the reviewer is told so."""
    language = text.locale.split("_")[0]
    found: list[Finding] = []

    def where(i: int, part: str) -> Words:
        if i <= len(text.bubbles):
            return words(T_("bubble %(n)s"), n=i)
        return words(T_("button %(label)s"), label=quote(part))

    if language in wording_languages():
        classifier = default_classifier()
        for i, part in enumerate(parts, 1):
            for sentence in split_sentences(part):
                hits = [j for j in judge(sentence, language) if j.rule == rule]
                for hit in hits:
                    level = Level.VIOLATION if hit.sure else Level.WARNING
                    template = (
                        T_("%(where)s: %(words)s %(reason)s")
                        if hit.sure
                        else T_("%(where)s: %(words)s %(reason)s (the gate is not sure: a reviewer decides)")
                    )
                    said = words(
                        template, where=where(i, part), words=repr(hit.words), reason=words(hit.reason)
                    )
                    found.append(finding(level, rule, said, text.locale))
                if hits or rule in negated(sentence, language):
                    continue
                for suspicion in classifier.suspect(sentence, language):
                    if suspicion.rule == rule:
                        said = words(
                            T_(
                                "%(where)s: %(sentence)s reads like a %(kind)s example in the bank "
                                "(%(closest)s; %(percent)s %% alike by the classifier), though no rule matched: "
                                "a reviewer decides, and adds the sentence to content/guidelines/bank/"
                            ),
                            where=where(i, part),
                            sentence=quote(sentence),
                            kind=words(RULE_NAMES[rule]),
                            closest=repr(suspicion.closest),
                            percent=f"{100 * suspicion.probability:.0f}",
                        )
                        found.append(finding(Level.WARNING, rule, said, text.locale))
        return found
    phrases = PHRASES.get(language)
    if phrases is None:
        if rule == "blame" and text.bubbles:
            note = words(
                T_(
                    "no automatic check of blame, promises or personal data in this language: a reviewer reads it"
                )
            )
            found.append(finding(Level.WARNING, "wording", note, text.locale))
        return found
    listed = {"blame": phrases.blame, "promise": phrases.promise, "personal_data": phrases.personal_data}[
        rule
    ]
    for i, part in enumerate(parts, 1):
        for sentence in re.split(r"(?<=[.!?؟])\s+|\n+", part):
            if rule == "personal_data" and re.search(phrases.negation, unvocalised(sentence), re.IGNORECASE):
                continue  # "we never ask for your name" is the promise we want to make
            phrase = search(listed, sentence)
            if phrase:
                said = words(
                    T_("%(where)s: %(words)s %(reason)s"),
                    where=where(i, part),
                    words=repr(phrase),
                    reason=words(ARABIC_REASONS[rule]),
                )
                found.append(finding(Level.VIOLATION, rule, said, text.locale))
    return found


RULE_NAMES = {"blame": T_("blame"), "promise": T_("promise"), "personal_data": T_("personal-data")}


def rule_blame(answer: Answer, text: Text, library: ContentLibrary, limits: Limits) -> list[Finding]:
    """Guideline 1: believe me, don't blame me."""
    found = _wording("blame", text, text.bubbles)
    phrases = PHRASES.get(text.locale.split("_")[0])
    if phrases is not None and answer.intent in RESPONSIBILITY_INTENTS:
        whole = unvocalised(" ".join(text.bubbles))
        if not re.search(phrases.not_your_fault, whole, re.IGNORECASE) or not re.search(
            phrases.who_is_responsible, whole, re.IGNORECASE
        ):
            said = words(
                T_(
                    "must say it is not the child's fault and that the one who threatens or spreads is "
                    "responsible"
                )
            )
            found.append(finding(Level.VIOLATION, "blame", said, text.locale))
    return found


def rule_personal_data(answer: Answer, text: Text, library: ContentLibrary, limits: Limits) -> list[Finding]:
    """Guideline 2: never ask for name, age, where the child lives, school, class or contact details."""
    return _wording("personal_data", text, text.bubbles)


def rule_promise(answer: Answer, text: Text, library: ContentLibrary, limits: Limits) -> list[Finding]:
    """Guideline 3: never promise what cannot be kept."""
    return _wording("promise", text, (*text.bubbles, *text.labels))


def rule_crisis(answer: Answer, text: Text, library: ContentLibrary, limits: Limits) -> list[Finding]:
    """Guideline 7: emergency numbers at once, in the first bubble, in every language."""
    if answer.intent != "crisis" and answer.id not in EMERGENCY_ANSWERS:
        return []
    missing = [n for n in CRISIS_NUMBERS if n not in text.bubbles[0]]
    if not missing:
        return []
    said = words(
        T_("the first bubble must give %(numbers)s; missing %(missing)s"),
        numbers=", ".join(CRISIS_NUMBERS),
        missing=", ".join(missing),
    )
    return [finding(Level.VIOLATION, "crisis", said, text.locale)]


def rule_placeholders(answer: Answer, text: Text, library: ContentLibrary, limits: Limits) -> list[Finding]:
    """Placeholders are declared, used, identical in translations and never in button labels."""
    found: list[Finding] = []
    used: set[str] = set()
    for i, bubble in enumerate(text.bubbles, 1):
        try:
            names = set(placeholder_names(bubble))
        except ValueError as exc:
            said = words(T_("bubble %(n)s: %(error)s"), n=i, error=str(exc))
            found.append(finding(Level.VIOLATION, "placeholders", said, text.locale))
            continue
        used |= names
        undeclared = names - set(answer.placeholders)
        if undeclared:
            said = words(
                T_("bubble %(n)s uses %(names)s, not declared in 'placeholders'"),
                n=i,
                names=braced(undeclared),
            )
            found.append(finding(Level.VIOLATION, "placeholders", said, text.locale))
    unused = set(answer.placeholders) - used
    if unused:
        level = Level.WARNING if text.locale == SOURCE_LOCALE else Level.VIOLATION
        said = words(T_("%(names)s declared but not used"), names=braced(unused))
        found.append(finding(level, "placeholders", said, text.locale))
    for label in text.labels:
        if "{" in label:
            said = words(T_("button %(label)s: no placeholders in buttons"), label=quote(label))
            found.append(finding(Level.VIOLATION, "placeholders", said, text.locale))
    return found


def rule_next_step(answer: Answer, text: Text, library: ContentLibrary, limits: Limits) -> list[Finding]:
    """Guidelines 3 and 6: a next step, and a way to a person (or when the line opens)."""
    if answer.kind == "notice" or text.locale != SOURCE_LOCALE:
        return []
    if answer.kind == "canned":
        return _canned_shape(answer)
    found: list[Finding] = []
    if not answer.buttons:
        found.append(
            finding(Level.VIOLATION, "next_step", words(T_("no buttons: every answer needs a next step")))
        )
    if len(answer.buttons) > limits.buttons_max:
        said = words(
            T_("%(count)s buttons (at most %(most)s)"), count=len(answer.buttons), most=limits.buttons_max
        )
        found.append(finding(Level.VIOLATION, "next_step", said))
    if not _offers_person(answer, library):
        said = words(T_("offers no way to a person: add a button to ask_human, or say when the line opens"))
        found.append(finding(Level.VIOLATION, "person", said))
    return found


def _canned_shape(answer: Answer) -> list[Finding]:
    """A canned reply is sent by a counsellor as one plain message: the counsellor is the next step and
    the person, so it needs no buttons, and it can carry none, nor an intent or a placeholder to fill."""
    found: list[Finding] = []
    if answer.buttons:
        said = words(T_("a canned reply has no buttons: a counsellor sends it"))
        found.append(finding(Level.VIOLATION, "canned", said))
    if answer.intent is not None:
        said = words(T_("a canned reply answers no intent: the bot never sends it"))
        found.append(finding(Level.VIOLATION, "canned", said))
    if answer.placeholders:
        said = words(T_("a canned reply takes no placeholders: it is sent as written"))
        found.append(finding(Level.VIOLATION, "canned", said))
    return found


ANSWER_RULES: tuple[Rule, ...] = (
    rule_readability,
    rule_blame,
    rule_personal_data,
    rule_promise,
    rule_crisis,
    rule_placeholders,
    rule_next_step,
)


def _offers_person(answer: Answer, library: ContentLibrary) -> bool:
    if answer.intent in PERSON_INTENTS or "next_open" in answer.placeholders:
        return True
    for button in answer.buttons:
        if button.via == "intent" and button.name in PERSON_INTENTS:
            return True
        target = library.answers.get(button.name) if button.via == "goto" else None
        if target is not None and (target.intent in PERSON_INTENTS or target.id in PERSON_ANSWERS):
            return True
    return False


WORDING_RULES: Mapping[str, Rule] = {
    "blame": rule_blame,
    "promise": rule_promise,
    "personal_data": rule_personal_data,
}


def check_sentence(sentence: str, locale: str = SOURCE_LOCALE) -> list[Finding]:
    """The wording rules (blame, promise, personal data) on one bubble, outside any answer: what the
    editors' workspace shows while an editor types, and what `content gate-eval` measures."""
    answer = Answer("draft", (sentence,), (), None, Path("draft.yml"))
    text = Text(locale, (sentence,), ())
    found: list[Finding] = []
    for rule in WORDING_RULES.values():
        found += rule(answer, text, ContentLibrary(()), LIMITS)
    return found
