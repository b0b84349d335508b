"""CLINC150 out-of-scope benchmark (Larson et al., 2019): in-scope accuracy and out-of-scope recall, from a file.

Reads CLINC150's `data_full.json` (from the clinc/oos-eval repository) from the path given; fetches nothing.
Trains the embedded model on `train` + `oos_train` (150 intents and `oos`), and reports on `test` +
`oos_test` the paper's two figures: as the top intent says, and with the confidence threshold applied (a
message below it counts as out of scope, as the dialogue treats it). The threshold is chosen on `val` +
`oos_val` (never on the test split: the highest that costs at most one point of in-scope accuracy there) and also reported at the project's default, 0.6.

  .venv/bin/python bench/clinc.py /path/to/data_full.json            # about 3 minutes on the 2-core machine
  .venv/bin/python bench/clinc.py /path/to/data_full.json --json
  .venv/bin/python bench/clinc.py /path/to/data_full.json --write-yaml DIR
      # DIR/clinc-train.yml and DIR/clinc-test.yml (Rasa NLU YAML) for
      # `python -m chatbot nlu evaluate --train DIR/clinc-train.yml --test DIR/clinc-test.yml [--backend rasa]`
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatbot.nlu import data  # noqa: E402
from chatbot.nlu.classifier import Prediction  # noqa: E402
from chatbot.nlu.embedded import EmbeddedModel  # noqa: E402
from chatbot.nlu.evaluate import OutOfScopeScore, out_of_scope_score  # noqa: E402

OOS = "oos"
DEFAULT_THRESHOLD = 0.6
# The thresholds tried on the validation split.
GRID = [round(0.05 * i, 2) for i in range(0, 17)]
# In-scope accuracy the chosen threshold may cost on the validation split.
MAX_COST = 0.01
SPLITS = ("train", "oos_train", "val", "oos_val", "test", "oos_test")
# Published rows (in-scope accuracy, out-of-scope recall) of Larson et al. (2019), Table 2, "Full" data.
PAPER = {
    "SVM (oos-train)": (91.0, 14.5),
    "MLP on USE (oos-train), best non-BERT": (93.5, 47.4),
    "BERT (oos-train)": (96.2, 40.3),
}

Pairs = list[tuple[str, str]]


class ClincError(ValueError):
    """The file is not CLINC150's data_full.json."""


