"""The checks a translation meets as a translator types it, and again when a .po file is imported.

An *error* refuses the translation (it would break the bot or mislead a child: other placeholders, a
changed or translated emergency number, a changed link, a button too long for the widget, a kept name
translated, markup the source does not have); a *warning* is shown and the translator decides (a long bubble, a glossary term not used,
a missing direction mark). Findings are codes with parameters: the console words them (gettext).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from chatbot.translation.glossary import Glossary

Severity = Literal["error", "warning"]
Kind = Literal["bubble", "button", "widget", "console"]

BUTTON_CHARS = 40
"""docs/content.md: a button label is at most 40 characters (the widget wraps longer ones badly)."""
BUBBLE_WORDS = 35
"""docs/content.md: one idea per bubble, at most 35 words."""
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "ckb", "yi", "dv", "ku_IQ"})

RLM = "\u200f"
_MARKS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
_PLACEHOLDERS = re.compile(r"\{(\w*)\}|%\((\w+)\)[sdif]")
# Digits of any script: '١١٢' is 112 written in Arabic-Indic digits, which a phone's keypad and the
# widget's tel: links (docs/languages.md) do not recognise.
_NUMBER = re.compile(r"\d+(?:[ \u00a0]\d+)*")
_LINK = re.compile(r"https?://[^\s<>\"]+|www\.[^\s<>\"]+|[\w.+-]+@[\w-]+\.[\w.-]+")
_TRAILING = ".,;:!?)»”’"
_TAG = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    params: dict[str, str] = field(default_factory=dict)


def check(
    source: str,
    translation: str,
    *,
    locale: str,
    kind: Kind,
    glossary: Glossary | None = None,
) -> list[Finding]:
    """Every finding of `translation` (into `locale`) of the Swedish or English `source`, errors first."""
    found: list[Finding] = []
    if not translation.strip():
        return [Finding("empty", "error")]
    want, got = _placeholders(source), _placeholders(translation)
    if want != got:
        found.append(
            Finding(
                "placeholders",
                "error",
                {"expected": _listed(want) or "-", "found": _listed(got) or "-"},
            )
        )
    if _markup(source) != _markup(translation):
        # Console pages render a translated string as markup (Jinja's gettext): a tag the source does not
        # have would let a translator's account put HTML into a colleague's console page.
        found.append(Finding("markup", "error", {"expected": " ".join(sorted(_TAG.findall(source))) or "-"}))
    found += _numbers(source, translation)
    found += _links(source, translation)
    if kind == "button" and len(translation) > BUTTON_CHARS:
        found.append(
            Finding("button_length", "error", {"length": str(len(translation)), "limit": str(BUTTON_CHARS)})
        )
    if kind == "bubble":
        words = len(translation.split())
        if words > BUBBLE_WORDS:
            found.append(
                Finding("bubble_length", "warning", {"words": str(words), "limit": str(BUBBLE_WORDS)})
            )
    if glossary is not None:
        for term in glossary.relevant(source):
            if term.used_in(translation):
                continue
            if term.kept:
                found.append(Finding("kept_name", "error", {"name": term.source}))
            else:
                found.append(Finding("glossary", "warning", {"term": term.source, "target": term.target}))
    found += _direction(translation, locale)
    return sorted(found, key=lambda f: f.severity != "error")


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def is_rtl(locale: str) -> bool:
    return locale in RTL_LANGUAGES or locale.split("_")[0] in RTL_LANGUAGES


def same_markup(source: str, translation: str) -> bool:
    """Whether `translation` has exactly the markup of `source` (what the console may render)."""
    return _markup(source) == _markup(translation)


def _markup(text: str) -> tuple[Counter[str], int, int]:
    return Counter(_TAG.findall(text)), text.count("<"), text.count(">")


def _placeholders(text: str) -> Counter[str]:
    return Counter(a or b for a, b in _PLACEHOLDERS.findall(text))


def _listed(names: Counter[str]) -> str:
    return ", ".join("{" + n + "}" for n in sorted(names.elements()))


def _numbers(source: str, translation: str) -> list[Finding]:
    want = Counter(_ascii(n) for n in _NUMBER.findall(_without_placeholders(source)))
    found: list[Finding] = []
    numbers = _NUMBER.findall(_without_placeholders(translation))
    for number in numbers:
        if not number.isascii():
            found.append(Finding("number_script", "error", {"number": number, "as_written": _ascii(number)}))
    got = Counter(n for n in numbers if n.isascii())
    for number in sorted((want - got).elements()):
        found.append(Finding("number_missing", "error", {"number": number}))
    for number in sorted((got - want).elements()):
        found.append(Finding("number_added", "error", {"number": number}))
    return found


def _links(source: str, translation: str) -> list[Finding]:
    want = Counter(link.rstrip(_TRAILING) for link in _LINK.findall(source))
    got = Counter(link.rstrip(_TRAILING) for link in _LINK.findall(translation))
    return [Finding("link_missing", "error", {"link": link}) for link in sorted((want - got).elements())]


def _direction(text: str, locale: str) -> list[Finding]:
    if not is_rtl(locale):
        if any(c in _MARKS for c in text):
            return [Finding("stray_marks", "warning")]
        return []
    strong = [(i, _strong(c)) for i, c in enumerate(text) if _strong(c)]
    if not strong:
        return []
    found = []
    # A line whose first strong letter is Latin ("BRIS …") is laid out left to right as a whole.
    if strong[0][1] == "L" and not text.startswith(RLM):
        found.append(Finding("rtl_start", "warning"))
    # "… BRIS." : the full stop after a Latin word jumps to the wrong end of the line.
    last, direction = strong[-1]
    tail = text[last + 1 :]
    if direction == "L" and tail.strip() and RLM not in tail and any(c in _TRAILING for c in tail):
        found.append(Finding("rtl_end", "warning"))
    return found


def _strong(char: str) -> str:
    kind = unicodedata.bidirectional(char)
    if kind == "L":
        return "L"
    if kind in ("R", "AL"):
        return "R"
    return ""


def _ascii(number: str) -> str:
    return "".join(str(unicodedata.digit(c)) if c.isdigit() else " " for c in number)


def _without_placeholders(text: str) -> str:
    return _PLACEHOLDERS.sub(" ", text)
