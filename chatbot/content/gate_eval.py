"""Measures the wording rules on held-out sentences: recall per rule and language, false alarms on clean text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from chatbot.content.guidelines.findings import Finding, Level
from chatbot.content.guidelines.rules import WORDING_RULES, check_sentence

RULES = tuple(WORDING_RULES)


class HeldoutError(ValueError):
    """The held-out file is not the shape gate-eval reads."""


@dataclass
class Score:
    """How one language fared: per rule, the violations caught (as a violation, or only as a warning)."""

    locale: str
    caught: dict[str, int] = field(default_factory=dict)
    warned_only: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    missed: dict[str, list[str]] = field(default_factory=dict)
    wrong_rule: dict[str, list[str]] = field(default_factory=dict)
    clean_total: int = 0
    false_alarms: list[tuple[str, Finding]] = field(default_factory=list)

    def recall(self, rule: str) -> float:
        return (self.caught[rule] + self.warned_only[rule]) / max(1, self.total[rule])

    def strict_recall(self, rule: str) -> float:
        return self.caught[rule] / max(1, self.total[rule])

    @property
    def false_alarm_rate(self) -> float:
        return len({s for s, _ in self.false_alarms}) / max(1, self.clean_total)


def load_heldout(path: Path) -> dict[str, dict[str, list[str]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise HeldoutError(f"{path}: expected a mapping of languages")
    out: dict[str, dict[str, list[str]]] = {}
    for locale, groups in data.items():
        if not isinstance(groups, dict) or set(groups) - {*RULES, "clean"}:
            raise HeldoutError(f"{path}: {locale}: expected the keys {', '.join((*RULES, 'clean'))}")
        out[str(locale)] = {str(k): [str(s) for s in v or []] for k, v in groups.items()}
    return out


def evaluate(heldout: Mapping[str, Mapping[str, Sequence[str]]]) -> list[Score]:
    scores = []
    for locale, groups in heldout.items():
        score = Score(locale)
        for rule in RULES:
            sentences = groups.get(rule, ())
            score.total[rule] = len(sentences)
            score.caught[rule] = score.warned_only[rule] = 0
            score.missed[rule], score.wrong_rule[rule] = [], []
            for sentence in sentences:
                found = [f for f in check_sentence(sentence, locale) if f.rule == rule]
                if any(f.level is Level.VIOLATION for f in found):
                    score.caught[rule] += 1
                elif found:
                    score.warned_only[rule] += 1
                else:
                    score.missed[rule].append(sentence)
                    if check_sentence(sentence, locale):
                        score.wrong_rule[rule].append(sentence)
        clean = groups.get("clean", ())
        score.clean_total = len(clean)
        for sentence in clean:
            score.false_alarms += [(sentence, f) for f in check_sentence(sentence, locale)]
        scores.append(score)
    return scores


def format_scores(scores: Sequence[Score], *, verbose: bool = False) -> str:
    lines = [
        "lang  rule           recall  (as violation)  caught/total",
        "----  -------------  ------  --------------  ------------",
    ]
    for score in scores:
        for rule in RULES:
            lines.append(
                f"{score.locale:<4}  {rule:<13}  {score.recall(rule):6.2f}  {score.strict_recall(rule):14.2f}"
                f"  {score.caught[rule] + score.warned_only[rule]:>5}/{score.total[rule]}"
            )
        alarms = len({s for s, _ in score.false_alarms})
        lines.append(
            f"{score.locale:<4}  clean          false alarms {alarms}/{score.clean_total}"
            f" ({20 * score.false_alarm_rate:.1f} in 20)"
        )
    if verbose:
        for score in scores:
            for rule in RULES:
                for sentence in score.missed[rule]:
                    lines.append(f"missed  {score.locale} {rule}: {sentence}")
            for sentence, finding in score.false_alarms:
                lines.append(
                    f"alarm   {score.locale} [{finding.rule} {finding.level}]: {sentence}: {finding.message}"
                )
    return "\n".join(lines)
