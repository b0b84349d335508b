"""A sentence as the wording rules read it: normalised words (lemmas) in clauses, each tied to the editor's text.

The rules (chatbot.content.wording_rules) match meaning rather than spelling, so they read a normalised form:
lower case, one apostrophe, English contractions spelled out ("won't" → "will not"), the irregular and
frequent verb forms of Swedish and English reduced to one lemma ("tog", "tagit", "tas" → "ta"; "took" →
"take"), and object pronouns to their subject form ("dig" → "du"). Words that are ambiguous stay as they
are ("var" is both "was" and "where"; "gone" and "borta" carry the promise). No package does this for
Swedish without a model download, so the tables are ours and small; grow them when the bank shows a gap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# A hyphen inside a word keeps it whole ("e-postadress", "e-mail"), as the patterns name it.
_TOKEN = re.compile(r"\d+\s?%|\w+(?:-\w+)*(?:['’]\w*)*|[^\w\s]")
_CLAUSE_BREAK = {",", ";", ":", "–", "—", "(", ")", '"', "men", "but"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _verb(lemma: str, *forms: str) -> dict[str, str]:
    return dict.fromkeys(forms, lemma)


_SV: dict[str, str] = {
    **_verb("ta", "tar", "tog", "tagit", "tas", "togs", "tagits", "tagen", "tagna", "taget"),
    **_verb("få", "får", "fick", "fått", "fås"),
    **_verb("se", "ser", "såg", "sett", "syns", "synas", "synts", "sågs", "ses", "setts"),
    **_verb("bli", "blir", "blev", "blivit"),
    **_verb("komma", "kommer", "kom", "kommit"),
    **_verb("gå", "går", "gick", "gått"),
    **_verb("göra", "gör", "gjorde", "gjort", "görs", "gjordes"),
    **_verb("kunna", "kan", "kunde", "kunnat"),
    **_verb("ska", "skall", "skulle"),
    **_verb("ha", "har", "hade", "haft"),
    **_verb("säga", "säger", "sa", "sade", "sagt", "säg"),
    **_verb("veta", "vet", "visste", "vetat"),
    **_verb("försvinna", "försvinner", "försvann", "försvunnit", "försvunnen", "försvunna"),
    **_verb("sprida", "sprider", "sprids", "spred", "spreds", "spridit", "spridits", "spridas"),
    **_verb("heta", "heter", "hette", "hetat"),
    **_verb("bo", "bor", "bodde", "bott"),
    **_verb("lova", "lovar", "lovade", "lovat", "lovas"),
    **_verb("lösa", "löser", "löste", "löst", "löses", "lösas", "löstes"),
    **_verb("vilja", "vill", "ville", "velat"),
    **_verb("ge", "ger", "gav", "gett", "givit", "ges"),
    **_verb("skriva", "skriver", "skrev", "skrivit", "skriv"),
    **_verb("behöva", "behöver", "behövde", "behövt"),
    **_verb("böra", "bör", "borde"),
    **_verb("försöka", "försöker", "försökte", "försökt", "försök"),
    **_verb("hoppas", "hoppades"),
    **_verb("lära", "lär", "lärde", "lärt"),
    **_verb("tänka", "tänker", "tänkte", "tänkt", "tänk"),
    **_verb("hända", "händer", "hände", "hänt"),
    **_verb("känna", "känner", "kände", "känt"),
    **_verb("nå", "når", "nådde", "nått"),
    **_verb("dyka", "dyker", "dök", "dykt"),
    **_verb("gripa", "griper", "grep", "gripit", "grips", "greps"),
    **_verb("döma", "döms", "dömd", "dömdes", "dömer", "dömde"),
    **_verb("finnas", "finns", "fanns", "funnits"),
    **_verb("fylla", "fyller", "fyllde", "fyllt"),
    **_verb("glömma", "glömmer", "glömde", "glömt", "glöms", "glömd", "glömda", "glömts", "glömmas"),
    "dig": "du",
    "mig": "jag",
    "oss": "vi",
    "honom": "han",
    "henne": "hon",
    "dem": "de",
    "dom": "de",
    "sen": "sedan",
    "nåt": "något",
    "nån": "någon",
    "nånting": "något",
    "ngn": "någon",
    # Typed without å, ä, ö (a foreign keyboard, a hurry): the forms the rules read.
    "varfor": "varför",
    "maste": "måste",
    "lara": "lära",
    "saga": "säga",
    "pa": "på",
    "ar": "är",
    "forstatt": "förstått",
    "nagon": "någon",
    "nagot": "något",
    "hander": "hända",
    "hande": "hända",
    "behover": "behöva",
    "fran": "från",
}

_EN: dict[str, str] = {
    **_verb("take", "takes", "took", "taken", "taking"),
    **_verb("get", "gets", "got", "gotten", "getting"),
    **_verb("see", "sees", "saw", "seen", "seeing"),
    **_verb("make", "makes", "made", "making"),
    **_verb("say", "says", "said", "saying"),
    **_verb("tell", "tells", "told", "telling"),
    **_verb("give", "gives", "gave", "given", "giving"),
    **_verb("send", "sends", "sent", "sending"),
    **_verb("do", "does", "did", "doing", "done"),
    **_verb("come", "comes", "came", "coming"),
    **_verb("find", "finds", "found", "finding"),
    **_verb("promise", "promises", "promised", "promising"),
    **_verb("live", "lives", "lived", "living"),
    **_verb("try", "tries", "tried", "trying"),
    **_verb("let", "lets", "letting"),
    **_verb("think", "thinks", "thought", "thinking"),
    **_verb("learn", "learns", "learned", "learnt", "learning"),
    **_verb("agree", "agrees", "agreed"),
    **_verb("reach", "reaches", "reached"),
    **_verb("call", "calls", "called", "calling"),
    "me": "i",
    "us": "we",
    "him": "he",
    "her": "she",
    "them": "they",
    "nobody": "nobody",
    "mum": "mom",
    "mom": "mom",
    # Chat spelling.
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "whats": "what is",
    "wheres": "where is",
    "hows": "how is",
    "dont": "do not",
    "didnt": "did not",
    "doesnt": "does not",
    "cant": "can not",
    "wont": "will not",
    "shouldnt": "should not",
    "shouldve": "should have",
    "couldve": "could have",
    "wouldve": "would have",
    "youre": "you are",
    "im": "i am",
}

# English contractions, spelled out token by token ("it'll" → "it will"); possessive 's stays.
_EN_CONTRACTIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"^won't$", "will not"),
        (r"^can't$", "can not"),
        (r"^cannot$", "can not"),
        (r"^shan't$", "shall not"),
        (r"^ain't$", "is not"),
        (r"^let's$", "let us"),
        (r"^(\w+)n't$", r"\1 not"),
        (r"^(\w+)'ll$", r"\1 will"),
        (r"^(\w+)'re$", r"\1 are"),
        (r"^(\w+)'ve$", r"\1 have"),
        (r"^(\w+)'m$", r"\1 am"),
        (r"^(\w+)'d$", r"\1 would"),
        (
            r"^(it|that|what|there|he|she|who|where|how|everything|nothing|here|this|everyone|nobody)'s$",
            r"\1 is",
        ),
        (r"^gonna$", "going to"),
        (r"^wanna$", "want to"),
    )
)

LEMMAS: Mapping[str, Mapping[str, str]] = {"sv": _SV, "en": _EN}


@dataclass(frozen=True)
class Clause:
    """Part of a sentence between commas or a 'but': normalised words, each with its place in the editor's text."""

    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    source: str

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def surface(self, start: int, end: int) -> str:
        """The editor's own words behind the normalised characters start:end of `text`."""
        offsets, position = [], 0
        for word in self.words:
            offsets.append(position)
            position += len(word) + 1
        first = max(i for i, o in enumerate(offsets) if o <= start)
        last = max(i for i, o in enumerate(offsets) if o < max(end, start + 1))
        return self.source[self.spans[first][0] : self.spans[last][1]]


