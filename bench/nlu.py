"""Intent-model benchmark: the figures of docs/benchmarks.md's "Intent model" section, in one run.

embedded   training time on content/nlu; accuracy and macro-F1 on the held-out set; per-message latency
           of one prediction (p50 / p99 over many repetitions) and throughput through the async
           classifier (worker thread, micro-batching)
crisis     recall on every crisis list (held-out crisis list, held-out test set, held-out lives set, training
           data), for the patterns alone and with the classifier; false-positive rate on the held-out non-crisis
           messages; the crisis confusion matrix on the held-out test and lives sets
life       the held-out lives set (content/nlu/heldout/life.yml) as the dialogue acts on it, per intent
unseen     the same for the unseen set (content/nlu/heldout/unseen.yml), with its crisis confusion matrix
           (CLINC150 is bench/clinc.py)
rasa       (--rasa) the same accuracy figures for Rasa 3.6 DIET, through `nlu evaluate --backend rasa`

  .venv/bin/python bench/nlu.py            # embedded + crisis, under a minute
  .venv/bin/python bench/nlu.py --rasa     # + Rasa (minutes: setup and training are cached)
  .venv/bin/python bench/nlu.py --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatbot.nlu import data  # noqa: E402
from chatbot.nlu.classifier import EmbeddedClassifier, Prediction  # noqa: E402
from chatbot.nlu.crisis import CrisisDetector  # noqa: E402
from chatbot.nlu.embedded import EmbeddedModel  # noqa: E402
from chatbot.nlu.evaluate import evaluate_embedded  # noqa: E402

HELDOUT = ROOT / "content" / "nlu" / "heldout" / "test.yml"
CRISIS = ROOT / "content" / "nlu" / "heldout" / "crisis.yml"
LIFE = ROOT / "content" / "nlu" / "heldout" / "life.yml"
# Written before the crisis precision work of issue 18 and never tuned on (docs/nlu.md).
UNSEEN = ROOT / "content" / "nlu" / "heldout" / "unseen.yml"
THRESHOLD = 0.6


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def embedded_figures(train: data.NluData, test: data.NluData) -> dict[str, Any]:
    say("training the embedded model 3 times")
    times = []
    model = None
    for _ in range(3):
        started = time.perf_counter()
        model = EmbeddedModel.train(train)
        times.append(time.perf_counter() - started)
    assert model is not None
    report = evaluate_embedded(train, test, threshold=THRESHOLD)
    say("timing single predictions")
    texts = test.texts
    for text in texts:  # warm-up
        model.predict(text)
    samples = []
    for _ in range(20):
        for text in texts:
            started = time.perf_counter()
            model.predict(text)
            samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    # CPU time of this thread: what a prediction costs, whatever else the machine is doing.
    cpu_started = time.thread_time()
    for _ in range(20):
        for text in texts:
            model.predict(text)
    cpu_us = (time.thread_time() - cpu_started) / (20 * len(texts)) * 1e6

    async def throughput() -> float:
        classifier = EmbeddedClassifier(model, THRESHOLD)
        batch = (texts * 30)[:10000]
        started = time.perf_counter()
        await asyncio.gather(*(classifier.parse(t) for t in batch))
        seconds = time.perf_counter() - started
        await classifier.aclose()
        return len(batch) / seconds

    say("throughput through the async classifier")
    per_second = asyncio.run(throughput())
    return {
        "train_seconds_median": round(statistics.median(times), 2),
        "accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        "below_threshold": report.below_threshold,
        "latency_us_p50": round(samples[len(samples) // 2]),
        "latency_us_p99": round(samples[int(len(samples) * 0.99)]),
        "cpu_us_per_message": round(cpu_us),
        "async_messages_per_second": round(per_second),
        "crisis_recall_classifier_only": report.per_intent["crisis"].recall,
    }


def life_figures(train: data.NluData, path: Path = LIFE) -> dict[str, Any]:
    """A held-out set (the lives set of issue 18 by default) as the dialogue acts on it: crisis when the
    check fires, else the intent when confident, else "ask again" (counted as wrong)."""
    model = EmbeddedModel.train(train)
    detector = CrisisDetector()
    life = data.load(path)
    per: dict[str, dict[str, int]] = {}
    for example in life.examples:
        prediction = Prediction.from_scored(model.predict(example.text), "embedded", THRESHOLD)
        if detector.check(example.text, prediction).crisis:
            acted = "crisis"
        else:
            acted = prediction.intent if prediction.confident else "ask_again"
        per.setdefault(example.intent, {"support": 0, "right": 0, "predicted": 0})
        per.setdefault(acted, {"support": 0, "right": 0, "predicted": 0})
        per[example.intent]["support"] += 1
        per[acted]["predicted"] += 1
        per[example.intent]["right"] += acted == example.intent
    right = sum(v["right"] for v in per.values())
    return {
        "messages": len(life.examples),
        "accuracy": round(right / len(life.examples), 4),
        "per_intent": {
            name: {
                "precision": round(v["right"] / v["predicted"], 4) if v["predicted"] else 0.0,
                "recall": round(v["right"] / v["support"], 4) if v["support"] else 0.0,
                "support": v["support"],
            }
            for name, v in sorted(per.items())
        },
    }


def crisis_figures(train: data.NluData, test: data.NluData) -> dict[str, Any]:
    model = EmbeddedModel.train(train)
    detector = CrisisDetector()
    life = data.load(LIFE)
    unseen = data.load(UNSEEN)
    lists = {
        "heldout_crisis_list": data.load(CRISIS),
        "heldout_test_set": test,
        "heldout_life_set": life,
        "heldout_unseen_set": unseen,
        "training_data": train,
    }
    result: dict[str, Any] = {}
    for name, source in lists.items():
        texts = [e.text for e in source.examples if e.intent == "crisis"]
        patterns = sum(detector.check_text(t).crisis for t in texts)
        full = sum(
            detector.check(t, Prediction.from_scored(model.predict(t), "embedded", THRESHOLD)).crisis
            for t in texts
        )
        result[name] = {
            "messages": len(texts),
            "recall_patterns": patterns / len(texts),
            "recall": full / len(texts),
        }
    others = [e.text for e in test.examples if e.intent != "crisis"]
    alarms = sum(
        detector.check(t, Prediction.from_scored(model.predict(t), "embedded", THRESHOLD)).crisis
        for t in others
    )
    result["false_positives"] = {
        "messages": len(others),
        "alarms": alarms,
        "rate": round(alarms / len(others), 4),
    }
    # The crisis confusion matrix on both held-out sets written before their training (test and life), and on
    # the unseen set written before the precision work and never tuned on.
    result["confusion_heldout_test_and_life"] = _confusion(model, detector, [*test.examples, *life.examples])
    result["confusion_unseen"] = _confusion(model, detector, list(unseen.examples))
    started = time.perf_counter()
    for _ in range(20):
        for text in others:
            detector.check_text(text)
    result["pattern_check_us"] = round((time.perf_counter() - started) / (20 * len(others)) * 1e6, 1)
    return result


def _confusion(
    model: EmbeddedModel, detector: CrisisDetector, examples: list[data.Example]
) -> dict[str, Any]:
    matrix: dict[str, Any] = {
        "true_positive": 0,
        "false_negative": 0,
        "false_positive": 0,
        "true_negative": 0,
    }
    reasons: list[str] = []
    for example in examples:
        prediction = Prediction.from_scored(model.predict(example.text), "embedded", THRESHOLD)
        check = detector.check(example.text, prediction)
        gold = example.intent == "crisis"
        key = ("true_" if check.crisis == gold else "false_") + ("positive" if check.crisis else "negative")
        matrix[key] += 1
        if check.crisis and not gold:
            reasons.append(f"{example.source.removeprefix(str(ROOT) + '/')}: {check.reason}")
    flagged = matrix["true_positive"] + matrix["false_positive"]
    matrix["precision"] = round(matrix["true_positive"] / flagged, 4) if flagged else 0.0
    matrix["recall"] = round(
        matrix["true_positive"] / (matrix["true_positive"] + matrix["false_negative"]), 4
    )
    matrix["false_alarms"] = reasons
    return matrix


def rasa_figures() -> dict[str, Any]:
    say("Rasa: setup, training (cached), serving and evaluating; this takes minutes")
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chatbot",
            "nlu",
            "evaluate",
            "--backend",
            "rasa",
            "--test",
            str(HELDOUT),
            "--json",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        # The real DIET pipeline, whatever the caller's environment says (the tests use the fast one).
        env={**os.environ, "RASA_CONFIG": "rasa/config.yml"},
    )
    report = json.loads(done.stdout)
    return {
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "below_threshold": report["below_threshold"],
        "ms_per_message_http": report["ms_per_message"],
        "crisis_recall_classifier_only": report["per_intent"]["crisis"]["recall"],
        "train_seconds_this_run": report["train_seconds"],
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rasa", action="store_true", help="also evaluate Rasa (minutes)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    train = data.load_project(ROOT / "content")
    test = data.load(HELDOUT)
    figures: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}",
        "train_examples": len(train.examples),
        "test_examples": len(test.examples),
        "embedded": embedded_figures(train, test),
        "crisis": crisis_figures(train, test),
        "life": life_figures(train),
        "unseen": life_figures(train, UNSEEN),
    }
    if args.rasa:
        figures["rasa"] = rasa_figures()
    print(json.dumps(figures, indent=None if args.json else 2))
    return 0


def _cores() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    raise SystemExit(main())
