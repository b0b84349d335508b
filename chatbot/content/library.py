"""The child-facing answers editors write in `content/answers/`, loaded into an immutable library.

An answer is a few short message bubbles and the buttons under the last one. A button either names
another answer (`goto`) or an intent (`intent`); both travel as a payload '/name', the convention of Rasa's
socket.io channel, and answer ids and intent names never collide (the content check enforces it).

Bubbles may hold named placeholders ('{position}') that the bot fills at run time; each answer declares
the ones it takes. Swedish is the source language; translations come from gettext catalogs
(`chatbot.content.catalogs`) and are used only while they match the current Swedish text.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from chatbot.content.catalogs import SOURCE_LOCALE, ContentCatalogs
from chatbot.model import QuickReply, Reply

# libyaml's loader when installed (about 20 times faster); both only build plain data (safe loaders).
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KINDS = ("answer", "dialogue", "notice", "canned")
"""answer: reached by buttons or intents; dialogue: shown by the bot by id (welcome, fallback, ...);
notice: a short system message in the flow of a hand-off, exempt from the next-step rules;
canned: a counsellor's ready-made reply, offered in the console and sent by a person, never by the bot
(no buttons, no intent; the person sending it is the way to a person)."""

_FIELDS = {"id", "intent", "kind", "placeholders", "bubbles", "buttons"}


class ContentError(ValueError):
    """An answer file is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Button:
    label: str
    target: str
    """'/' and an answer id or an intent name: the payload the client sends back (Rasa's convention)."""
    via: str = "goto"
    """'goto' when target names an answer, 'intent' when it names an intent."""

    @property
    def name(self) -> str:
        return self.target[1:]


@dataclass(frozen=True)
class Message:
    """One translatable string of an answer, keyed by a context that is stable while its text changes."""

    context: str
    text: str
    line: int = 0


# Locales whose rendering an answer keeps (the widget offers a handful).
_KEPT_LOCALES = 16


