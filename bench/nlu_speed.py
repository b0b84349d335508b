"""The NLU's CPU per message: `Nlu.understand` (intent, crisis check, language guess) as the gateway calls it.

Process CPU time per message (time.process_time, so the figure does not depend on what else the machine
runs), warm, over every held-out message (content/nlu/heldout/*.yml and heldout/ar/*.yml) and over one
benchmark message, several repetitions; the median repetition is reported. Also the parts: predict,
scores, the crisis check and the language guess.

  .venv/bin/python bench/nlu_speed.py                         # this tree
  .venv/bin/python bench/nlu_speed.py --root /path/to/other   # another checkout (e.g. main), same venv
  .venv/bin/python bench/nlu_speed.py --against /path/to/main --rounds 5
      # both trees, one process per tree and round, alternating, so both see the same machine
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
MESSAGE = "hej, jag vet inte vad jag ska göra"
THRESHOLD = 0.6


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _per_message_us(run: Callable[[], None], count: int, repetitions: int) -> float:
    """Median over `repetitions` of the process CPU time of `run` (which handles `count` messages)."""
    run()  # warm-up
    samples = []
    for _ in range(repetitions):
        started = time.process_time()
        run()
        samples.append((time.process_time() - started) / count * 1e6)
    return statistics.median(samples)


def measure(root: Path, repetitions: int) -> dict[str, Any]:
    """The figures of the tree at `root` (imported from there, so another checkout can be measured)."""
    sys.path.insert(0, str(root))
    data = importlib.import_module("chatbot.nlu.data")
    classifier_module = importlib.import_module("chatbot.nlu.classifier")
    embedded = importlib.import_module("chatbot.nlu.embedded")
    language = importlib.import_module("chatbot.nlu.language")
    service = importlib.import_module("chatbot.nlu.service")
    assert Path(service.__file__).resolve().is_relative_to(root.resolve()), service.__file__

    training = data.load_project(root / "content")
    heldout_dir = root / "content" / "nlu" / "heldout"
    texts = [
        example.text
        for path in sorted([*heldout_dir.glob("*.yml"), *heldout_dir.glob("ar/*.yml")])
        for example in data.load(path).examples
    ]
    model = embedded.EmbeddedModel.train(training)
    nlu = service.Nlu(
        classifier_module.EmbeddedClassifier(model, THRESHOLD),
        languages=language.LanguageGuesser(training.texts),
    )
    loop = asyncio.new_event_loop()

    def understand_all(messages: list[str]) -> Callable[[], None]:
        async def go() -> None:
            for text in messages:
                await nlu.understand(text)

        return lambda: loop.run_until_complete(go())

    # Copies of the benchmark message: a fresh text object each time, as each message from the wire is
    # (the normalise() cache keys on the object).
    singles = [MESSAGE.encode().decode() for _ in range(len(texts))]

    def each(call: Callable[[str], object], messages: list[str]) -> Callable[[], None]:
        return lambda: [call(t) for t in messages] and None

    figures = {
        "messages": len(texts),
        "understand_heldout_us": _per_message_us(understand_all(texts), len(texts), repetitions),
        "understand_message_us": _per_message_us(understand_all(singles), len(singles), repetitions),
        "predict_heldout_us": _per_message_us(each(model.predict, texts), len(texts), repetitions),
        "scores_heldout_us": _per_message_us(each(model.scores, texts), len(texts), repetitions),
        "crisis_heldout_us": _per_message_us(each(nlu.crisis.check_text, texts), len(texts), repetitions),
        "language_heldout_us": _per_message_us(each(nlu.languages.guess, texts), len(texts), repetitions),
        "predict_message_us": _per_message_us(each(model.predict, singles), len(singles), repetitions),
        "crisis_message_us": _per_message_us(each(nlu.crisis.check_text, singles), len(singles), repetitions),
        "language_message_us": _per_message_us(each(nlu.languages.guess, singles), len(singles), repetitions),
    }
    loop.close()
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()}


def compare(base: Path, rounds: int, repetitions: int) -> dict[str, Any]:
    """Both trees, one fresh process each per round, alternating."""
    runs: dict[str, list[dict[str, Any]]] = {"base": [], "this": []}
    for k in range(rounds):
        for label, root in (("base", base), ("this", HERE)):
            say(f"round {k + 1}/{rounds}: {label}")
            out = subprocess.run(
                [sys.executable, __file__, "--root", str(root), "--repetitions", str(repetitions), "--json"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs[label].append(json.loads(out))
    keys = [k for k in runs["this"][0] if k.endswith("_us")]
    table = {}
    for key in keys:
        before = statistics.median(r[key] for r in runs["base"])
        after = statistics.median(r[key] for r in runs["this"])
        table[key] = {"before": before, "after": after, "change": f"{(after - before) / before:+.0%}"}
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--root", type=Path, default=HERE)
    parser.add_argument("--against", type=Path, help="another checkout to compare with (alternating)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.against:
        result: dict[str, Any] = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
            "load_average": os.getloadavg(),
            "per_message_cpu_us": compare(args.against, args.rounds, args.repetitions),
        }
    else:
        result = measure(args.root, args.repetitions)
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
