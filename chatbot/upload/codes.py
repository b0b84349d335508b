"""Case codes: 95 random bits in Crockford base32, grouped for typing, with a check character."""

from __future__ import annotations

import hashlib
import re
import secrets

from chatbot.upload.errors import MalformedCaseCode, MistypedCaseCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
DATA_CHARS = 19  # 19 × 5 = 95 bits: guessing a live code over HTTP is hopeless
GROUP = 4
# Crockford's decoding: letters people confuse with digits read as those digits; case does not matter.
_READ = {**{c: i for i, c in enumerate(ALPHABET)}, "O": 0, "I": 1, "L": 1}


def _gf_mul(a: int, b: int) -> int:
    """Multiplication in GF(32) modulo x⁵ + x² + 1."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0x20:
            a ^= 0x25
    return product


def _check(values: list[int]) -> int:
    """A parity character over GF(32): Σ αⁱ·vᵢ with α = x, the check character weighted 1.

    In a field every wrong character changes the sum by αⁱ·(a+b) ≠ 0, and every swap of neighbours
    by αⁱ·(1+α)·(a+b) ≠ 0, so both are always caught (a plain Luhn mod 32 misses some swaps).
    """
    total = 0
    for value in values:
        total = _gf_mul(total, 2) ^ value
    return _gf_mul(total, 2)


def new_case_code() -> str:
    values = [secrets.randbelow(32) for _ in range(DATA_CHARS)]
    text = "".join(ALPHABET[v] for v in [*values, _check(values)])
    return "-".join(text[i : i + GROUP] for i in range(0, len(text), GROUP))


def normalize(code: object) -> str:
    """The canonical form of what a child typed: upper case, no separators, confusable letters mapped."""
    if not isinstance(code, str) or len(code) > 64:
        raise MalformedCaseCode("a case code is 20 letters and digits, like ABCD-EFGH-JKMN-PQRS-TVWX")
    text = "".join(ch for ch in code.upper() if ch not in " -_.\t")
    if len(text) != DATA_CHARS + 1 or any(ch not in _READ for ch in text):
        raise MalformedCaseCode("a case code is 20 letters and digits, like ABCD-EFGH-JKMN-PQRS-TVWX")
    values = [_READ[ch] for ch in text]
    if _check(values[:-1]) != values[-1]:
        raise MistypedCaseCode("this case code has a typing mistake")
    canonical = "".join(ALPHABET[v] for v in values)
    return "-".join(canonical[i : i + GROUP] for i in range(0, len(canonical), GROUP))


def code_hash(code: str) -> str:
    """What Redis stores: a leaked dump must not reveal codes that let someone read a child's case."""
    return hashlib.sha256(normalize(code).encode()).hexdigest()


# A case code pasted into a chat message: five groups of four, joined by '-' or a space, or run together.
_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:[0-9A-Za-z]{4}[- ]?){4}[0-9A-Za-z]{4}(?![0-9A-Za-z])")
MASK = "####-####-####-####-####"


def find_case_code(text: str) -> str | None:
    """The first thing in `text` shaped like a case code (checked later by `normalize`), or None."""
    match = _IN_TEXT.search(text)
    return match.group(0) if match else None


def redact_case_codes(text: str) -> str:
    """The text with every code-shaped part masked: a code is a bearer secret and must not be logged
    or kept in a conversation in clear (Redis holds only its hash)."""
    return _IN_TEXT.sub(MASK, text)
