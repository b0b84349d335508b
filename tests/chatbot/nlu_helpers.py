"""Shared data for the intent-model tests: the project's data, the held-out sets, a synthetic large set."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

from chatbot.nlu import data
from chatbot.nlu.embedded import EmbeddedModel
from chatbot.settings import PROJECT_ROOT

NLU_DIR = PROJECT_ROOT / "content" / "nlu"
HELDOUT = NLU_DIR / "heldout" / "test.yml"
CRISIS_LIST = NLU_DIR / "heldout" / "crisis.yml"
LIFE_LIST = NLU_DIR / "heldout" / "life.yml"
UNSEEN_LIST = NLU_DIR / "heldout" / "unseen.yml"

# The intent taxonomy is a contract (shared intents.md): these names, no more, no fewer.
INTENTS = {
    "greet", "goodbye", "thanks", "affirm", "deny", "ask_human", "takedown_help", "upload_help",
    "sextortion", "grooming", "safety_tips", "report_police", "anonymity", "opening_hours",
    "self_blame", "crisis", "case_status", "out_of_scope",
}  # fmt: skip


@cache
def project_data() -> data.NluData:
    return data.load_project(PROJECT_ROOT / "content")


@cache
def heldout() -> data.NluData:
    return data.load(HELDOUT)


@cache
def crisis_list() -> data.NluData:
    return data.load(CRISIS_LIST)


@cache
def life_list() -> data.NluData:
    return data.load(LIFE_LIST)


@cache
def unseen_list() -> data.NluData:
    return data.load(UNSEEN_LIST)


@cache
def project_model() -> EmbeddedModel:
    return EmbeddedModel.train(project_data())


_SYLLABLES = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "do", "ja", "ku", "se", "bo", "fi"]


def synthetic(intents: int, per_intent: int, seed: int = 7) -> tuple[str, str]:
    """A train and a test file (Rasa NLU YAML) with many intents: each intent has its own keywords,
    mixed with shared filler words and typos, so the task is learnable but not trivial."""
    rng = random.Random(seed)
    filler = ["".join(rng.choices(_SYLLABLES, k=2)) for _ in range(60)]
    train: list[tuple[str, str]] = []
    test: list[tuple[str, str]] = []
    for n in range(intents):
        name = f"intent_{n:03d}"
        keywords = ["".join(rng.choices(_SYLLABLES, k=3)) for _ in range(4)]
        for i in range(per_intent + per_intent // 4):
            words = rng.sample(filler, 3) + rng.sample(keywords, 2)
            rng.shuffle(words)
            text = " ".join(words)
            if rng.random() < 0.3:  # a typo: drop one letter
                cut = rng.randrange(len(text))
                text = text[:cut] + text[cut + 1 :]
            (train if i < per_intent else test).append((name, text))
    # Variants can collide across intents by chance; keep the first label (the loader rejects conflicts).
    return data.dump(_unique(train)), data.dump(_unique(test))


def _unique(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for intent, text in pairs:
        key = " ".join(text.casefold().split())
        if key not in seen:
            seen.add(key)
            out.append((intent, text))
    return out


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