@dataclass(frozen=True)
class Answer:
    id: str
    bubbles: tuple[str, ...]
    buttons: tuple[Button, ...]
    intent: str | None
    source: Path
    kind: str = "answer"
    placeholders: tuple[str, ...] = ()
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    catalogs: ContentCatalogs | None = field(default=None, compare=False, repr=False)
    version: int | None = field(default=None, compare=False, repr=False)
    """The published content version this answer belongs to (chatbot/domain/content_versions.py)."""
    # The answer in each locale asked for: (bubbles, buttons), worked out once. An answer and its
    # catalogs never change (a new content version or translation is a new Answer, and replace() starts
    # this afresh as it is not an init field); at most _KEPT_LOCALES locales are kept.
    _rendered: dict[str | None, tuple[tuple[str, ...], tuple[QuickReply, ...]]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def messages(self) -> list[Message]:
        """Every translatable string, bubbles first, in the order the child sees them."""
        found = [
            Message(self.bubble_context(i), text, self.lines.get(self.bubble_context(i), 0))
            for i, text in enumerate(self.bubbles)
        ]
        for button in self.buttons:
            context = self.button_context(button)
            found.append(Message(context, button.label, self.lines.get(context, 0)))
        return found

    def bubble_context(self, index: int) -> str:
        return f"{self.id}:bubble:{index}"

    def button_context(self, button: Button) -> str:
        return f"{self.id}:button:{button.name}"

    def localized(self, locale: str | None) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """(locale used, bubbles, button labels): the first locale of the chain that has a current
        translation of *every* string of this answer; never a mix of languages within one answer."""
        if self.catalogs is not None:
            for candidate in self.catalogs.chain(locale):
                if candidate == SOURCE_LOCALE:
                    break
                texts = [self.catalogs.lookup(candidate, m.context, m.text) for m in self.messages()]
                if all(
                    t is not None and _fields(t) == _fields(m.text)
                    for t, m in zip(texts, self.messages(), strict=True)
                ):
                    done = [t for t in texts if t is not None]
                    return candidate, tuple(done[: len(self.bubbles)]), tuple(done[len(self.bubbles) :])
        return SOURCE_LOCALE, self.bubbles, tuple(b.label for b in self.buttons)

    def replies(self, locale: str | None = None, **params: object) -> list[Reply]:
        """The answer as chat messages in `locale` (or the fallback), placeholders filled from params."""
        missing = [name for name in self.placeholders if name not in params]
        if missing:
            raise ContentError(f"answer {self.id!r} needs {', '.join(missing)} to be filled in")
        rendered = self._rendered.get(locale)
        if rendered is None:
            _, bubbles, labels = self.localized(locale)
            buttons = tuple(
                QuickReply(label, b.target) for label, b in zip(labels, self.buttons, strict=True)
            )
            # With no placeholders, each bubble's text is final ("{{" already "{").
            rendered = (bubbles if self.placeholders else tuple(t.format_map({}) for t in bubbles), buttons)
            if len(self._rendered) < _KEPT_LOCALES:
                self._rendered[locale] = rendered
        bubbles, buttons = rendered
        values = {name: str(params[name]) for name in self.placeholders}
        last = len(bubbles) - 1
        return [
            Reply(
                text.format_map(values) if values else text,
                buttons if i == last else (),
                intent=self.intent,
                answer=self.id,
                version=self.version,
            )
            for i, text in enumerate(bubbles)
        ]


class ContentLibrary:
    """All answers by id, plus an index from intent to answer."""

    def __init__(self, answers: Iterable[Answer], catalogs: ContentCatalogs | None = None) -> None:
        self._by_id: dict[str, Answer] = {}
        self._by_intent: dict[str, Answer] = {}
        self.catalogs = catalogs
        for answer in answers:
            if catalogs is not None:
                answer = replace(answer, catalogs=catalogs)
            if answer.id in self._by_id:
                raise ContentError(
                    f"{answer.source}: answer id {answer.id!r} is also in {self._by_id[answer.id].source}"
                )
            self._by_id[answer.id] = answer
            if answer.intent:
                if answer.intent in self._by_intent:
                    other = self._by_intent[answer.intent].source
                    raise ContentError(
                        f"{answer.source}: intent {answer.intent!r} is also answered in {other}"
                    )
                self._by_intent[answer.intent] = answer

    @classmethod
    def load(
        cls,
        content_dir: Path,
        locales_dir: Path | None = None,
        fallback_locale: str = SOURCE_LOCALE,
    ) -> ContentLibrary:
        folder = content_dir / "answers"
        if not folder.is_dir():
            raise ContentError(f"no answers folder at {folder}")
        answers = [
            parse_answer(path.read_text(encoding="utf-8"), path) for path in sorted(folder.glob("*.yml"))
        ]
        catalogs = ContentCatalogs.load(locales_dir, fallback_locale) if locales_dir is not None else None
        return cls(answers, catalogs)

    @property
    def fallback_locale(self) -> str:
        """The language an answer is shown in when the child's has no current translation of it (then Swedish)."""
        return self.catalogs.fallback_locale if self.catalogs is not None else SOURCE_LOCALE

    def get(self, answer_id: str) -> Answer:
        try:
            return self._by_id[answer_id]
        except KeyError:
            raise ContentError(f"no answer with id {answer_id!r}") from None

    def for_intent(self, intent: str) -> Answer | None:
        return self._by_intent.get(intent)

    def replies(self, answer_id: str, locale: str | None = None, **params: object) -> list[Reply]:
        return self.get(answer_id).replies(locale, **params)

    def relabel(self, buttons: tuple[QuickReply, ...], locale: str) -> tuple[QuickReply, ...]:
        """Buttons shown under an answer, with their labels in `locale` (the child switched language).

        The answer is the one with exactly these payloads whose labels, in any language, are these
        titles (one payload has different labels in different answers); unknown buttons stay as they are.
        """
        payloads = tuple(b.payload for b in buttons)
        titles = tuple(b.title for b in buttons)
        locales = [SOURCE_LOCALE, *(self.catalogs.locales if self.catalogs else ())]
        for answer in self._by_id.values():
            if tuple(b.target for b in answer.buttons) != payloads:
                continue
            if any(answer.localized(code)[2] == titles for code in locales):
                labels = answer.localized(locale)[2]
                return tuple(QuickReply(label, b.payload) for label, b in zip(labels, buttons, strict=True))
        return buttons

    def __contains__(self, answer_id: object) -> bool:
        return answer_id in self._by_id

    @property
    def answers(self) -> Mapping[str, Answer]:
        return self._by_id


def placeholder_names(text: str) -> list[str]:
    """The placeholders of a text in order; raises ValueError for braces that are not placeholders."""
    names = []
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        # Only plain names: '{x.attr}' or '{x[0]}' would let a text reach into the objects passed in.
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"'{{{name}}}' is not a plain placeholder like {{position}}")
        names.append(name)
    return names


