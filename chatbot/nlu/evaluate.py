"""Evaluation of an intent backend on a Rasa NLU test file: accuracy, macro-F1, per-intent scores, confusions.

The top intent is scored as it is, without the confidence threshold: the threshold is a choice about when
to ask again, reported separately as the share of messages below it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from chatbot.nlu.classifier import Prediction
from chatbot.nlu.data import NluData
from chatbot.nlu.embedded import EmbeddedModel, Progress


@dataclass(frozen=True)
class IntentScore:
    precision: float
    recall: float
    f1: float
    support: int


# Names of the "anything else" intent: ours, and CLINC150's (Larson et al., 2019).
OUT_OF_SCOPE_NAMES = ("out_of_scope", "oos")


@dataclass(frozen=True)
class OutOfScopeScore:
    """CLINC150's two figures, as the top intent says and with the confidence threshold applied.

    In-scope accuracy: in-scope messages given their own intent. Out-of-scope recall: out-of-scope messages
    given the out-of-scope intent. "With the threshold" counts a message below the confidence threshold as
    out of scope, which is what the dialogue does with it: it does not act on the intent, it asks again and
    offers a person (Larson et al.'s "oos-threshold" method).
    """

    intent: str
    in_scope_examples: int
    out_of_scope_examples: int
    in_scope_accuracy: float
    out_of_scope_recall: float
    in_scope_accuracy_threshold: float
    out_of_scope_recall_threshold: float


def out_of_scope_score(
    gold: Sequence[str], predictions: Sequence[Prediction], intent: str | None = None
) -> OutOfScopeScore | None:
    """The figures for `intent` (default: the first of OUT_OF_SCOPE_NAMES in `gold`); None without one."""
    name = intent or next((n for n in OUT_OF_SCOPE_NAMES if n in gold), None)
    if name is None or name not in gold:
        return None
    inside = [(g, p) for g, p in zip(gold, predictions, strict=True) if g != name]
    outside = [p for g, p in zip(gold, predictions, strict=True) if g == name]
    if not inside:
        return None

    def share(hits: int, total: int) -> float:
        return round(hits / total, 4)

    return OutOfScopeScore(
        intent=name,
        in_scope_examples=len(inside),
        out_of_scope_examples=len(outside),
        in_scope_accuracy=share(sum(p.intent == g for g, p in inside), len(inside)),
        out_of_scope_recall=share(sum(p.intent == name for p in outside), len(outside)),
        in_scope_accuracy_threshold=share(sum(p.intent == g and p.confident for g, p in inside), len(inside)),
        out_of_scope_recall_threshold=share(
            sum(p.intent == name or not p.confident for p in outside), len(outside)
        ),
    )


@dataclass(frozen=True)
class Report:
    backend: str
    train_examples: int
    train_intents: int
    test_examples: int
    accuracy: float
    macro_f1: float
    weighted_f1: float
    below_threshold: float
    threshold: float
    train_seconds: float
    ms_per_message: float
    per_intent: dict[str, IntentScore]
    confusions: list[tuple[str, str, int]] = field(default_factory=list)
    """(gold, predicted, count), most frequent first."""
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    """(gold, predicted, source 'file:line'): which test lines were wrong (no text, to keep reports small)."""
    out_of_scope: OutOfScopeScore | None = None
    """Out-of-scope detection, when the test set has an out-of-scope intent (`out_of_scope` or `oos`)."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["confusions"] = [{"intent": g, "predicted": p, "count": n} for g, p, n in self.confusions]
        data["errors"] = [{"intent": g, "predicted": p, "source": s} for g, p, s in self.errors]
        return data

    def to_text(self, top_confusions: int = 15) -> str:
        lines = [
            f"backend: {self.backend}",
            f"trained on {self.train_examples} examples of {self.train_intents} intents "
            f"in {self.train_seconds:.1f}s",
            f"tested on {self.test_examples} examples; {self.ms_per_message:.3f} ms per message",
            f"accuracy {self.accuracy:.3f}   macro-F1 {self.macro_f1:.3f}   weighted-F1 {self.weighted_f1:.3f}",
            f"below the confidence threshold {self.threshold:g}: {self.below_threshold:.1%}",
            "",
        ]
        width = max([len("intent"), *(len(name) for name in self.per_intent)])
        lines.append(f"{'intent'.ljust(width)}  precision  recall     f1  support")
        for name, score in sorted(self.per_intent.items()):
            lines.append(
                f"{name.ljust(width)}  {score.precision:9.3f}  {score.recall:6.3f}  {score.f1:5.3f}  "
                f"{score.support:7d}"
            )
        oos = self.out_of_scope
        if oos is not None:
            lines += [
                "",
                f"out of scope ('{oos.intent}': {oos.out_of_scope_examples} messages, "
                f"{oos.in_scope_examples} in scope):",
                f"  top intent:                     in-scope accuracy {oos.in_scope_accuracy:.3f}   "
                f"out-of-scope recall {oos.out_of_scope_recall:.3f}",
                f"  below {self.threshold:g} counts as out of scope: in-scope accuracy "
                f"{oos.in_scope_accuracy_threshold:.3f}   out-of-scope recall {oos.out_of_scope_recall_threshold:.3f}",
            ]
        if self.confusions:
            lines += ["", "most frequent confusions (intent -> predicted: count):"]
            lines += [f"  {g} -> {p}: {n}" for g, p, n in self.confusions[:top_confusions]]
        return "\n".join(lines)


def score(
    gold: Sequence[str],
    predictions: Sequence[Prediction],
    *,
    test: NluData,
    backend: str,
    train: NluData,
    train_seconds: float,
    seconds: float,
    threshold: float,
) -> Report:
    predicted = [p.intent for p in predictions]
    labels = sorted(set(gold) | set(predicted))
    pairs = Counter(zip(gold, predicted, strict=True))
    per_intent: dict[str, IntentScore] = {}
    for label in labels:
        tp = pairs[(label, label)]
        predicted_n = sum(n for (_, p), n in pairs.items() if p == label)
        support = sum(n for (g, _), n in pairs.items() if g == label)
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = IntentScore(round(precision, 4), round(recall, 4), round(f1, 4), support)
    total = len(gold)
    correct = sum(n for (g, p), n in pairs.items() if g == p)
    macro = sum(s.f1 for s in per_intent.values()) / len(per_intent)
    weighted = sum(s.f1 * s.support for s in per_intent.values()) / total
    confusions = sorted(
        ((g, p, n) for (g, p), n in pairs.items() if g != p), key=lambda item: (-item[2], item[0], item[1])
    )
    errors = [(e.intent, p, e.source) for e, p in zip(test.examples, predicted, strict=True) if e.intent != p]
    return Report(
        backend=backend,
        train_examples=len(train.examples),
        train_intents=len(train.intents),
        test_examples=total,
        accuracy=round(correct / total, 4),
        macro_f1=round(macro, 4),
        weighted_f1=round(weighted, 4),
        below_threshold=round(sum(not p.confident for p in predictions) / total, 4),
        threshold=threshold,
        train_seconds=round(train_seconds, 2),
        ms_per_message=round(seconds / total * 1000, 4),
        per_intent=per_intent,
        confusions=confusions,
        errors=errors,
        out_of_scope=out_of_scope_score(gold, predictions),
    )


def evaluate_embedded(
    train: NluData, test: NluData, *, threshold: float, progress: Progress | None = None
) -> Report:
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    model = EmbeddedModel.train(train, progress=say)
    train_seconds = time.perf_counter() - started
    say(f"predicting {len(test.examples)} test examples")
    predictions: list[Prediction] = []
    step = max(1, len(test.examples) // 10)
    started = time.perf_counter()
    for i, text in enumerate(test.texts, 1):
        predictions.append(Prediction.from_scored(model.predict(text), model.backend, threshold))
        if i % step == 0:
            say(f"  {i}/{len(test.examples)}")
    seconds = time.perf_counter() - started
    return score(
        test.labels,
        predictions,
        test=test,
        backend="embedded",
        train=train,
        train_seconds=train_seconds,
        seconds=seconds,
        threshold=threshold,
    )


async def evaluate_remote(
    parse: Callable[[str], Awaitable[Prediction]],
    train: NluData,
    test: NluData,
    *,
    backend: str,
    train_seconds: float,
    threshold: float,
    progress: Progress | None = None,
    concurrency: int = 4,
) -> Report:
    """Score a backend reached over the network (Rasa), a few requests at a time."""
    say = progress or (lambda _msg: None)
    results: list[Prediction | None] = [None] * len(test.examples)
    semaphore = asyncio.Semaphore(concurrency)
    done = 0
    step = max(1, len(test.examples) // 10)

    async def one(i: int, text: str) -> None:
        nonlocal done
        async with semaphore:
            results[i] = await parse(text)
        done += 1
        if done % step == 0:
            say(f"  {done}/{len(test.examples)}")

    say(f"predicting {len(test.examples)} test examples")
    started = time.perf_counter()
    await asyncio.gather(*(one(i, t) for i, t in enumerate(test.texts)))
    seconds = time.perf_counter() - started
    predictions = [p for p in results if p is not None]
    return score(
        test.labels,
        predictions,
        test=test,
        backend=backend,
        train=train,
        train_seconds=train_seconds,
        seconds=seconds,
        threshold=threshold,
    )
