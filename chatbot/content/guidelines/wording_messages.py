"""The wording gate's own sentences for the editor (content/guidelines/gate_messages.yml), filled in."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

MESSAGES_FILE = Path(__file__).resolve().parents[3] / "content" / "guidelines" / "gate_messages.yml"
KEYS = ("unsure", "classifier")


class MessagesError(ValueError):
    """gate_messages.yml lacks a message or is not a mapping of texts."""


@cache
def messages(path: Path = MESSAGES_FILE) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or any(not isinstance(data.get(k), str) for k in KEYS):
        raise MessagesError(f"{path}: expected the texts {', '.join(KEYS)}")
    return {k: str(data[k]) for k in KEYS}


def message(key: str, **fields: str) -> str:
    return messages()[key].format(**fields)
