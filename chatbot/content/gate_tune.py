"""Chooses the classifier's threshold honestly: leave one training set out, train on the rest, score it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chatbot.content.wording_bank import RULES, TRAINING_SETS, Classifier, load_bank
from chatbot.content.wording_rules import judge, negated

THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6, 0.7)


@dataclass
class Fold:
    """One left-out sentence: its label ('' when clean), the classifier's probabilities, what patterns saw."""

    sentence: str
    label: str
    probabilities: dict[str, float]
    patterns: frozenset[str]
    negated: frozenset[str]


@dataclass
class Tuning:
    language: str
    rows: list[Fold] = field(default_factory=list)

    def classifier_recall(self, rule: str, threshold: float) -> float:
        positives = [r for r in self.rows if r.label == rule]
        return sum(r.probabilities.get(rule, 0) >= threshold for r in positives) / max(1, len(positives))

    def gate_recall(self, rule: str, threshold: float) -> float:
        positives = [r for r in self.rows if r.label == rule]
        caught = sum(
            rule in r.patterns or (rule not in r.negated and r.probabilities.get(rule, 0) >= threshold)
            for r in positives
        )
        return caught / max(1, len(positives))

    def classifier_false_warnings(self, threshold: float) -> float:
        """Share of the left-out clean sentences the classifier alone warns about (no pattern flagged them)."""
        clean = [r for r in self.rows if not r.label]
        warned = sum(
            any(r.probabilities.get(rule, 0) >= threshold and rule not in r.negated for rule in RULES)
            for r in clean
            if not r.patterns
        )
        return warned / max(1, len(clean))


def tune(sets: Sequence[Path] = TRAINING_SETS, languages: Sequence[str] = ("sv", "en")) -> list[Tuning]:
    tunings = {language: Tuning(language) for language in languages}
    for left_out in sets:
        classifier = Classifier(load_bank(training=[s for s in sets if s != left_out]), languages, 1.0)
        held = load_bank(training=[left_out]).spent
        for language in languages:
            for sentence, label in held.get(language, ()):
                tunings[language].rows.append(
                    Fold(
                        sentence,
                        label,
                        classifier.probabilities(sentence, language),
                        frozenset(j.rule for j in judge(sentence, language)),
                        negated(sentence, language),
                    )
                )
    return list(tunings.values())


def format_tuning(tunings: Sequence[Tuning], thresholds: Sequence[float] = THRESHOLDS) -> str:
    lines = ["lang  threshold  " + "  ".join(f"{r[:8]:>8} clf/gate" for r in RULES) + "  false warnings"]
    for tuning in tunings:
        for t in thresholds:
            figures = "  ".join(
                f"{tuning.classifier_recall(r, t):8.2f}/{tuning.gate_recall(r, t):.2f}" for r in RULES
            )
            lines.append(
                f"{tuning.language:<4}  {t:9.2f}  {figures}  {tuning.classifier_false_warnings(t):14.3f}"
            )
    return "\n".join(lines)
