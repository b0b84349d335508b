"""Training and test data in Rasa's NLU YAML format: parsed, validated, with errors that name file and line.

The format (Rasa 3.x):

    version: "3.1"
    nlu:
    - intent: greet
      examples: |
        - hej
        - hi

Entity annotations (`[Stockholm](city)`) are reduced to their text; `synonym`, `regex` and `lookup` items
are ignored, so any Rasa NLU file can be read. An example that appears under two intents is an error: no
model can learn it, and it usually means a mislabelled line.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

# `[text](entity)`, `[text]{"entity": ...}` and `[text][{...}]` annotations keep only their text.
_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\}|\[[^\]]*\])")
_INTENT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./+-]*$")
_IGNORED_ITEMS = ("synonym", "regex", "lookup")


class NluDataError(ValueError):
    """A data file is malformed; the message starts with `file:line:`."""


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    source: str
    """'file:line' where the example was written."""


@dataclass(frozen=True)
class NluData:
    """Examples in file order, without duplicates within an intent."""

    examples: tuple[Example, ...]

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    @property
    def labels(self) -> list[str]:
        return [e.intent for e in self.examples]

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    def counts(self) -> Mapping[str, int]:
        return Counter(self.labels)

    def digest(self) -> str:
        """A short hash of the examples, to key caches and name models."""
        h = hashlib.sha256()
        for e in self.examples:
            h.update(f"{e.intent}\t{e.text}\n".encode())
        return h.hexdigest()[:16]

    def without(self, intents: Iterable[str]) -> NluData:
        drop = set(intents)
        return NluData(tuple(e for e in self.examples if e.intent not in drop))


def load(paths: Sequence[Path] | Path) -> NluData:
    """Read files, or every `*.yml`/`*.yaml` at the top level of folders (sub-folders such as a held-out set
    are not read), and check them together."""
    if isinstance(paths, Path):
        paths = [paths]
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted([*path.glob("*.yml"), *path.glob("*.yaml")])
            if not found:
                raise NluDataError(f"{path}: no .yml files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise NluDataError(f"{path}: no such file or folder")
    examples: list[Example] = []
    for file in files:
        examples.extend(parse_file(file))
    return _combine(examples)


def load_project(content_dir: Path) -> NluData:
    """The project's training data: content/nlu/*.yml (never content/nlu/heldout/)."""
    return load(content_dir / "nlu")


def parse_file(path: Path) -> list[Example]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise NluDataError(f"{path}:1: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise NluDataError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_text(text, str(path))


def parse_text(text: str, name: str = "<text>") -> list[Example]:
    """Parse one document of Rasa NLU YAML; `name` is used in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise NluDataError(f"{name}:{line}: not valid YAML: {problem}") from None
    if root is None:
        raise NluDataError(f"{name}:1: the file is empty; expected `version` and `nlu`")
    if not isinstance(root, yaml.MappingNode):
        raise NluDataError(f"{name}:{_line(root)}: expected a mapping with `version` and `nlu`")
    top = _mapping(root)
    version = top.get("version")
    if version is not None:
        value = _scalar(version)
        if not isinstance(version, yaml.ScalarNode) or version.style not in ("'", '"'):
            raise NluDataError(f'{name}:{_line(version)}: `version` must be a quoted string, e.g. "3.1"')
        if not value.startswith(("2.", "3.")):
            raise NluDataError(f'{name}:{_line(version)}: unsupported version {value!r}; use "3.1"')
    nlu = top.get("nlu")
    if nlu is None:
        raise NluDataError(f"{name}:{_line(root)}: no `nlu:` section")
    if not isinstance(nlu, yaml.SequenceNode):
        raise NluDataError(f"{name}:{_line(nlu)}: `nlu` must be a list of `- intent:` items")

    examples: list[Example] = []
    for item in nlu.value:
        if not isinstance(item, yaml.MappingNode):
            raise NluDataError(
                f"{name}:{_line(item)}: each `nlu` item must be a mapping like `- intent: NAME`"
            )
        fields = _mapping(item)
        if any(key in fields for key in _IGNORED_ITEMS):
            continue
        if "intent" not in fields:
            raise NluDataError(f"{name}:{_line(item)}: item has no `intent:` (keys: {', '.join(fields)})")
        intent_node = fields["intent"]
        intent = _scalar(intent_node).strip() if isinstance(intent_node, yaml.ScalarNode) else ""
        if not _INTENT_NAME.match(intent):
            raise NluDataError(f"{name}:{_line(intent_node)}: invalid intent name {intent!r}")
        body = fields.get("examples")
        if body is None:
            raise NluDataError(f"{name}:{_line(item)}: intent {intent!r} has no `examples:`")
        found = list(_examples(body, intent, name))
        if not found:
            raise NluDataError(f"{name}:{_line(body)}: intent {intent!r} has no examples")
        examples.extend(found)
    return examples


def _examples(node: yaml.Node, intent: str, name: str) -> Iterable[Example]:
    if isinstance(node, yaml.ScalarNode):
        # A block scalar's content starts on the line after `examples: |`.
        first = node.start_mark.line + (1 if node.style in ("|", ">") else 0)
        for offset, raw in enumerate(node.value.splitlines()):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not line.startswith("- "):
                raise NluDataError(
                    f"{name}:{first + offset + 1}: an example must start with '- ', got {line[:40]!r}"
                )
            yield _example(line[2:], intent, f"{name}:{first + offset + 1}")
    elif isinstance(node, yaml.SequenceNode):
        # The long form: `examples:` as a list of `- text: ...` (with metadata).
        for entry in node.value:
            text_node = _mapping(entry).get("text") if isinstance(entry, yaml.MappingNode) else entry
            if not isinstance(text_node, yaml.ScalarNode):
                raise NluDataError(f"{name}:{_line(entry)}: an example needs a `text:`")
            yield _example(text_node.value, intent, f"{name}:{_line(text_node)}")
    else:
        raise NluDataError(f"{name}:{_line(node)}: `examples` must be a `|` block of '- ' lines")


def _example(raw: str, intent: str, source: str) -> Example:
    text = _ENTITY.sub(r"\1", raw).strip()
    if not text:
        raise NluDataError(f"{source}: empty example")
    return Example(text, intent, source)


def _combine(examples: Iterable[Example]) -> NluData:
    kept: list[Example] = []
    seen: dict[str, Example] = {}
    for example in examples:
        key = " ".join(example.text.casefold().split())
        earlier = seen.get(key)
        if earlier is None:
            seen[key] = example
            kept.append(example)
        elif earlier.intent != example.intent:
            raise NluDataError(
                f"{example.source}: {example.text!r} is under {example.intent!r} here "
                f"and under {earlier.intent!r} at {earlier.source}"
            )
    if not kept:
        raise NluDataError("no examples found")
    return NluData(tuple(kept))


def _mapping(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    return {_scalar(k): v for k, v in node.value}


def _scalar(node: yaml.Node) -> str:
    return node.value if isinstance(node, yaml.ScalarNode) else ""


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def dump(examples: Iterable[tuple[str, str]]) -> str:
    """Rasa NLU YAML for (intent, text) pairs, grouped by intent in first-seen order."""
    grouped: dict[str, list[str]] = {}
    for intent, text in examples:
        grouped.setdefault(intent, []).append(" ".join(text.split()))
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in grouped.items():
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {t}" for t in texts)
    return "\n".join(lines) + "\n"
