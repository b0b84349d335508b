"""The children's guidelines (content/guidelines.md) as checks over every answer and its translations.

Each rule is a small function; `check_library` runs them all and returns a report with one entry per
answer (ok, warnings, violations) plus findings about the whole library (intents, the answer graph).
Blame, promises and personal data are read for meaning in Swedish and English (chatbot.content.wording_rules,
with a classifier over the labelled bank in chatbot.content.wording_bank for what no pattern covers), and
with phrase lists in Arabic. Where the gate is unsure it warns the reviewer and says why; a rule that needs
judgement stays with the human reviewer.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from chatbot.content.catalogs import SOURCE_LOCALE
from chatbot.content.library import Answer, Button, ContentLibrary, placeholder_names
from chatbot.content.wording import split_sentences
from chatbot.content.wording_bank import default_classifier
from chatbot.content.wording_rules import judge, negated
from chatbot.content.wording_rules import languages as wording_languages

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
CRISIS_NUMBERS = ("112", "116 111", "90101")
# Answers that must give the emergency numbers in their first bubble, in every language.
EMERGENCY_ANSWERS = ("crisis", "language_unknown")
RESPONSIBILITY_INTENTS = ("sextortion", "self_blame")
# Guideline 5: the takedown guidance (an intent's answer) and the upload panel (an answer id: its
# button opens the widget's encrypted upload) are at most MAX_TAPS from the start.
FAST_INTENTS = ("takedown_help",)
FAST_ANSWERS = ("upload_start",)
MAX_TAPS = 2


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


class Level(StrEnum):
    WARNING = "warning"
    VIOLATION = "violation"


@dataclass(frozen=True)
class Finding:
    level: Level
    rule: str
    message: str
    locale: str = SOURCE_LOCALE


@dataclass
class AnswerReport:
    answer_id: str
    kind: str
    source: str
    lix: dict[str, float] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def status(self) -> str:
        if any(f.level is Level.VIOLATION for f in self.findings):
            return "violations"
        return "warnings" if self.findings else "ok"


@dataclass
class Report:
    answers: list[AnswerReport]
    library: list[Finding]

    @property
    def violations(self) -> list[tuple[str, Finding]]:
        found = [("(library)", f) for f in self.library if f.level is Level.VIOLATION]
        for entry in self.answers:
            found += [(entry.answer_id, f) for f in entry.findings if f.level is Level.VIOLATION]
        return found

    @property
    def ok(self) -> bool:
        return not self.violations


# --- readability -------------------------------------------------------------------------------------

_WORD = re.compile(r"[\w./@]+(?:[-'’]\w+)*")
# "؟" and "؛" are the Arabic question mark and semicolon.
_SENTENCE_END = re.compile(r"[.!?:;؟؛]+(?=\s|$)|\n+")
_PLACEHOLDER = re.compile(r"\{\w+\}")


def words(text: str) -> list[str]:
    # A placeholder is filled with something short ('3', 'måndag 09:00'); count it as one short word.
    return _WORD.findall(_PLACEHOLDER.sub("X", text))


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(_PLACEHOLDER.sub("X", text)) if words(s)]


def lix(text: str) -> float:
    """LIX (läsbarhetsindex): words per sentence + percentage of words longer than six letters.
    Below 30 very easy, 30–40 easy (children's books), 40–50 medium (newspapers)."""
    found = words(text)
    if not found:
        return 0.0
    long_words = sum(1 for w in found if len(w) > 6)
    return len(found) / max(1, len(sentences(text))) + 100 * long_words / len(found)


# --- phrase lists per language ------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrases:
    blame: tuple[str, ...]
    promise: tuple[str, ...]
    personal_data: tuple[str, ...]
    negation: str
    not_your_fault: str
    who_is_responsible: str


PHRASES: Mapping[str, Phrases] = {
    "sv": Phrases(
        # Swedish and English are read for meaning instead (chatbot.content.wording_rules).
        blame=(),
        promise=(),
        personal_data=(),
        negation=r"\b(aldrig|inte|ingen|inget|behöver inte)\b",
        not_your_fault=r"\binte (ditt|ert) fel\b",
        who_is_responsible=r"\b(den|de|personen|han|hon|någon|vuxna|dem) som (hotar|sprider|pressar|lurar|utnyttjar|delar|tvingar)\b",
    ),
    "en": Phrases(
        # Swedish and English are read for meaning instead (chatbot.content.wording_rules).
        blame=(),
        promise=(),
        personal_data=(),
        negation=r"\b(never|not|no|don['’]?t|do not|won['’]?t|can['’]?t|cannot)\b",
        not_your_fault=r"\bnot your fault\b",
        who_is_responsible=r"\b(who|that)('s| is| are)? (threaten|spread|pressur|shar|trick|exploit|forc)\w*",
    ),
    # Arabic: unvocalised text (the check strips tashkeel first, see _unvocalised). Clitics attach to
    # words ("وسنزيلها"), so some patterns match inside a word on purpose.
    "ar": Phrases(
        blame=(
            r"كان (يجب|ينبغي|عليك) (عليك )?(ألا|أن لا|أن)",
            r"\bلماذا (أرسلت|فعلت|صورت|وثقت|رددت|شاركت|سمحت)\b",
            r"(?<!ليس )(?<!ليست )(?<!مش )\b(هذا|إنه|انه|هو) (خطؤك|خطأك|ذنبك|غلطتك)\b",
            r"\bأنت (السبب|المسؤول|المسؤولة|المذنب|المذنبة)\b",
            r"\bماذا كنت تفكر",
            r"\b(تصرف|شيء) (غبي|سخيف|ساذج)\b",
        ),
        promise=(
            r"\bست(زال|ختفي|حذف|مسح)\b|\bسي(زال|ختفي|حذف|مسح)\b",
            r"سن(زيل|حذف|مسح)(ها|ه|هم)?\b",
            r"\b(نعدك|أعدك|اعدك|نعدكم)\b",
            r"\b(مضمون|نضمن|أضمن|اضمن)",
            r"\b100 ?%",
            r"\bلن (يراها|يراه|يجدها) أحد",
            r"\bسيكون (كل شيء )?(بخير|على ما يرام)",
        ),
        personal_data=(
            r"\bما (هو )?اسمك\b",
            r"\bأين (تسكن|تعيش)\b",
            r"\b(أي|ما) مدرسة\b",
            r"\b(اسمك|عنوانك|رقمك|رقم هاتفك|مدرستك|بريدك|إيميلك)\b",
        ),
        negation=r"\b(لا|لن|لم|ليس|ليست|أبدا|بدون|دون)\b",
        not_your_fault=r"\b(ليس|ليست|مش|مو) (ذنبك|خطأك|خطؤك|غلطتك)\b",
        who_is_responsible=r"\b(الشخص|الأشخاص|من) (الذي |التي |الذين )?(يهدد|ينشر|يضغط|يستغل|يخدع|يجبر|يبتز)",
    ),
}


def _search(patterns: Iterable[str], text: str) -> str | None:
    text = _unvocalised(text)
    for pattern in patterns:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            return match.group(0)
    return None


# --- per-answer rules ---------------------------------------------------------------------------------


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

    def add(level: Level, message: str) -> None:
        found.append(Finding(level, "readability", message, text.locale))

    score = lix(" ".join(_end(b) for b in text.bubbles))
    if score > limits.lix_max:
        add(
            Level.VIOLATION, f"LIX {score:.0f} is above {limits.lix_max:.0f}: use shorter sentences and words"
        )
    elif score > limits.lix_warn:
        add(Level.WARNING, f"LIX {score:.0f}: close to the limit of {limits.lix_max:.0f}")
    if len(text.bubbles) > limits.bubbles_warn:
        add(Level.WARNING, f"{len(text.bubbles)} bubbles; more than {limits.bubbles_warn} is a lot to read")
    for i, bubble in enumerate(text.bubbles, 1):
        count = len(words(bubble))
        if count > limits.bubble_words_max:
            add(Level.VIOLATION, f"bubble {i} has {count} words (at most {limits.bubble_words_max})")
        elif count > limits.bubble_words_warn:
            add(Level.WARNING, f"bubble {i} has {count} words (aim for {limits.bubble_words_warn} or fewer)")
        parts = sentences(bubble)
        if len(parts) > limits.bubble_sentences_warn:
            add(Level.WARNING, f"bubble {i} has {len(parts)} sentences: one idea per bubble")
        for sentence in parts:
            n = len(words(sentence))
            if n > limits.sentence_words_max:
                add(Level.VIOLATION, f"bubble {i}: a sentence of {n} words: {_quote(sentence)}")
            elif n > limits.sentence_words_warn:
                add(Level.WARNING, f"bubble {i}: a sentence of {n} words: {_quote(sentence)}")
    for label in text.labels:
        if len(label) > limits.label_chars_max:
            add(Level.VIOLATION, f"button {_quote(label)} is longer than {limits.label_chars_max} characters")
    return found


def _wording(rule: str, text: Text, parts: Sequence[str]) -> list[Finding]:
    """Findings of one wording rule over the bubbles (and labels) in `parts`, explained for the editor.

    Swedish and English are read for meaning (chatbot.content.wording_rules); a sentence no pattern flags
    but that reads like the bank's violations is a warning for the reviewer (chatbot.content.wording_bank).
    Arabic uses the phrase lists above. Any other language is not checked, and the reviewer is told so."""
    language = text.locale.split("_")[0]
    found: list[Finding] = []

    def where(i: int, part: str) -> str:
        return f"bubble {i}" if i <= len(text.bubbles) else f"button {_quote(part)}"

    if language in wording_languages():
        classifier = default_classifier()
        for i, part in enumerate(parts, 1):
            for sentence in split_sentences(part):
                hits = [j for j in judge(sentence, language) if j.rule == rule]
                for hit in hits:
                    level = Level.VIOLATION if hit.sure else Level.WARNING
                    unsure = "" if hit.sure else " (the gate is not sure: a reviewer decides)"
                    found.append(
                        Finding(
                            level, rule, f"{where(i, part)}: {hit.words!r} {hit.reason}{unsure}", text.locale
                        )
                    )
                if hits or rule in negated(sentence, language):
                    continue
                for suspicion in classifier.suspect(sentence, language):
                    if suspicion.rule == rule:
                        found.append(
                            Finding(
                                Level.WARNING,
                                rule,
                                f"{where(i, part)}: {_quote(sentence)} reads like a {RULE_NAMES[rule]} example "
                                f"in the bank ({suspicion.closest!r}), though no rule matched: a reviewer "
                                "decides, and adds the sentence to content/guidelines/bank/",
                                text.locale,
                            )
                        )
        return found
    phrases = PHRASES.get(language)
    if phrases is None:
        if rule == "blame" and text.bubbles:
            note = (
                "no automatic check of blame, promises or personal data in this language: a reviewer reads it"
            )
            found.append(Finding(Level.WARNING, "wording", note, text.locale))
        return found
    listed = {"blame": phrases.blame, "promise": phrases.promise, "personal_data": phrases.personal_data}[
        rule
    ]
    for i, part in enumerate(parts, 1):
        for sentence in re.split(r"(?<=[.!?؟])\s+|\n+", part):
            if rule == "personal_data" and re.search(phrases.negation, _unvocalised(sentence), re.IGNORECASE):
                continue  # "we never ask for your name" is the promise we want to make
            phrase = _search(listed, sentence)
            if phrase:
                found.append(
                    Finding(
                        Level.VIOLATION,
                        rule,
                        f"{where(i, part)}: {phrase!r} {ARABIC_REASONS[rule]}",
                        text.locale,
                    )
                )
    return found


RULE_NAMES = {"blame": "blame", "promise": "promise", "personal_data": "personal-data"}
ARABIC_REASONS = {
    "blame": "blames the child",
    "promise": "promises what we cannot keep",
    "personal_data": "asks who the child is",
}


def rule_blame(answer: Answer, text: Text, library: ContentLibrary, limits: Limits) -> list[Finding]:
    """Guideline 1: believe me, don't blame me."""
    found = _wording("blame", text, text.bubbles)
    phrases = PHRASES.get(text.locale.split("_")[0])
    if phrases is not None and answer.intent in RESPONSIBILITY_INTENTS:
        whole = _unvocalised(" ".join(text.bubbles))
        if not re.search(phrases.not_your_fault, whole, re.IGNORECASE) or not re.search(
            phrases.who_is_responsible, whole, re.IGNORECASE
        ):
            found.append(
                Finding(
                    Level.VIOLATION,
                    "blame",
                    "must say it is not the child's fault and that the one who threatens or spreads is responsible",
                    text.locale,
                )
            )
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
    return [
        Finding(
            Level.VIOLATION,
            "crisis",
            f"the first bubble must give {', '.join(CRISIS_NUMBERS)}; missing {', '.join(missing)}",
            text.locale,
        )
    ]


def rule_placeholders(answer: Answer, text: Text, library: ContentLibrary, limits: Limits) -> list[Finding]:
    """Placeholders are declared, used, identical in translations and never in button labels."""
    found: list[Finding] = []
    used: set[str] = set()
    for i, bubble in enumerate(text.bubbles, 1):
        try:
            names = set(placeholder_names(bubble))
        except ValueError as exc:
            found.append(Finding(Level.VIOLATION, "placeholders", f"bubble {i}: {exc}", text.locale))
            continue
        used |= names
        undeclared = names - set(answer.placeholders)
        if undeclared:
            found.append(
                Finding(
                    Level.VIOLATION,
                    "placeholders",
                    f"bubble {i} uses {_braced(undeclared)}, not declared in 'placeholders'",
                    text.locale,
                )
            )
    unused = set(answer.placeholders) - used
    if unused:
        level = Level.WARNING if text.locale == SOURCE_LOCALE else Level.VIOLATION
        found.append(Finding(level, "placeholders", f"{_braced(unused)} declared but not used", text.locale))
    for label in text.labels:
        if "{" in label:
            found.append(
                Finding(
                    Level.VIOLATION,
                    "placeholders",
                    f"button {_quote(label)}: no placeholders in buttons",
                    text.locale,
                )
            )
    return found


def rule_next_step(answer: Answer, text: Text, library: ContentLibrary, limits: Limits) -> list[Finding]:
    """Guidelines 3 and 6: a next step, and a way to a person (or when the line opens)."""
    if answer.kind == "notice" or text.locale != SOURCE_LOCALE:
        return []
    found: list[Finding] = []
    if not answer.buttons:
        found.append(Finding(Level.VIOLATION, "next_step", "no buttons: every answer needs a next step"))
    if len(answer.buttons) > limits.buttons_max:
        found.append(
            Finding(
                Level.VIOLATION, "next_step", f"{len(answer.buttons)} buttons (at most {limits.buttons_max})"
            )
        )
    if not _offers_person(answer, library):
        found.append(
            Finding(
                Level.VIOLATION,
                "person",
                "offers no way to a person: add a button to ask_human, or say when the line opens",
            )
        )
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

PERSON_INTENTS = ("ask_human", "opening_hours")
# Answers whose button payload the dialogue turns into a place in the queue (or the closed notice).
PERSON_ANSWERS = ("handoff_queued",)


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


# --- library rules --------------------------------------------------------------------------------------


def button_targets(answer: Answer, library: ContentLibrary) -> list[tuple[Button, str | None]]:
    """Each button with the answer id it leads to (an intent button leads to the intent's answer),
    or None for a dead link."""
    pairs: list[tuple[Button, str | None]] = []
    for button in answer.buttons:
        target = (
            library.for_intent(button.name) if button.via == "intent" else library.answers.get(button.name)
        )
        pairs.append((button, target.id if target is not None else None))
    return pairs


def edges(answer: Answer, library: ContentLibrary) -> list[str]:
    """The answer ids the buttons of `answer` lead to."""
    return [target for _, target in button_targets(answer, library) if target is not None]


def taps_from(start: str, library: ContentLibrary) -> dict[str, int]:
    """Breadth-first search: the fewest taps from `start` to every answer it can reach."""
    if start not in library:
        return {}
    distance = {start: 0}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for target in edges(library.get(current), library):
            if target not in distance:
                distance[target] = distance[current] + 1
                queue.append(target)
    return distance


def check_graph(library: ContentLibrary, intents: Iterable[str] = INTENTS) -> list[Finding]:
    known = tuple(intents)
    found: list[Finding] = []

    def add(rule: str, message: str, level: Level = Level.VIOLATION) -> None:
        found.append(Finding(level, rule, message))

    for intent in known:
        if library.for_intent(intent) is None:
            add("intents", f"intent {intent!r} has no answer")
    for answer in library.answers.values():
        if answer.intent is not None and answer.intent not in known:
            add("intents", f"answer {answer.id!r} answers {answer.intent!r}, which is not an intent")
        if answer.id in known and answer.intent != answer.id:
            add(
                "links",
                f"answer id {answer.id!r} is also an intent name, so the payload /{answer.id} is ambiguous",
            )
        for button in answer.buttons:
            if button.via == "goto" and button.name not in library:
                add(
                    "links",
                    f"{answer.id}: button {button.label!r} goes to {button.name!r}, which does not exist",
                )
            if button.via == "intent" and button.name not in known:
                add(
                    "links",
                    f"{answer.id}: button {button.label!r} names {button.name!r}, which is not an intent",
                )
    for answer_id, placeholders in REQUIRED_ANSWERS.items():
        if answer_id not in library:
            add("required", f"the dialogue needs an answer {answer_id!r}")
        elif set(library.get(answer_id).placeholders) != set(placeholders):
            add("required", f"{answer_id!r} must take exactly {_braced(placeholders) or 'no placeholders'}")
    crisis = library.for_intent("crisis")
    if crisis is not None and crisis.id != "crisis":
        add(
            "required",
            "the crisis intent's answer must have the id 'crisis' so the bot can show it in any state",
        )

    # Reachability: a child enters at the welcome, at any dialogue answer, or by writing (intents).
    entries = {a.id for a in library.answers.values() if a.kind != "answer" or a.intent}
    reached: set[str] = set()
    for entry in entries:
        reached |= set(taps_from(entry, library))
    for answer in library.answers.values():
        if answer.id not in reached:
            add("links", f"answer {answer.id!r} is unreachable: no button or intent leads to it")

    # Guideline 5: getting material removed is at most two taps from the start.
    taps = taps_from(START, library)
    targets: list[tuple[Answer, str]] = []
    for intent in FAST_INTENTS:
        fast = library.for_intent(intent)
        if fast is not None:
            targets.append((fast, f" ({intent})"))
    targets += [(library.answers[name], "") for name in FAST_ANSWERS if name in library]
    for target, why in targets:
        if taps.get(target.id, MAX_TAPS + 1) > MAX_TAPS:
            add("fast_takedown", f"{target.id!r}{why} is more than {MAX_TAPS} taps from {START!r}")
    return found


# --- translations ---------------------------------------------------------------------------------------


def translation_findings(answer: Answer, locale: str, required: bool) -> tuple[Text | None, list[Finding]]:
    """The answer's text in `locale` if every string has a current translation, else a finding."""
    catalogs = answer.catalogs
    if catalogs is None:
        return None, []
    messages = answer.messages()
    texts = [catalogs.lookup(locale, m.context, m.text) for m in messages]
    found: list[Finding] = []
    for i, (message, text) in enumerate(zip(messages, texts, strict=True)):
        if text is None or _names(text) == _names(message.text):
            continue
        # The runtime refuses such a translation (it could not be filled), so the child sees the fallback.
        where = f"bubble {i + 1}" if i < len(answer.bubbles) else f"button {_quote(message.text)}"
        found.append(
            Finding(
                Level.VIOLATION,
                "placeholders",
                f"{where} has {_braced(_names(text)) or 'no placeholders'} where the source has "
                f"{_braced(_names(message.text)) or 'none'}: the child sees the fallback",
                locale,
            )
        )
    if found:
        return None, found
    missing = sum(1 for t in texts if t is None)
    if missing:
        level = Level.VIOLATION if required else Level.WARNING
        note = (
            f"{missing} of {len(messages)} strings have no current translation; the child sees the fallback"
        )
        return None, [Finding(level, "translation", note, locale)]
    done = [t for t in texts if t is not None]
    n = len(answer.bubbles)
    return Text(locale, tuple(done[:n]), tuple(done[n:])), []


# --- the whole check ------------------------------------------------------------------------------------


def check_library(
    library: ContentLibrary,
    *,
    intents: Iterable[str] = INTENTS,
    require_complete: Iterable[str] = (),
    limits: Limits = Limits(),
) -> Report:
    required = set(require_complete)
    locales = list(library.catalogs.locales) if library.catalogs else []
    for locale in required:
        if locale not in locales:
            locales.append(locale)
    reports = []
    for answer in sorted(library.answers.values(), key=lambda a: a.id):
        entry = AnswerReport(answer.id, answer.kind, str(answer.source))
        texts = [Text(SOURCE_LOCALE, answer.bubbles, tuple(b.label for b in answer.buttons))]
        for locale in locales:
            if locale == SOURCE_LOCALE:
                continue
            if library.catalogs is None:
                entry.findings.append(Finding(Level.VIOLATION, "translation", "no catalogs loaded", locale))
                continue
            text, found = translation_findings(answer, locale, locale in required)
            entry.findings += found
            if text is not None:
                texts.append(text)
        for text in texts:
            entry.lix[text.locale] = lix(" ".join(_end(b) for b in text.bubbles))
            for rule in ANSWER_RULES:
                entry.findings += rule(answer, text, library, limits)
        reports.append(entry)
    return Report(reports, check_graph(library, intents))


def format_report(report: Report, *, verbose: bool = True) -> str:
    lines = []
    for entry in report.answers:
        scores = " ".join(f"LIX {loc} {score:.0f}" for loc, score in entry.lix.items())
        mark = {"ok": "ok  ", "warnings": "warn", "violations": "FAIL"}[entry.status]
        if verbose or entry.findings:
            lines.append(f"{mark} {entry.answer_id} ({entry.kind}; {scores})")
        for finding in entry.findings:
            sign = "✗" if finding.level is Level.VIOLATION else "!"
            lines.append(f"       {sign} [{finding.rule}] {finding.locale}: {finding.message}")
    if report.library:
        lines.append("library:")
        for finding in report.library:
            sign = "✗" if finding.level is Level.VIOLATION else "!"
            lines.append(f"       {sign} [{finding.rule}] {finding.message}")
    counts = {
        status: sum(1 for e in report.answers if e.status == status)
        for status in ("ok", "warnings", "violations")
    }
    library_violations = sum(1 for f in report.library if f.level is Level.VIOLATION)
    lines.append(
        f"{len(report.answers)} answers: {counts['ok']} ok, {counts['warnings']} with warnings, "
        f"{counts['violations']} with violations; {library_violations} library violation(s). "
        + ("PASSED" if report.ok else "FAILED")
    )
    return "\n".join(lines)


def _names(text: str) -> set[str]:
    try:
        return set(placeholder_names(text))
    except ValueError:
        return {"?"}


# Arabic short vowels and other marks (tashkeel, U+064B-U+065F, U+0670) and the stretching tatweel
# (U+0640): optional in writing, so the phrase lists are written without them.
_TASHKEEL = re.compile("[\u064b-\u065f\u0670\u0640]")


def _unvocalised(text: str) -> str:
    return _TASHKEEL.sub("", text)


def _end(bubble: str) -> str:
    """Bubbles are separate messages: each ends a sentence even without a full stop."""
    return bubble if re.search(r"[.!?:]\s*$", bubble) else bubble + "."


def _quote(text: str, width: int = 50) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def _braced(names: Iterable[str]) -> str:
    return ", ".join("{" + n + "}" for n in sorted(names))


# --- one sentence, as an editor writes it --------------------------------------------------------------

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
        found += rule(answer, text, ContentLibrary(()), Limits())
    return found
