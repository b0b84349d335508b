"""The embedded intent model: TF-IDF on character and word n-grams, a linear SVM and calibrated confidences.

Training uses scikit-learn. Prediction does not go through scikit-learn's per-call input validation (which
costs milliseconds for one short message): it reuses the fitted vectorizers' own analyzers and does the
TF-IDF weighting and the dot product itself, so one message takes tens of microseconds and gives exactly
the scores scikit-learn would.

Confidences come from a softmax over the SVM's decision scores with one temperature fitted on
cross-validated scores (temperature scaling), so that "0.9" means right about nine times in ten on
messages the model has not seen, which is what the fallback threshold needs.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import operator
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from chatbot.nlu.data import NluData
from chatbot.nlu.text import normalise

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
Progress = Callable[[str], None]

# Sublinear term frequency 1 + log(n), precomputed for the counts messages have (a longer one is worked
# out the same way when it is needed).
_TABLE = 256
_SUBLINEAR = [0.0] + [1.0 + math.log(n) for n in range(1, _TABLE)]
# How many intents a prediction ranks (Rasa's /model/parse ranks 10 as well).
RANKING_SIZE = 10


@dataclass(frozen=True)
class Scored:
    """A raw model answer: the best intents with their confidences, best first."""

    ranking: tuple[tuple[str, float], ...]

    @property
    def intent(self) -> str:
        return self.ranking[0][0]

    @property
    def confidence(self) -> float:
        return self.ranking[0][1]


@dataclass(frozen=True)
class _Block:
    """One fitted vectorizer, reduced to what prediction needs."""

    analyze: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: list[float]
    offset: int
    # Character n-grams inside word boundaries (char_wb): a text's n-grams are its words' n-grams, one
    # word after another, so a word's can be worked out once and kept (see EmbeddedModel._word_features).
    per_word: bool = False


def _analyzer(vectorizer: TfidfVectorizer) -> Callable[[str], list[str]]:
    """The vectorizer's analyzer; for words and word pairs, the same list without scikit-learn's generic
    steps (decoding, stop words, the n-gram loop), a few microseconds a message."""
    analyze: Callable[[str], list[str]] = vectorizer.build_analyzer()
    if vectorizer.preprocessor is not None or vectorizer.lowercase or vectorizer.strip_accents:
        return analyze
    if vectorizer.analyzer == "char_wb":
        low, high = vectorizer.ngram_range

        def in_words(text: str) -> list[str]:
            # scikit-learn's _char_wb_ngrams: each word padded with a space, its n-grams for n from
            # low to high; a word no longer than n counts once, whole, and ends the word's n-grams.
            grams: list[str] = []
            for word in text.split():
                padded = f" {word} "
                size = len(padded)
                for n in range(low, high + 1):
                    if size <= n:
                        grams.append(padded)
                        break
                    grams += [padded[i : i + n] for i in range(size - n + 1)]
            return grams

        return in_words
    if vectorizer.analyzer != "word" or vectorizer.ngram_range != (1, 2) or vectorizer.stop_words:
        return analyze
    tokenize: Callable[[str], list[str]] = vectorizer.build_tokenizer()

    def words_and_pairs(text: str) -> list[str]:
        tokens = tokenize(text)
        # What scikit-learn's _word_ngrams gives for (1, 2): the words, then each pair joined by a space.
        return tokens + list(map(" ".join, itertools.pairwise(tokens)))

    return words_and_pairs


def _vectorizers() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), preprocessor=normalise, sublinear_tf=True
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    preprocessor=normalise,
                    token_pattern=r"(?u)\b\w+\b|[?!]",  # noqa: S106 (a regex, not a password)
                    sublinear_tf=True,
                ),
            ),
        ]
    )


class EmbeddedModel:
    """A trained model; immutable and safe to share between threads."""

    backend = "embedded"

    def __init__(
        self,
        blocks: list[_Block],
        weights: FloatArray,
        bias: FloatArray,
        intents: list[str],
        temperature: float,
        digest: str,
    ) -> None:
        self._blocks = blocks
        self._weights = weights  # (features, intents): a message touches few rows
        self._bias = bias
        self._intents = intents
        self._temperature = temperature
        self.digest = digest
        # Words of the training data (the word block's single words): only their character n-grams are
        # kept between messages, so what stays in memory is our own data, never a word only a child wrote.
        self._known_words = frozenset(
            word for block in blocks if not block.per_word for word in block.vocabulary if " " not in word
        )
        # Kept features are rows of `_weights` (the block's offset added), so the blocks' counts can be
        # joined without another pass.
        self._kept: list[dict[str, tuple[int, ...]]] = [{} for _ in blocks]
        # Each block's n-grams by row of `_weights`, and every row's idf: one lookup each per n-gram.
        self._rows = [
            block.vocabulary
            if block.offset == 0
            else {g: i + block.offset for g, i in block.vocabulary.items()}
            for block in blocks
        ]
        self._idf: list[float] = []
        for block in blocks:
            if block.offset != len(self._idf):
                raise ValueError("the blocks' offsets must follow one another")
            self._idf.extend(block.idf)

    @property
    def intents(self) -> list[str]:
        return list(self._intents)

    @property
    def temperature(self) -> float:
        return self._temperature

    @classmethod
    def train(cls, data: NluData, *, progress: Progress | None = None, c: float = 1.0) -> EmbeddedModel:
        """Fit on `data` (a few seconds for a few thousand examples)."""
        say = progress or (lambda _msg: None)
        started = time.perf_counter()
        intents = data.intents
        if len(intents) < 2:
            raise ValueError("training needs at least two intents")
        texts, labels = data.texts, data.labels
        say(f"vectorizing {len(texts)} examples of {len(intents)} intents")
        union = _vectorizers()
        features = union.fit_transform(texts)
        say(f"{features.shape[1]} features; fitting the calibration on cross-validated scores")
        temperature = _fit_temperature(features, texts, labels, intents, c, say)
        say("fitting the final model")
        svm = LinearSVC(C=c)
        svm.fit(features, labels)
        if list(svm.classes_) != intents:
            raise AssertionError("scikit-learn ordered the intents differently")  # pragma: no cover
        blocks = []
        offset = 0
        for _name, vectorizer in union.transformer_list:
            vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
            # Prediction normalises once for both blocks, so the analyzers must not do it again.
            vectorizer.set_params(preprocessor=None, lowercase=False)
            blocks.append(
                _Block(
                    _analyzer(vectorizer),
                    vocabulary,
                    [float(x) for x in vectorizer.idf_],
                    offset,
                    per_word=vectorizer.analyzer == "char_wb",
                )
            )
            offset += len(vocabulary)
        coef = np.asarray(svm.coef_, dtype=np.float32)
        bias = np.asarray(svm.intercept_, dtype=np.float32)
        if len(intents) == 2:
            # A binary SVM has one score for the second class; the first is its negation.
            coef = np.vstack([-coef, coef])
            bias = np.concatenate([-bias, bias])
        weights = np.ascontiguousarray(coef.T)
        model = cls(blocks, weights, bias, intents, temperature, data.digest())
        log.info(
            "embedded model trained on %d examples, %d intents in %.1fs",
            len(texts),
            len(intents),
            time.perf_counter() - started,
        )
        return model

    def scores(self, text: str) -> FloatArray:
        """The SVM's decision score for every intent, in `intents` order."""
        folded = normalise(text)
        rows: list[int] = []
        values: list[float] = []
        idf = self._idf
        for block, kept, by_row in zip(self._blocks, self._kept, self._rows, strict=True):
            if block.per_word:
                words = folded.split()
                known = list(map(kept.get, words))
                if None in known:  # a word met for the first time, or one only a child wrote
                    known = [
                        self._word_features(block, kept, by_row, word) if found is None else found
                        for word, found in zip(words, known, strict=True)
                    ]
                features = list(itertools.chain.from_iterable(known))  # type: ignore[arg-type]
            else:
                features = list(filter(_NOT_NONE, map(by_row.get, block.analyze(folded))))  # type: ignore[arg-type]
            if not features:
                continue
            # Rows in the order they first occur, as Counter keeps them (the order of the sums below).
            counts = Counter(features)
            weighted: Sequence[float] = _pick(idf, counts)
            if len(counts) < len(features):  # some feature more than once: its sublinear tf
                try:
                    tf = _pick(_SUBLINEAR, counts.values())
                except IndexError:
                    tf = [_SUBLINEAR[n] if n < _TABLE else 1.0 + math.log(n) for n in counts.values()]
                weighted = list(map(operator.mul, tf, weighted))
            # (Where every tf is 1.0 the weight is the idf itself: 1.0 * x is x.) The same additions in the
            # same order as sum(v * v for v in weighted): the same norm.
            norm = math.sqrt(sum(map(operator.mul, weighted, weighted)))
            rows += counts
            values += map(operator.truediv, weighted, itertools.repeat(norm))  # v / norm for each v
        if not rows:
            return self._bias.copy()
        result: FloatArray = (
            np.array(values, dtype=np.float32) @ self._weights.take(rows, axis=0) + self._bias
        )
        return result

    def _word_features(
        self, block: _Block, kept: dict[str, tuple[int, ...]], by_row: dict[str, int], word: str
    ) -> tuple[int, ...]:
        """The block's features of one word (its n-grams that are in the vocabulary, as rows of the
        weights), kept for the words of the training data: most of what children write, worked out once."""
        found = tuple(i for i in map(by_row.get, block.analyze(word)) if i is not None)
        if word in self._known_words:
            kept[word] = found
        return found

    def predict(self, text: str) -> Scored:
        probabilities = _softmax(self.scores(text) * self._temperature)
        # Python floats holding the float32 values exactly; ranked in Python (a few microseconds less than
        # numpy's argsort on a few dozen values). Only equal values could be ordered differently from
        # argsort, so a tie goes to argsort itself.
        values = probabilities.tolist()
        if len(set(values)) == len(values):
            top: Iterable[int] = sorted(range(len(values)), key=values.__getitem__, reverse=True)[
                :RANKING_SIZE
            ]
        else:
            top = np.argsort(-probabilities)[:RANKING_SIZE].tolist()
        intents = self._intents
        return Scored(tuple([(intents[i], values[i]) for i in top]))

    def predict_many(self, texts: Sequence[str]) -> list[Scored]:
        return [self.predict(text) for text in texts]


