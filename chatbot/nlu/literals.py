"""Literal strings a regular expression's every match must contain, read from its parsed syntax.

A cheap prefilter for the crisis check (chatbot/nlu/crisis.py): a pattern none of whose required strings is
in a message cannot match it, so `str.__contains__` spares the regex engine. The reasoning, on the parse
tree of Python's own re module (re._parser), is conservative: where it cannot promise, it says None and
the pattern always runs. tests/chatbot/nlu/test_crisis.py checks every derived set against the syntax
with a separate checker, and that the check gives the same verdicts with and without the prefilter.
"""

from __future__ import annotations

import re
from re import _parser  # type: ignore[attr-defined]
from typing import Any

Needs = frozenset[str]

# Zero-width items (\b, ^, $): the characters either side of them are next to each other in a match.
_ZERO_WIDTH = frozenset({"AT"})
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})


def required(pattern: str) -> tuple[str, ...] | None:
    """Strings at least one of which every match of `pattern` contains (shortest form: none holds
    another of them), or None when the syntax promises nothing."""
    parsed = _parser.parse(pattern)
    if parsed.state.flags & re.IGNORECASE:  # a literal would stand for its other cases too
        return None
    needs = _sequence(parsed)
    if needs is None or "" in needs:
        return None
    return tuple(sorted(s for s in needs if not any(t != s and t in s for t in needs)))


def _sequence(items: Any) -> Needs | None:
    """A sequence: a run of literal characters is in every match, and so is whatever one of its parts
    needs; the most selective of these (longest shortest string, then fewest strings)."""
    best: Needs | None = None
    run: list[str] = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(av))
            continue
        if name in _ZERO_WIDTH:
            continue
        if run:
            best = _better(best, frozenset({"".join(run)}))
            run = []
        best = _better(best, _item(name, av))
    if run:
        best = _better(best, frozenset({"".join(run)}))
    return best


def _item(name: str, av: Any) -> Needs | None:
    if name == "SUBPATTERN":  # a group: (group, add_flags, del_flags, items)
        return None if av[1] & re.IGNORECASE else _sequence(av[-1])
    if name == "ATOMIC_GROUP":
        return _sequence(av)
    if name == "BRANCH":  # every alternative must need something; a match needs one of them
        alternatives = [_sequence(alternative) for alternative in av[1]]
        if any(needs is None for needs in alternatives):
            return None
        return frozenset().union(*alternatives)  # type: ignore[arg-type]
    if name in _REPEATS and av[0] >= 1:  # (min, max, items): at least once
        return _sequence(av[2])
    return None


def _better(a: Needs | None, b: Needs | None) -> Needs | None:
    if a is None or b is None:
        return a if b is None else b
    return b if (min(map(len, b)), -len(b)) > (min(map(len, a)), -len(a)) else a


class Prefilter:
    """Which of several patterns may match a text, from the required strings of each, in one pass.

    Each required string is indexed by one of its letter triples: a text holding the string holds that
    triple too, so the patterns whose bits `candidates` leaves out cannot match. A pattern without
    required strings, or with one shorter than three letters, is always a candidate. Bits are the
    patterns' positions, so ascending bits keep the patterns' order.
    """

    def __init__(self, needs: list[tuple[str, ...] | None]) -> None:
        self.needs = needs
        self._always = 0
        self._by_triple: dict[str, int] = {}
        for k, strings in enumerate(needs):
            if strings is None or min(map(len, strings)) < 3:
                self._always |= 1 << k
                continue
            for s in strings:
                triple = _triple(s)
                self._by_triple[triple] = self._by_triple.get(triple, 0) | 1 << k
        self._triples = frozenset(self._by_triple)

    def candidates(self, text: str) -> int:
        """A bit per pattern that may match `text` (a superset of those whose strings it holds)."""
        mask = self._always
        by_triple = self._by_triple
        for triple in self._triples.intersection(map("".join, zip(text, text[1:], text[2:], strict=False))):
            mask |= by_triple[triple]
        return mask

    def holds(self, k: int, text: str) -> bool:
        """Whether `text` holds one of pattern k's required strings (True when it has none)."""
        strings = self.needs[k]
        return strings is None or any(map(text.__contains__, strings))


def _triple(s: str) -> str:
    """The letter triple of `s` to index it by: the first without a space, if any."""
    triples = [s[i : i + 3] for i in range(len(s) - 2)]
    return next((t for t in triples if " " not in t), triples[0])
