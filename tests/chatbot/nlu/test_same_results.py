"""The NLU's faster paths (issue 17, third pass) give exactly what the plain code gave, on every message we have.

Each reference below is the code as it was before (scores, ranking, language guess, normalising), kept here
as the oracle: the scores must be the same float32 bits, the rankings and confidences equal, the guesses
equal. The crisis check's prefilter has its own proof in test_crisis.py.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections import Counter
from functools import cache
from typing import Any

import numpy as np
import pytest

from chatbot.nlu import data
from chatbot.nlu.embedded import RANKING_SIZE, EmbeddedModel, Scored, _analyzer, _vectorizers
from chatbot.nlu.language import (
    _FOREIGN_LATIN,
    _MIN_KNOWN_SHARE,
    _MIN_WORDS,
    _NOT_ARABIC_LETTERS,
    _PERSIAN_WORDS,
    _WORD,
    ARABIC,
    EMPTY,
    FOREIGN,
    LATIN,
    Guess,
    LanguageGuesser,
)
from chatbot.nlu.text import _ARABIC_FORMS, _NON_WORD, fold, normalise
from tests.chatbot.nlu.helpers import (
    NLU_DIR,
    crisis_list,
    heldout,
    life_list,
    project_data,
    project_model,
    unseen_list,
)

ODD = [
    "",
    " ",
    "???",
    "!!  ?",
    "ÅÄÖ heeeeej",
    "xyzzy-unknownword hej hej hej hej",
    "Hjäääälp!!  jag   vet inte",
    "a_b__c d\t\te\u2003f\u00a0g",
    "I don't  know…",
    "it’s `fine´",
    "Привет как дела",
    "שלום עליכם",
    "你好吗",
    "cześć jak się masz",
    "İstanbul ıi ǅ ﬁ ß",
    "😀😀😀 123",
    "١١٢ ساعدوني",
    "سلام من کمک میخوام",
    "\u0301\u0301e\u0301",
    "aaa bbb ccc " * 20,
    "sjalvmord " * 300,  # one n-gram far more than the precomputed sublinear table
]


@cache
def _messages() -> list[str]:
    arabic = sorted((NLU_DIR / "heldout" / "ar").glob("*.yml"))
    return [
        *(e.text for s in (heldout(), crisis_list(), life_list(), unseen_list()) for e in s.examples),
        *(e.text for path in arabic for e in data.load(path).examples),
        *project_data().texts,
        *ODD,
    ]


@cache
def _sklearn_analyzers() -> list[Any]:
    """scikit-learn's own analyzers, fitted as training fits them (without the preprocessor, as the model)."""
    union = _vectorizers()
    union.fit(project_data().texts)
    analyzers = []
    for _name, vectorizer in union.transformer_list:
        vectorizer.set_params(preprocessor=None, lowercase=False)
        analyzers.append((vectorizer, vectorizer.build_analyzer()))
    return analyzers


def _reference_scores(model: EmbeddedModel, text: str) -> Any:
    """EmbeddedModel.scores as it was: scikit-learn's analyzers, Counter, a plain weighted sum."""
    folded = normalise(text)
    rows: list[int] = []
    values: list[float] = []
    for block, (_vectorizer, analyze) in zip(model._blocks, _sklearn_analyzers(), strict=True):
        vocabulary, idf = block.vocabulary, block.idf
        counts = Counter([vocabulary[gram] for gram in analyze(folded) if gram in vocabulary])
        if not counts:
            continue
        weighted = [(0.0 if n == 0 else 1.0 + math.log(n)) * idf[i] for i, n in counts.items()]
        norm = math.sqrt(sum(v * v for v in weighted))
        rows.extend(i + block.offset for i in counts)
        values.extend(v / norm for v in weighted)
    if not rows:
        return model._bias.copy()
    return np.array(values, dtype=np.float32) @ model._weights[rows] + model._bias


def _reference_predict(model: EmbeddedModel, scores: Any) -> Scored:
    scaled = scores * model.temperature
    shifted = np.exp(scaled - scaled.max())
    probabilities = shifted / shifted.sum()
    top = np.argsort(-probabilities)[:RANKING_SIZE]
    return Scored(tuple((model.intents[i], float(probabilities[i])) for i in top))


def test_the_analyzers_give_scikit_learns_n_grams() -> None:
    for vectorizer, analyze in _sklearn_analyzers():
        ours = _analyzer(vectorizer)
        assert ours is not analyze  # our own, faster one is in use
        for text in _messages():
            folded = normalise(text)
            assert ours(folded) == analyze(folded), text
            for word in folded.split():
                assert ours(word) == analyze(word), word