_NOT_NONE = functools.partial(operator.is_not, None)


def _pick(values: Sequence[float], keys: Collection[int]) -> Sequence[float]:
    """values[k] for each of `keys`, in order (one C call for many keys)."""
    if len(keys) == 1:
        return [values[k] for k in keys]
    picked: tuple[float, ...] = operator.itemgetter(*keys)(values)
    return picked


def _softmax(scores: FloatArray) -> FloatArray:
    shifted = np.exp(scores - scores.max())
    result: FloatArray = shifted / shifted.sum()
    return result


def _fit_temperature(
    features: Any, texts: list[str], labels: list[str], intents: list[str], c: float, say: Progress
) -> float:
    """The softmax temperature that best predicts held-out folds (minimum negative log-likelihood)."""
    counts = Counter(labels)
    folds = min(5, min(counts.values()))
    if folds < 2:
        # An intent with a single example cannot be held out; a moderate default keeps confidences sane.
        return 5.0
    # Spelling variants of one example ("hjälp", "hjalp") share a fold: a variant in the training folds
    # would make the held-out fold look easy and the confidences too high.
    groups = [normalise(text) for text in texts]
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=0)
    index = {intent: i for i, intent in enumerate(intents)}
    scores = np.zeros((len(labels), len(intents)), dtype=np.float64)
    for k, (train_rows, test_rows) in enumerate(splitter.split(features, labels, groups), 1):
        say(f"  calibration fold {k}/{folds}")
        svm = LinearSVC(C=c).fit(features[train_rows], [labels[i] for i in train_rows])
        fold = np.asarray(svm.decision_function(features[test_rows]), dtype=np.float64)
        if fold.ndim == 1:
            fold = np.column_stack([-fold, fold])
        # An intent missing from this fold's training part scores below everything else.
        block = np.full((len(test_rows), len(intents)), fold.min() - 1.0)
        block[:, [index[name] for name in svm.classes_]] = fold
        scores[test_rows] = block
    gold = np.array([index[label] for label in labels])

    def nll(temperature: float) -> float:
        scaled = scores * temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(scaled).sum(axis=1))
        return float((log_z - scaled[np.arange(len(gold)), gold]).mean())

    result = minimize_scalar(nll, bounds=(0.1, 50.0), method="bounded")
    return float(result.x)