def _fields(text: str) -> set[str]:
    try:
        return set(placeholder_names(text))
    except ValueError:
        return {"\0invalid"}


def parse_answer(text: str, path: Path) -> Answer:
    """One answer file's text to an Answer; ContentError names the file and the field that is wrong."""
    try:
        root = yaml.compose(text, Loader=_Loader)
        data: Any = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a safe loader
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping with id, bubbles and buttons")
    unknown = sorted(str(k) for k in data if k not in _FIELDS)
    if unknown:
        raise ContentError(
            f"{path}: unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(_FIELDS))})"
        )
    answer_id = data.get("id")
    if not isinstance(answer_id, str) or not answer_id.isidentifier():
        raise ContentError(f"{path}: 'id' must be a name of letters, digits and '_' (got {answer_id!r})")
    bubbles = data.get("bubbles")
    if (
        not isinstance(bubbles, list)
        or not bubbles
        or not all(isinstance(b, str) and b.strip() for b in bubbles)
    ):
        raise ContentError(f"{path}: 'bubbles' must be a list of non-empty strings")
    for i, bubble in enumerate(bubbles):
        try:
            placeholder_names(bubble)
        except ValueError as exc:
            raise ContentError(
                f"{path}: bubbles[{i}]: {exc}; write {{{{ and }}}} for a literal brace"
            ) from None
    buttons: list[Button] = []
    raw_buttons = data.get("buttons") or []
    if not isinstance(raw_buttons, list):
        raise ContentError(f"{path}: 'buttons' must be a list")
    for i, raw in enumerate(raw_buttons):
        if not isinstance(raw, dict) or not isinstance(raw.get("label"), str) or not raw["label"].strip():
            raise ContentError(f"{path}: buttons[{i}] needs a 'label'")
        if isinstance(raw.get("goto"), str):
            button = Button(raw["label"].strip(), "/" + raw["goto"], "goto")
        elif isinstance(raw.get("intent"), str):
            button = Button(raw["label"].strip(), "/" + raw["intent"], "intent")
        else:
            raise ContentError(f"{path}: buttons[{i}] needs 'goto' (an answer id) or 'intent'")
        if any(b.target == button.target for b in buttons):
            raise ContentError(f"{path}: buttons[{i}] leads to {button.name!r} like an earlier button")
        buttons.append(button)
    intent = data.get("intent")
    if intent is not None and not isinstance(intent, str):
        raise ContentError(f"{path}: 'intent' must be a string")
    kind = data.get("kind", "answer")
    if kind not in KINDS:
        raise ContentError(f"{path}: 'kind' must be one of {', '.join(KINDS)} (got {kind!r})")
    placeholders = data.get("placeholders") or []
    if not isinstance(placeholders, list) or not all(
        isinstance(p, str) and p.isidentifier() for p in placeholders
    ):
        raise ContentError(f"{path}: 'placeholders' must be a list of names, e.g. [position, wait]")
    answer = Answer(
        answer_id,
        tuple(b.strip() for b in bubbles),
        tuple(buttons),
        intent,
        path,
        kind,
        tuple(placeholders),
    )
    return replace(answer, lines=_lines(root, answer))


def _lines(root: yaml.Node | None, answer: Answer) -> dict[str, int]:
    """Line of each translatable string in the file, for translators' '#:' references."""
    lines: dict[str, int] = {}
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key, value in root.value:
        if key.value == "bubbles" and isinstance(value, yaml.SequenceNode):
            for i, node in enumerate(value.value):
                lines[answer.bubble_context(i)] = node.start_mark.line + 1
        if key.value == "buttons" and isinstance(value, yaml.SequenceNode):
            for button, node in zip(answer.buttons, value.value, strict=False):
                lines[answer.button_context(button)] = node.start_mark.line + 1
    return lines
