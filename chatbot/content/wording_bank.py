"""The bank of labelled sentences per wording rule and language, and the small classifier trained on it.

content/guidelines/bank/<rule>.yml holds, per language, sentences that break the rule (`violations`) and
sentences that look close but are fine (`clean`). The tests run every line through the gate, and the
classifier learns from them: when no pattern of chatbot.content.wording_rules matches a sentence but it reads
like the bank's violations of a rule, the gate warns the reviewer and names the closest labelled example.
The classifier only ever warns; a violation always comes from a pattern with a reason in plain words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from chatbot.content.wording import read

RULES = ("blame", "promise", "personal_data")
BANK_DIR = Path(__file__).resolve().parents[2] / "content" / "guidelines" / "bank"
# A sentence the classifier gives at least this probability of breaking a rule is shown to the reviewer.
# Chosen by 5-fold cross-validation over the bank (about 2 % false warnings on its clean sentences, C 10),
# never on the held-out file.
THRESHOLD = 0.7
C = 10.0


class BankError(ValueError):
    """A bank file is not the shape the gate reads."""


@dataclass(frozen=True)
class Examples:
    violations: tuple[str, ...]
    clean: tuple[str, ...]


@dataclass(frozen=True)
class Bank:
    rules: Mapping[str, Mapping[str, Examples]]  # rule -> language -> examples
    # Sentences clean for every rule (answers.yml: the reviewed answers), per language.
    clean: Mapping[str, tuple[str, ...]]

    def examples(self, rule: str, language: str) -> Examples:
        return self.rules[rule].get(language, Examples((), ()))


def load_bank(directory: Path = BANK_DIR) -> Bank:
    bank: dict[str, dict[str, Examples]] = {}
    for rule in RULES:
        path = directory / f"{rule}.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise BankError(f"{path}: expected a mapping of languages")
        bank[rule] = {}
        for language, groups in data.items():
            if not isinstance(groups, dict) or set(groups) - {"violations", "clean"}:
                raise BankError(f"{path}: {language}: expected 'violations' and 'clean'")
            bank[rule][str(language)] = Examples(
                tuple(str(s) for s in groups.get("violations") or ()),
                tuple(str(s) for s in groups.get("clean") or ()),
            )
    path = directory / "answers.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise BankError(f"{path}: expected a list of sentences per language")
    return Bank(bank, {str(k): tuple(str(s) for s in v) for k, v in data.items()})


def normalised(sentence: str, language: str) -> str:
    return " ".join(c.text for c in read(sentence, language).clauses)


@dataclass(frozen=True)
class Suspicion:
    rule: str
    probability: float
    closest: str


class Classifier:
    """One small model per language and rule: character n-grams of the normalised words, logistic regression."""

    def __init__(
        self, bank: Bank, languages: Sequence[str] = ("sv", "en"), threshold: float = THRESHOLD
    ) -> None:
        self.threshold = threshold
        # A sentence the bank labels clean (for a rule, or for all) is never suspected: that is how a reviewer's
        # "this is fine" overrules the classifier.
        self._clean: dict[tuple[str, str], set[str]] = {}
        self._models: dict[
            tuple[str, str], tuple[TfidfVectorizer, LogisticRegression, list[str], np.ndarray]
        ] = {}
        for language in languages:
            everything = [
                (sentence, rule, label)
                for rule in RULES
                for label in ("violations", "clean")
                for sentence in getattr(bank.examples(rule, language), label)
            ]
            everything += [(sentence, "", "clean") for sentence in bank.clean.get(language, ())]
            for rule in RULES:
                self._clean[(language, rule)] = {
                    normalised(s, language)
                    for s, r, label in everything
                    if label == "clean" and r in {rule, ""}
                }
                texts = [normalised(s, language) for s, _, _ in everything]
                labels = [int(r == rule and label == "violations") for _, r, label in everything]
                if sum(labels) < 2 or sum(labels) == len(labels):
                    continue
                vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
                matrix = vectoriser.fit_transform(texts)
                model = LogisticRegression(C=C, class_weight="balanced", max_iter=1000)
                model.fit(matrix, labels)
                positives = [s for (s, _, _), y in zip(everything, labels, strict=True) if y]
                rows = np.array([i for i, y in enumerate(labels) if y])
                self._models[(language, rule)] = (vectoriser, model, positives, matrix[rows])

    def suspect(self, sentence: str, language: str) -> list[Suspicion]:
        return list(self._suspect(sentence, language))

    @lru_cache(maxsize=4096)  # noqa: B019 - one classifier per process; the cache lives as long
    def _suspect(self, sentence: str, language: str) -> tuple[Suspicion, ...]:
        found = []
        for rule in RULES:
            entry = self._models.get((language, rule))
            if entry is None:
                continue
            vectoriser, model, positives, matrix = entry
            text = normalised(sentence, language)
            if text in self._clean[(language, rule)]:
                continue
            vector = vectoriser.transform([text])
            probability = float(model.predict_proba(vector)[0][1])
            if probability >= self.threshold:
                closest = positives[int((matrix @ vector.T).toarray().ravel().argmax())]
                found.append(Suspicion(rule, probability, closest))
        return tuple(found)


@cache
def default_classifier() -> Classifier:
    return Classifier(load_bank())
