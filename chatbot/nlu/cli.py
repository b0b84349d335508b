"""`python -m chatbot nlu ...`: evaluate an intent backend on a Rasa NLU test file, or try one message."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from chatbot.nlu import data
from chatbot.nlu.classifier import EmbeddedClassifier
from chatbot.nlu.crisis import CrisisDetector
from chatbot.nlu.embedded import EmbeddedModel
from chatbot.nlu.evaluate import Report, evaluate_embedded, evaluate_remote
from chatbot.nlu.rasa import RasaClassifier, RasaClient
from chatbot.settings import PROJECT_ROOT, Settings


def add_nlu_commands(commands: Any) -> None:
    """Register `nlu` and its subcommands on the main parser's subparsers."""
    nlu = commands.add_parser(
        "nlu",
        help="evaluate the intent model, or classify one message",
        description="The intent model (docs/nlu.md).",
    )
    sub = nlu.add_subparsers(dest="nlu_command", required=True, metavar="ACTION")

    evaluate = sub.add_parser(
        "evaluate",
        help="train, then report accuracy, macro-F1, per-intent scores and confusions on a test file",
        description=(
            "Train on the project's data (content/nlu/*.yml) or on --train, classify every example of the "
            "Rasa NLU YAML test file, and report. Progress goes to stderr, the report to stdout."
        ),
    )
    evaluate.add_argument("--test", type=Path, required=True, help="Rasa NLU YAML file to test on")
    evaluate.add_argument(
        "--train",
        type=Path,
        action="append",
        help="Rasa NLU YAML file or folder to train on (repeatable; default: content/nlu)",
    )
    evaluate.add_argument("--backend", choices=("embedded", "rasa"), default="embedded")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    evaluate.add_argument(
        "--threshold", type=float, default=None, help="confidence threshold (default: NLU_THRESHOLD)"
    )
    evaluate.set_defaults(handler=_evaluate)

    parse = sub.add_parser("parse", help="classify one message and run the crisis check on it")
    parse.add_argument("text", help="the message")
    parse.add_argument("--backend", choices=("embedded", "rasa"), default="embedded")
    parse.add_argument("--rasa-url", default=None, help="Rasa to ask (default: RASA_URL)")
    parse.set_defaults(handler=_parse)


def _progress(message: str) -> None:
    print(f"nlu: {message}", file=sys.stderr, flush=True)


def _load(args: argparse.Namespace) -> tuple[data.NluData, data.NluData]:
    train = data.load(args.train) if args.train else data.load_project(PROJECT_ROOT / "content")
    test = data.load(args.test)
    return train, test


def _evaluate(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    threshold = settings.nlu_threshold if args.threshold is None else args.threshold
    try:
        train, test = _load(args)
    except data.NluDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _progress(
        f"training on {len(train.examples)} examples of {len(train.intents)} intents, "
        f"testing on {len(test.examples)}"
    )
    if args.backend == "embedded":
        report = evaluate_embedded(train, test, threshold=threshold, progress=_progress)
    else:
        from chatbot.nlu.rasa_process import RasaUnavailable

        try:
            report = asyncio.run(_evaluate_rasa(args, train, test, threshold))
        except RasaUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    _print(report, args.json)
    return 0


async def _evaluate_rasa(
    args: argparse.Namespace, train: data.NluData, test: data.NluData, threshold: float
) -> Report:
    import tempfile

    from chatbot.nlu import rasa_process
    from chatbot.redis_server import free_port

    with tempfile.TemporaryDirectory(prefix="stodchat-nlu-") as tmp:
        train_file = None
        if args.train:
            # One file, so Rasa trains on exactly what the embedded model saw (entities and all reduced).
            train_file = Path(tmp) / "train.yml"
            train_file.write_text(data.dump(zip(train.labels, train.texts, strict=True)), encoding="utf-8")
        _progress("setting up Rasa's virtualenv (minutes the first time)")
        await asyncio.to_thread(rasa_process.setup)
        _progress("training Rasa (cached by data; DIET takes minutes)")
        started = time.perf_counter()
        model = await asyncio.to_thread(rasa_process.train, train_file)
        train_seconds = time.perf_counter() - started
        _progress(f"starting rasa run --enable-api with {model.name}")
        with rasa_process.RasaServer(model, free_port(), Path(tmp) / "rasa.log") as server:
            await server.wait_ready()
            # No fallback here: a failing Rasa must fail the evaluation, not be scored as the embedded model.
            client = RasaClient(server.url, threshold=threshold, timeout=30.0)
            return await evaluate_remote(
                client.parse,
                train,
                test,
                backend="rasa",
                train_seconds=train_seconds,
                threshold=threshold,
                progress=_progress,
            )


def _print(report: Report, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print(report.to_text())


def _parse(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    started = time.perf_counter()
    model = EmbeddedModel.train(data.load_project(settings.content_dir))
    trained = time.perf_counter() - started

    async def run() -> dict[str, Any]:
        embedded = EmbeddedClassifier(model, settings.nlu_threshold)
        classifier: EmbeddedClassifier | RasaClassifier = embedded
        url = args.rasa_url or settings.rasa_url
        if args.backend == "rasa":
            if not url:
                raise SystemExit("error: --backend rasa needs --rasa-url or RASA_URL")
            client = RasaClient(url, threshold=settings.nlu_threshold, timeout=settings.rasa_timeout)
            classifier = RasaClassifier(client, embedded)
        try:
            prediction = await classifier.parse(args.text)
        finally:
            await classifier.aclose()
        crisis = CrisisDetector().check(args.text, prediction)
        return {
            "intent": prediction.intent,
            "confidence": round(prediction.confidence, 4),
            "confident": prediction.confident,
            "backend": prediction.backend,
            "ranking": [{"name": n, "confidence": round(c, 4)} for n, c in prediction.ranking],
            "crisis": crisis.crisis,
            "crisis_reason": crisis.reason,
            "train_seconds": round(trained, 2),
        }

    print(json.dumps(asyncio.run(run()), ensure_ascii=False, indent=2))
    return 0