def test_scores_are_the_same_bits_and_predictions_the_same() -> None:
    model = project_model()
    assert [b.vocabulary for b in model._blocks] == [
        {str(k): int(v) for k, v in vectorizer.vocabulary_.items()} for vectorizer, _ in _sklearn_analyzers()
    ]
    for text in _messages():
        expected = _reference_scores(model, text)
        scores = model.scores(text)
        assert scores.dtype == expected.dtype and scores.tobytes() == expected.tobytes(), text
        predicted = model.predict(text)
        assert predicted == _reference_predict(model, expected), text
    # The kept word features are still only words of the training data.
    assert {word for kept in model._kept for word in kept} <= model._known_words


def test_a_tie_is_ranked_as_argsort_ranks_it() -> None:
    """Equal probabilities are handed to numpy's argsort, as before."""
    model = project_model()
    scores = np.zeros(len(model.intents), dtype=np.float32)  # every intent equally likely

    class Flat(EmbeddedModel):
        def scores(self, text: str) -> Any:
            return scores

    flat = Flat(
        model._blocks,
        model._weights,
        model._bias,
        model.intents,
        model.temperature,
        model.digest,
    )
    assert flat.predict("x") == _reference_predict(model, scores)


def _reference_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_ARABIC_FORMS)


def _reference_normalise(text: str) -> str:
    folded = re.sub(r"['’`´]", "", _reference_fold(text))
    folded = _NON_WORD.sub(" ", folded.replace("_", " "))
    folded = re.sub(r"(\w)\1{2,}", r"\1\1", folded)
    return re.sub(r"\s+", " ", folded).strip()


def test_fold_and_normalise_are_the_same_on_every_message() -> None:
    for text in _messages():
        assert fold(text) == _reference_fold(text), text
        assert normalise(text) == _reference_normalise(text), text


def test_fold_is_the_same_for_every_character() -> None:
    for start in range(0, sys.maxunicode + 1, 4096):
        chunk = "".join(chr(c) for c in range(start, start + 4096) if not 0xD800 <= c <= 0xDFFF)
        assert fold(chunk) == _reference_fold(chunk), hex(start)


def test_the_skipped_normalise_passes_are_proved_on_every_character() -> None:
    """re's \\w is str.isalnum() or "_" for every character (the punctuation pass's skip), and every white
    space character is one the punctuation pass replaces (so the white-space pass had nothing left)."""
    word = re.compile(r"\w")
    space = re.compile(r"\s")
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        assert bool(word.match(ch)) == (ch.isalnum() or ch == "_"), hex(code)
        if space.match(ch):
            assert _NON_WORD.match(ch), hex(code)


def _reference_guess(known: frozenset[str], text: str) -> Guess:
    counts: dict[str, int] = {}
    foreign_letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        try:
            script = unicodedata.name(ch).split(" ", 1)[0]
        except ValueError:
            script = "OTHER"
        counts[script] = counts.get(script, 0) + 1
        if ch.casefold() in _FOREIGN_LATIN:
            foreign_letters += 1
    if not counts:
        return Guess(EMPTY)
    script = max(counts, key=lambda s: counts[s])
    if script == "ARABIC":
        if any(ch in _NOT_ARABIC_LETTERS for ch in text):
            return Guess(FOREIGN, "arabic_script_other_language")
        if len(set(text.split()) & _PERSIAN_WORDS) >= 2:
            return Guess(FOREIGN, "persian_words")
        return Guess(ARABIC, "arabic_script")
    if script != "LATIN":
        return Guess(FOREIGN, f"script_{script.lower()}")
    if foreign_letters:
        return Guess(FOREIGN, "foreign_letters")
    found = _WORD.findall(normalise(text))
    if known and len(found) >= _MIN_WORDS:
        share = sum(1 for w in found if w in known) / len(found)
        if share < _MIN_KNOWN_SHARE:
            return Guess(FOREIGN, "unknown_words")
    return Guess(LATIN)


@pytest.mark.parametrize("trained", [True, False])
def test_the_language_guess_is_the_same_on_every_message(trained: bool) -> None:
    guesser = LanguageGuesser(project_data().texts if trained else ())
    texts = [*_messages(), "Ab Яя", "Яя Ab", "ab яя", "ǅ ab", "ñ hej", "Ñandú"]
    guesses = [guesser.guess(text) for text in texts]
    assert guesses == [_reference_guess(guesser._known, text) for text in texts]
    assert {g.language for g in guesses} == {ARABIC, LATIN, FOREIGN, EMPTY}
