"""`python -m chatbot nlu evaluate|parse` as a user runs them: text and JSON reports, large data, bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from chatbot.settings import PROJECT_ROOT
from tests.chatbot.nlu.helpers import HELDOUT, INTENTS, synthetic, write


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatbot", "nlu", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_evaluate_prints_a_text_report_and_progress_on_stderr() -> None:
    done = _run("evaluate", "--test", str(HELDOUT))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "backend: embedded" in out
    assert "accuracy 0.9" in out and "macro-F1" in out
    assert "intent" in out and "precision" in out and "recall" in out
    for intent in INTENTS:
        assert f"\n{intent} " in out
    assert "most frequent confusions" in out
    assert "nlu: training on" in done.stderr and "nlu: predicting" in done.stderr


def test_evaluate_json_is_one_object_with_the_documented_fields() -> None:
    done = _run("evaluate", "--test", str(HELDOUT), "--json", "--threshold", "0.5")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["backend"] == "embedded"
    assert 0.88 <= report["accuracy"] <= 1.0
    assert 0.88 <= report["macro_f1"] <= 1.0
    assert report["threshold"] == 0.5
    assert set(report["per_intent"]) == INTENTS
    for score in report["per_intent"].values():
        assert set(score) == {"precision", "recall", "f1", "support"}
    assert sum(s["support"] for s in report["per_intent"].values()) == report["test_examples"]
    for confusion in report["confusions"]:
        assert confusion["intent"] != confusion["predicted"] and confusion["count"] >= 1
    assert all(e["source"].startswith(str(HELDOUT)) for e in report["errors"])


def test_evaluate_trains_on_a_large_file_with_many_intents(tmp_path: Path) -> None:
    train_text, test_text = synthetic(intents=120, per_intent=16)
    train = write(tmp_path / "train.yml", train_text)
    test = write(tmp_path / "test.yml", test_text)
    done = _run("evaluate", "--train", str(train), "--test", str(test), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["train_intents"] == 120
    assert report["train_examples"] >= 1900
    assert len(report["per_intent"]) == 120
    assert report["accuracy"] >= 0.9


def test_evaluate_rejects_a_malformed_test_file_with_file_and_line(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yml", 'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    hej\n')
    done = _run("evaluate", "--test", str(bad))
    assert done.returncode == 2
    assert f"{bad}:5: an example must start with '- '" in done.stderr
    assert done.stdout == ""


def test_evaluate_counts_intents_the_model_does_not_know_as_errors(tmp_path: Path) -> None:
    test = write(
        tmp_path / "t.yml",
        'version: "3.1"\nnlu:\n- intent: weather\n  examples: |\n    - will it rain\n'
        "- intent: greet\n  examples: |\n    - hejsan svejsan\n",
    )
    report = json.loads(_run("evaluate", "--test", str(test), "--json").stdout)
    assert report["per_intent"]["weather"]["recall"] == 0.0
    assert report["accuracy"] <= 0.5


def test_parse_shows_intent_ranking_and_crisis() -> None:
    done = _run("parse", "jag vill inte leva längre")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["intent"] == "crisis"
    assert answer["crisis"] is True and answer["crisis_reason"]
    assert answer["backend"] == "embedded"
    assert len(answer["ranking"]) == 10


def test_evaluate_reports_out_of_scope_detection_with_and_without_the_threshold() -> None:
    done = _run("evaluate", "--test", str(HELDOUT), "--json")
    assert done.returncode == 0, done.stderr
    oos = json.loads(done.stdout)["out_of_scope"]
    assert oos["intent"] == "out_of_scope"
    assert oos["out_of_scope_examples"] == json.loads(done.stdout)["per_intent"]["out_of_scope"]["support"]
    # Below the threshold counts as out of scope: recall can only rise, in-scope accuracy only fall.
    assert oos["out_of_scope_recall_threshold"] >= oos["out_of_scope_recall"] > 0.5
    assert oos["in_scope_accuracy_threshold"] <= oos["in_scope_accuracy"]
    text = _run("evaluate", "--test", str(HELDOUT)).stdout
    assert "out of scope ('out_of_scope':" in text and "below 0.6 counts as out of scope" in text
