"""What changed in a Swedish source text since a translation was made from it: a word-level diff."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

Op = Literal["same", "added", "removed"]

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Piece:
    op: Op
    text: str


def word_diff(old: str, new: str) -> list[Piece]:
    """The new text as pieces kept, added or removed against the old, words and spaces kept as written;
    neighbouring pieces of the same kind are joined."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    pieces: list[Piece] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _add(pieces, "same", "".join(a[i1:i2]))
            continue
        if tag in ("delete", "replace"):
            _add(pieces, "removed", "".join(a[i1:i2]))
        if tag in ("insert", "replace"):
            _add(pieces, "added", "".join(b[j1:j2]))
    return pieces


def _add(pieces: list[Piece], op: Op, text: str) -> None:
    if not text:
        return
    if pieces and pieces[-1].op == op:
        pieces[-1] = Piece(op, pieces[-1].text + text)
    else:
        pieces.append(Piece(op, text))
