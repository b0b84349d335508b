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


def _check(values: list[int], seed: int = 0) -> int:
    """A parity character over GF(32): Σ αⁱ·vᵢ with α = x, the check character weighted 1.

    In a field every wrong character changes the sum by αⁱ·(a+b) ≠ 0, and every swap of neighbours
    by αⁱ·(1+α)·(a+b) ≠ 0, so both are always caught (a plain Luhn mod 32 misses some swaps).
    """
    total = seed  # another seed, another kind of code (return codes): its check rejects this kind's codes
    for value in values:
        total = _gf_mul(total, 2) ^ value
    return _gf_mul(total, 2)


def check_character(values: list[int], seed: int = 0) -> int:
    """The check character of these values under `seed` (0: case codes); see _check."""
    return _check(values, seed)


# Digits no letter is read as (0 is O's, 1 is I's and L's).
_PLAIN_DIGITS = range(2, 10)


def new_code(seed: int = 0) -> str:
    """A new code of the kind `seed` names (0: case codes; return codes have their own), grouped.

    Its DATA_CHARS random values hold at least one digit from 2 to 9 (all but 0.4 % of random draws do;
    the loss is under 0.01 bits). So a code typed in lower case with spaces, and with O for 0 and l for
    1, still holds a digit and is told apart from five four-letter words (_looks_like_code); with 0 or 1
    as its only digits, it would not be."""
    while True:
        values = [secrets.randbelow(32) for _ in range(DATA_CHARS)]
        if any(v in _PLAIN_DIGITS for v in values):
            break
    text = "".join(ALPHABET[v] for v in [*values, _check(values, seed)])
    return "-".join(text[i : i + GROUP] for i in range(0, len(text), GROUP))


def new_case_code() -> str:
    return new_code()


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


def _looks_like_code(candidate: str) -> bool:
    """Five four-letter words ("vill inte leva utan dina") have a code's shape too; masking them would
    hide what a child wrote from the counsellor, a crisis message included. A code has a digit (every
    new one does), or is written as printed: with dashes, or in capitals."""
    return any(ch.isdigit() for ch in candidate) or "-" in candidate or candidate.isupper()


def find_case_code(text: str) -> str | None:
    """The first thing in `text` shaped like a case code (checked later by `normalize`), or None."""
    for match in _IN_TEXT.finditer(text):
        if _looks_like_code(match.group(0)):
            return match.group(0)
    return None


def redact_case_codes(text: str) -> str:
    """The text with every code-shaped part masked: a code is a bearer secret and must not be logged
    or kept in a conversation in clear (Redis holds only its hash)."""
    return _IN_TEXT.sub(lambda m: MASK if _looks_like_code(m.group(0)) else m.group(0), text)