def load(path: Path) -> dict[str, Pairs]:
    """The six splits as (intent, text) pairs."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClincError(f"{path}: cannot read CLINC150 JSON: {exc}") from None
    if not isinstance(raw, dict) or any(split not in raw for split in SPLITS):
        raise ClincError(f"{path}: expected the splits {', '.join(SPLITS)} (data_full.json)")
    splits: dict[str, Pairs] = {}
    for split in SPLITS:
        rows = raw[split]
        if not isinstance(rows, list) or not all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(x, str) for x in r) for r in rows
        ):
            raise ClincError(f"{path}: split {split!r} must be a list of [text, intent] pairs")
        splits[split] = [(intent, text) for text, intent in rows]
    return splits


def training_data(pairs: Pairs) -> data.NluData:
    """NluData without a text under two intents (the loader's rule; CLINC150 has a few such repeats)."""
    seen: set[str] = set()
    examples = []
    for i, (intent, text) in enumerate(pairs):
        key = " ".join(text.casefold().split())
        if key not in seen:
            seen.add(key)
            examples.append(data.Example(text, intent, f"train:{i}"))
    return data.NluData(tuple(examples))


def predict(model: EmbeddedModel, pairs: Pairs, threshold: float) -> list[Prediction]:
    return [Prediction.from_scored(model.predict(t), model.backend, threshold) for _, t in pairs]


def at_threshold(gold: Sequence[str], predictions: Sequence[Prediction], threshold: float) -> OutOfScopeScore:
    again = [
        Prediction(p.intent, p.confidence, p.ranking, p.backend, p.confidence >= threshold)
        for p in predictions
    ]
    score = out_of_scope_score(gold, again, OOS)
    assert score is not None
    return score


def choose_threshold(gold: Sequence[str], predictions: Sequence[Prediction]) -> float:
    """The highest threshold that costs at most one point of in-scope accuracy on the validation split:
    in-scope accuracy is what most messages feel, so out-of-scope recall is bought only cheaply."""
    top = at_threshold(gold, predictions, 0.0).in_scope_accuracy
    fitting = [
        t for t in GRID if at_threshold(gold, predictions, t).in_scope_accuracy_threshold >= top - MAX_COST
    ]
    return max(fitting)


def figures(splits: dict[str, Pairs], say: Any = None) -> dict[str, Any]:
    say = say or (lambda _m: None)
    train = training_data(splits["train"] + splits["oos_train"])
    say(f"training on {len(train.examples)} examples of {len(train.intents)} intents")
    started = time.perf_counter()
    model = EmbeddedModel.train(train, progress=say)
    train_seconds = time.perf_counter() - started
    val = splits["val"] + splits["oos_val"]
    test = splits["test"] + splits["oos_test"]
    say(f"predicting {len(val)} validation and {len(test)} test messages")
    val_predictions = predict(model, val, DEFAULT_THRESHOLD)
    cpu = time.thread_time()
    test_predictions = predict(model, test, DEFAULT_THRESHOLD)
    cpu_ms = (time.thread_time() - cpu) / len(test) * 1000
    chosen = choose_threshold([g for g, _ in val], val_predictions)
    gold = [g for g, _ in test]

    def row(threshold: float) -> dict[str, float]:
        s = at_threshold(gold, test_predictions, threshold)
        return {
            "threshold": threshold,
            "in_scope_accuracy": s.in_scope_accuracy_threshold,
            "oos_recall": s.out_of_scope_recall_threshold,
        }

    top = at_threshold(gold, test_predictions, 0.0)
    return {
        "train_examples": len(train.examples),
        "intents": len(train.intents),
        "test_messages": len(test),
        "train_seconds": round(train_seconds, 1),
        "cpu_ms_per_message": round(cpu_ms, 3),
        "top_intent": {"in_scope_accuracy": top.in_scope_accuracy, "oos_recall": top.out_of_scope_recall},
        "threshold_chosen_on_val": row(chosen),
        "threshold_default": row(DEFAULT_THRESHOLD),
        "thresholds": [row(t) for t in GRID if t > 0],
    }


def write_yaml(splits: dict[str, Pairs], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    train = training_data(splits["train"] + splits["oos_train"])
    (folder / "clinc-train.yml").write_text(data.dump(zip(train.labels, train.texts, strict=True)), "utf-8")
    (folder / "clinc-test.yml").write_text(data.dump(splits["test"] + splits["oos_test"]), "utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path, help="CLINC150's data_full.json")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write-yaml", type=Path, metavar="DIR", help="write Rasa NLU YAML files and stop")
    args = parser.parse_args(argv)
    try:
        splits = load(args.path)
    except ClincError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.write_yaml:
        write_yaml(splits, args.write_yaml)
        return 0
    result: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count() or 0} cores, Python {platform.python_version()}",
        "embedded": figures(splits, lambda m: print(f"clinc: {m}", file=sys.stderr, flush=True)),
        "paper": PAPER,
    }
    if args.json:
        print(json.dumps(result))
    else:
        e = result["embedded"]
        print(f"{result['date']} on {result['machine']}")
        print(
            f"trained on {e['train_examples']} examples, {e['intents']} intents, in {e['train_seconds']} s; "
            f"{e['cpu_ms_per_message']} ms CPU per message"
        )
        print(f"{'':34} in-scope accuracy  oos recall")
        print(
            f"{'top intent':34} {e['top_intent']['in_scope_accuracy']:17.3f}  {e['top_intent']['oos_recall']:.3f}"
        )
        for key in ("threshold_chosen_on_val", "threshold_default"):
            r = e[key]
            label = f"threshold {r['threshold']:g} ({'chosen on val' if key.endswith('val') else 'default'})"
            print(f"{label:34} {r['in_scope_accuracy']:17.3f}  {r['oos_recall']:.3f}")
        for name, (acc, rec) in PAPER.items():
            print(f"{'paper: ' + name:34} {acc / 100:17.3f}  {rec / 100:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
