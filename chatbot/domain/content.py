"""The child-facing answers editors write in `content/answers/`, loaded into an immutable library.

An answer is a few short message bubbles and the buttons under the last one. A button either names
another answer (`goto`) or an intent (`intent`); both travel as a payload '/name', the convention of Rasa's
socket.io channel, and answer ids and intent names never collide (the content check enforces it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chatbot.domain.model import QuickReply, Reply


class ContentError(ValueError):
    """An answer file is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Button:
    label: str
    target: str
    """'/' and an answer id or an intent name: the payload the client sends back (Rasa's convention)."""


@dataclass(frozen=True)
class Answer:
    id: str
    bubbles: tuple[str, ...]
    buttons: tuple[Button, ...]
    intent: str | None
    source: Path

    def replies(self) -> list[Reply]:
        buttons = tuple(QuickReply(b.label, b.target) for b in self.buttons)
        last = len(self.bubbles) - 1
        return [
            Reply(text, buttons if i == last else (), intent=self.intent)
            for i, text in enumerate(self.bubbles)
        ]


class ContentLibrary:
    """All answers by id, plus an index from intent to answer."""

    def __init__(self, answers: Iterable[Answer]) -> None:
        self._by_id: dict[str, Answer] = {}
        self._by_intent: dict[str, Answer] = {}
        for answer in answers:
            if answer.id in self._by_id:
                raise ContentError(
                    f"{answer.source}: answer id {answer.id!r} is also in {self._by_id[answer.id].source}"
                )
            self._by_id[answer.id] = answer
            if answer.intent:
                self._by_intent[answer.intent] = answer

    @classmethod
    def load(cls, content_dir: Path) -> ContentLibrary:
        folder = content_dir / "answers"
        if not folder.is_dir():
            raise ContentError(f"no answers folder at {folder}")
        return cls(_parse(path) for path in sorted(folder.glob("*.yml")))

    def get(self, answer_id: str) -> Answer:
        try:
            return self._by_id[answer_id]
        except KeyError:
            raise ContentError(f"no answer with id {answer_id!r}") from None

    def for_intent(self, intent: str) -> Answer | None:
        return self._by_intent.get(intent)

    def __contains__(self, answer_id: object) -> bool:
        return answer_id in self._by_id

    @property
    def answers(self) -> Mapping[str, Answer]:
        return self._by_id


def _parse(path: Path) -> Answer:
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping with id, bubbles and buttons")
    answer_id = data.get("id")
    if not isinstance(answer_id, str) or not answer_id:
        raise ContentError(f"{path}: 'id' must be a non-empty string")
    bubbles = data.get("bubbles")
    if (
        not isinstance(bubbles, list)
        or not bubbles
        or not all(isinstance(b, str) and b.strip() for b in bubbles)
    ):
        raise ContentError(f"{path}: 'bubbles' must be a list of non-empty strings")
    buttons = []
    for i, raw in enumerate(data.get("buttons") or []):
        if not isinstance(raw, dict) or not isinstance(raw.get("label"), str):
            raise ContentError(f"{path}: buttons[{i}] needs a 'label'")
        if isinstance(raw.get("goto"), str):
            target = "/" + raw["goto"]
        elif isinstance(raw.get("intent"), str):
            target = "/" + raw["intent"]
        else:
            raise ContentError(f"{path}: buttons[{i}] needs 'goto' (an answer id) or 'intent'")
        buttons.append(Button(raw["label"], target))
    intent = data.get("intent")
    if intent is not None and not isinstance(intent, str):
        raise ContentError(f"{path}: 'intent' must be a string")
    return Answer(answer_id, tuple(b.strip() for b in bubbles), tuple(buttons), intent, path)