@dataclass(frozen=True)
class Sentence:
    source: str
    clauses: tuple[Clause, ...]
    question: bool

    @property
    def whole(self) -> Clause:
        """All clauses as one (for rules that look across a comma, like 'Nästa gång, skicka inte ...')."""
        words = tuple(w for c in self.clauses for w in c.words)
        spans = tuple(s for c in self.clauses for s in c.spans)
        return Clause(words, spans, self.source)


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def read(sentence: str, language: str) -> Sentence:
    """Normalise one sentence of `language` ('sv' or 'en') into clauses."""
    lemmas = LEMMAS.get(language, {})
    clauses: list[Clause] = []
    words: list[str] = []
    spans: list[tuple[int, int]] = []

    def close() -> None:
        if words:
            clauses.append(Clause(tuple(words), tuple(spans), sentence))
            words.clear()
            spans.clear()

    for match in _TOKEN.finditer(sentence):
        token = match.group(0).lower().replace("’", "'")
        if token in _CLAUSE_BREAK:
            close()
            if token in {"men", "but"}:
                words.append(token)
                spans.append(match.span())
            continue
        if not re.match(r"\w|\d", token) and "%" not in token:
            continue
        parts = [token]
        if language == "en":
            for pattern, replacement in _EN_CONTRACTIONS:
                if pattern.match(token):
                    parts = pattern.sub(replacement, token).split()
                    break
        for part in parts:
            words.append(lemmas.get(part, part))
            spans.append(match.span())
    close()
    if language == "en":
        clauses = [_phrases(c) for c in clauses]
    return Sentence(sentence, tuple(clauses), sentence.rstrip().endswith(("?", "؟")))


def _phrases(clause: Clause) -> Clause:
    """'no one' and 'no-one' are one word, 'nobody', so a pattern names it once."""
    words, spans = list(clause.words), list(clause.spans)
    i = 0
    while i < len(words) - 1:
        if words[i] == "no" and words[i + 1] in {"one", "body"}:
            words[i : i + 2] = ["nobody"]
            spans[i : i + 2] = [(spans[i][0], spans[i + 1][1])]
        i += 1
    return Clause(tuple(words), tuple(spans), clause.source)
