"""Guideline-gate benchmark: how long the editors' gate takes as they type (docs/content.md's figures).

training   the wording classifier's training, once per process (wall and CPU)
check      one new sentence read, matched and scored, per language (p50 / p99 over many sentences)

  .venv/bin/python bench/gate.py
  .venv/bin/python bench/gate.py --sentences 400 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatbot.content.guidelines.rules import check_sentence
from chatbot.content.wording_bank import default_classifier

# Sentences no bank holds (a number makes each one new, so no cache can answer it).
_SENTENCES = {
    "sv": "Vi hjälper dig att anmäla kontot, steg {i}.",
    "en": "We can help you report the account, step {i}.",
}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sentences", type=int, default=200, help="sentences per language (default 200)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    wall, cpu = time.perf_counter(), time.process_time()
    default_classifier()
    figures: dict[str, object] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average": os.getloadavg()[0],
        "training_wall_s": round(time.perf_counter() - wall, 2),
        "training_cpu_s": round(time.process_time() - cpu, 2),
    }
    for language, template in _SENTENCES.items():
        timings = []
        for i in range(args.sentences):
            started = time.perf_counter()
            check_sentence(template.format(i=i), language)
            timings.append((time.perf_counter() - started) * 1000)
        figures[f"check_{language}_ms"] = {
            "p50": round(statistics.median(timings), 2),
            "p99": round(_percentile(timings, 0.99), 2),
        }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for name, value in figures.items():
        print(f"{name:18} {value}")


if __name__ == "__main__":
    main()
