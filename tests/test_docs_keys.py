"""Every Redis key and channel the docs name in backticks is one the key helpers can produce."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

from chatbot.store import keys as chatbot_keys
from chatbot.store.migrate_keys import renamed
from console.store import keys as console_keys

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

# A placeholder: `<id>` in the docs, HOLE in what a helper is called with.
PLACEHOLDER = re.compile(r"<[^<>]*>")
HOLE = "\x00"
SAMPLE = "x1"
CODE_SPAN = re.compile(r"`([^`\n]+)`")
NAME = re.compile(r"(?<![\w.:-])sc:[^\s`]+")

# Names from before the hash tags, written on purpose where the docs explain the migration; each must
# still be one `python -m chatbot migrate-keys` renames to a current name.
HISTORICAL = {("docs/deployment.md", "sc:conv:{<id>}")}


def helper_outputs() -> set[str]:
    """What every key helper returns for a placeholder argument, and every key and channel constant."""
    outputs: set[str] = set()
    for module in (chatbot_keys, console_keys):
        for value in vars(module).values():
            if isinstance(value, str) and value.startswith(chatbot_keys.PREFIX + ":"):
                outputs.add(value)
            elif inspect.isfunction(value) and _defined_in(value, module):
                made = value(*[HOLE] * len(inspect.signature(value).parameters))
                outputs.update(made if isinstance(made, tuple) else [made])
    return outputs


def _defined_in(function: object, module: ModuleType) -> bool:
    return getattr(function, "__module__", None) == module.__name__


def _regex(name: str, hole: str, fill: str) -> re.Pattern[str]:
    """`name` as a pattern: each hole matches `fill`, a trailing `…` any continuation."""
    prefix = name.endswith("…")
    parts = re.split(hole, name.removesuffix("…"))
    return re.compile(fill.join(re.escape(part) for part in parts) + (".*" if prefix else ""))


def is_current(doc_name: str, outputs: set[str]) -> bool:
    """True when the docs' name (`<…>` placeholders, maybe a trailing `…`) is one a helper produces."""
    doc_sample = PLACEHOLDER.sub(SAMPLE, doc_name)
    doc_pattern = _regex(doc_name, PLACEHOLDER.pattern, ".+")
    for output in outputs:
        # A helper's argument fills a part of the name, never a hash tag's braces.
        if _regex(output, HOLE, "[^{}]+").fullmatch(doc_sample):
            return True
        if doc_pattern.fullmatch(output.replace(HOLE, SAMPLE)):
            return True
    return False


def doc_names() -> list[tuple[str, int, str]]:
    found = []
    for path in DOCS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for span in CODE_SPAN.findall(line):
                for name in NAME.findall(span):
                    found.append((path.relative_to(ROOT).as_posix(), number, name))
    return found


def test_every_key_named_in_the_docs_is_a_current_one() -> None:
    outputs = helper_outputs()
    names = doc_names()
    assert len(names) > 50, "the docs name the keys; finding few means the scan broke"
    stale = [
        f"{path}:{number}: `{name}`"
        for path, number, name in names
        if (path, name) not in HISTORICAL and not is_current(name, outputs)
    ]
    assert not stale, "names no key helper produces:\n" + "\n".join(stale)


def test_historical_names_are_still_written_and_migrate_to_current_ones() -> None:
    outputs = helper_outputs()
    written = {(path, name) for path, _, name in doc_names()}
    for path, old in sorted(HISTORICAL):
        assert (path, old) in written, f"{old} is no longer in {path}: drop it from HISTORICAL"
        new = renamed(PLACEHOLDER.sub(SAMPLE, old))
        assert new is not None and is_current(new, outputs), f"{old} does not migrate to a current name"


@pytest.mark.parametrize(
    "name",
    ["sc:left", "sc:conv:<id>", "sc:tr:edits", "sc:content:schedules", "sc:{chat}:lef", "sc:{tr}:left"],
)
def test_old_and_wrong_names_are_refused(name: str) -> None:
    assert not is_current(name, helper_outputs())


@pytest.mark.parametrize(
    "name",
    [
        "sc:{chat}:left",
        "sc:{chat}:conv:<id>",
        "sc:{staff}:staff:loginfail:pair:<subject>:<hmac>",
        "sc:{flood}:flood:code:<hash>",
        "sc:notify:left",
        "sc:staff:revoked",
        "sc:{<group>}:…",
    ],
)
def test_current_names_are_accepted(name: str) -> None:
    assert is_current(name, helper_outputs())
